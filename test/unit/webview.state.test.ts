// The panel page's state updates (src/webview/state.ts) and its t() helper: pure, no DOM.
import { afterEach, describe, expect, it } from 'vitest';
import { configureL10n, configureL10nFromAttribute, formatNumber, setNumberLocale, t } from '../../src/webview/l10n';
import type { MemoryView, PanelQuery } from '../../src/webview/protocol';
import * as S from '../../src/webview/state';

const mem = (id: string): MemoryView => ({ id, text: `memory ${id}`, status: 'active', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', source: { kind: 'manual' }, tags: [], pinned: false });
const q = (over: Partial<PanelQuery> = {}): PanelQuery => ({ text: '', status: 'active', offset: 0, limit: 100, ...over });
const stateMsg = (items: MemoryView[], offset: number, total: number, query = q()): S.StateMessage => ({
  type: 'state',
  query: { ...query, offset },
  items,
  total,
  counts: { active: total, superseded: 0, deleted: 0 },
  offset,
  pending: [],
});

describe('panel state updates', () => {
  it('takes the first state, appends the next page, drops a gap and answers to an older query', () => {
    let s = S.initialState();
    s = S.onState(s, stateMsg([mem('a'), mem('b')], 0, 4, q({ text: 'x' })));
    expect(s.received).toBe(true);
    expect(s.query.text).toBe('x'); // the host's query wins on the first state
    const firstItems = s.items;
    s = S.update(s, { type: 'loadMore' });
    expect(s.loadingMore).toBe(true);
    expect(S.nextPageQuery(s)).toBeUndefined(); // one page at a time
    s = S.onState(s, stateMsg([mem('c'), mem('d')], 2, 4, q({ text: 'x' })));
    expect(s.items.map((m) => m.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(s.items[0]).toBe(firstItems[0]); // the rows shown stay the same objects: the list appends
    expect(s.loadingMore).toBe(false);
    expect(S.onState(s, stateMsg([mem('z')], 9, 10, q({ text: 'x' })))).toBe(s); // a gap
    const typed = S.update(s, { type: 'setQuery', patch: { text: 'y' }, typed: true });
    expect(S.onState(typed, stateMsg([mem('old')], 0, 1, q({ text: 'x' })))).toBe(typed); // stale answer
  });

  it('keeps keyboard focus on the same memory across a refresh', () => {
    let s = S.onState(S.initialState(), stateMsg([mem('a'), mem('b'), mem('c')], 0, 3));
    s = S.update(s, { type: 'setActive', index: 2 });
    s = S.onState(s, stateMsg([mem('new'), mem('a'), mem('b'), mem('c')], 0, 4));
    expect(s.items[s.activeIndex]!.id).toBe('c');
    s = S.onState(s, stateMsg([mem('a')], 0, 1));
    expect(s.activeIndex).toBe(0); // gone: the nearest row that is left
  });

  it('selects, edits, deselects; a history for another memory is ignored', () => {
    let s = S.onState(S.initialState(), stateMsg([mem('a'), mem('b')], 0, 2));
    s = S.update(s, { type: 'select', id: 'a' });
    s = S.update(s, { type: 'edit', editing: true });
    expect(S.onHistory(s, { type: 'history', memoryId: 'b', records: [] })).toBe(s);
    s = S.onHistory(s, { type: 'history', memoryId: 'a', memory: { ...mem('a'), text: 'newer' }, records: [] });
    expect(S.currentMemory(s)!.text).toBe('newer');
    expect(S.update(s, { type: 'select', id: 'a' })).toBe(s); // same memory: editing stays
    const other = S.update(s, { type: 'select', id: 'b' });
    expect(other).toMatchObject({ selectedId: 'b', editing: false, history: undefined });
    expect(S.update(other, { type: 'deselect' })).toMatchObject({ selectedId: undefined, editing: false });
    expect(S.onReveal(other, 'a')).toMatchObject({ selectedId: 'a', activeIndex: 0 });
  });

  it('restores what a previous page saved, ignoring what is malformed', () => {
    const s = S.restoreSaved(S.initialState(), { query: { text: 'db', status: 'bogus', tag: 7, pinned: true, offset: 500, limit: 5 }, selectedId: 'm1' });
    expect(s.query).toEqual({ text: 'db', status: 'active', tag: undefined, pinned: true, offset: 0, limit: 100 });
    expect(s.selectedId).toBe('m1');
    expect(S.toSaved(s)).toEqual({ query: s.query, selectedId: 'm1' });
    expect(S.restoreSaved(S.initialState(), 'junk')).toEqual(S.initialState());
  });

  it('shows each error once per message and clears only its own notice', () => {
    let s = S.onError(S.initialState(), 'boom');
    const first = s.error!.seq;
    s = S.update(s, { type: 'dismissError' });
    expect(s.error!.dismissed).toBe(true);
    s = S.onError(s, 'boom');
    expect(s.error).toMatchObject({ message: 'boom', dismissed: false });
    expect(s.error!.seq).toBeGreaterThan(first);
    s = S.onNotice(s, 'one');
    const seq1 = s.notice!.seq;
    s = S.onNotice(s, 'two');
    expect(S.update(s, { type: 'clearNotice', seq: seq1 }).notice?.message).toBe('two');
    expect(S.update(s, { type: 'clearNotice', seq: s.notice!.seq }).notice).toBeUndefined();
  });
});

describe('panel t()', () => {
  afterEach(() => {
    configureL10n(undefined);
    setNumberLocale(undefined);
  });

  it('is English without a bundle and fills {n} placeholders', () => {
    expect(t('Held for approval ({0})', 3)).toBe('Held for approval (3)');
    expect(t('Undo {0} from {1}', 'ADD', '2025-01-01 10:00')).toBe('Undo ADD from 2025-01-01 10:00');
    expect(t('{0} and {1}', 'a')).toBe('a and {1}'); // a missing argument stays visible
  });

  it('translates from the bundle the host passed, ignoring non-strings and bad JSON', () => {
    configureL10nFromAttribute(JSON.stringify({ 'Held for approval ({0})': 'En attente ({0})', Approve: 7 }));
    expect(t('Held for approval ({0})', 2)).toBe('En attente (2)');
    expect(t('Approve')).toBe('Approve');
    expect(t('toString')).toBe('toString'); // no prototype keys
    configureL10nFromAttribute('{not json');
    expect(t('Held for approval ({0})', 2)).toBe('Held for approval (2)');
  });

  it("groups counts the display language's way, English and unknown tags as en-US", () => {
    expect(formatNumber(12345)).toBe('12,345');
    setNumberLocale('de');
    expect(formatNumber(12345)).toBe('12.345');
    setNumberLocale('not a tag!');
    expect(formatNumber(12345)).toBe('12,345');
    setNumberLocale('qps-ploc');
    expect(formatNumber(12345)).toMatch(/^12.345$/);
  });
});
