// The panel page's one state and the pure functions that change it: one per host message, one per
// user action. No DOM, no posting: main.ts applies them, sends what the page asks the host for and
// calls render(state); the views read the state and never keep their own copy of it.
import type { MemoryStatus } from '../core/types';
import { KIND_IDS } from '../core/kinds';
import { PAGE_SIZE, STATUS_FILTERS, type HostMessage, type MemoryView, type PanelQuery, type PendingBatchView, type StatusFilter } from './protocol';

export type HistoryMessage = Extract<HostMessage, { type: 'history' }>;
export type StateMessage = Extract<HostMessage, { type: 'state' }>;

export interface PanelState {
  readonly query: PanelQuery;
  readonly items: readonly MemoryView[];
  readonly total: number;
  readonly counts: Readonly<Record<MemoryStatus, number>>;
  readonly pending: readonly PendingBatchView[];
  readonly sharedBank?: { readonly id: string; readonly location: string };
  /** True once the host sent its first state. */
  readonly received: boolean;
  readonly loadingMore: boolean;
  /** Bumped each time the page asks for a new query: the list scrolls to the top on its answer. */
  readonly queryGen: number;
  /** Bumped when the filters change other than by typing (restore, first state, "Clear filters"). */
  readonly filtersRev: number;
  /** The row with keyboard focus (aria-activedescendant). */
  readonly activeIndex: number;
  readonly selectedId?: string;
  readonly history?: HistoryMessage;
  readonly editing: boolean;
  readonly adding: boolean;
  readonly noBank?: string;
  readonly busy: boolean;
  /** The error banner; `seq` tells a repeated message from the one already shown. */
  readonly error?: { readonly message: string; readonly seq: number; readonly dismissed: boolean };
  readonly notice?: { readonly message: string; readonly seq: number };
}

/** What the page keeps across reloads (vscode.setState). */
export interface SavedState {
  query: PanelQuery;
  selectedId?: string;
}

export function initialState(): PanelState {
  return {
    query: { text: '', status: 'active', offset: 0, limit: PAGE_SIZE },
    items: [],
    total: 0,
    counts: { active: 0, superseded: 0, deleted: 0 },
    pending: [],
    received: false,
    loadingMore: false,
    queryGen: 0,
    filtersRev: 0,
    activeIndex: -1,
    editing: false,
    adding: false,
    busy: false,
  };
}

/** The state with what a previous page saved; anything malformed in it is ignored. */
export function restoreSaved(s: PanelState, saved: unknown): PanelState {
  const v = saved as Partial<SavedState> | undefined;
  if (!v || typeof v !== 'object' || !v.query || typeof v.query !== 'object') return s;
  const q = v.query;
  return {
    ...s,
    query: {
      text: typeof q.text === 'string' ? q.text : '',
      status: STATUS_FILTERS.includes(q.status as StatusFilter) ? q.status : 'active',
      tag: typeof q.tag === 'string' && q.tag ? q.tag : undefined,
      pinned: q.pinned === true ? true : undefined,
      kind: (KIND_IDS as readonly unknown[]).includes(q.kind) ? q.kind : undefined,
      offset: 0,
      limit: PAGE_SIZE,
    },
    selectedId: typeof v.selectedId === 'string' ? v.selectedId : s.selectedId,
    filtersRev: s.filtersRev + 1,
  };
}

export function toSaved(s: PanelState): SavedState {
  return { query: { ...s.query, offset: 0, limit: PAGE_SIZE }, selectedId: s.selectedId };
}

export function sameFilters(a: PanelQuery, b: PanelQuery): boolean {
  return a.text === b.text && a.status === b.status && (a.tag ?? '') === (b.tag ?? '') && (a.pinned ?? false) === (b.pinned ?? false) && (a.kind ?? '') === (b.kind ?? '');
}

export function isFiltered(q: PanelQuery): boolean {
  return !!(q.text || q.tag || q.pinned || q.kind || q.status !== 'active');
}

/** The selected memory: as its history last showed it, else as listed. */
export function currentMemory(s: PanelState): MemoryView | undefined {
  return s.history?.memory ?? s.items.find((m) => m.id === s.selectedId);
}

export function selectedIndex(s: PanelState): number {
  return s.selectedId ? s.items.findIndex((m) => m.id === s.selectedId) : -1;
}

// ------------------------------------------------------------------ host messages

/** A page of the list (or the whole list when offset is 0); answers to older queries are dropped. */
export function onState(s: PanelState, msg: StateMessage): PanelState {
  if (s.received && !sameFilters(msg.query, s.query)) return s;
  let items: readonly MemoryView[];
  if (msg.offset === 0) items = msg.items;
  else if (msg.offset <= s.items.length) items = s.items.slice(0, msg.offset).concat(msg.items);
  else return s; // a gap: stale page
  const first = !s.received;
  const activeId = s.items[s.activeIndex]?.id;
  const idx = activeId ? items.findIndex((m) => m.id === activeId) : -1;
  return {
    ...s,
    noBank: undefined,
    query: first ? { ...msg.query, offset: 0, limit: PAGE_SIZE } : s.query,
    filtersRev: first ? s.filtersRev + 1 : s.filtersRev,
    received: true,
    sharedBank: msg.sharedBank,
    total: msg.total,
    counts: msg.counts,
    pending: msg.pending,
    items,
    loadingMore: false,
    activeIndex: idx >= 0 ? idx : Math.min(s.activeIndex, items.length - 1),
  };
}

export function onHistory(s: PanelState, msg: HistoryMessage): PanelState {
  return msg.memoryId === s.selectedId ? { ...s, history: msg } : s;
}

/** The host asks to show a memory (a chat citation, a memory just added). */
export function onReveal(s: PanelState, id: string): PanelState {
  const idx = s.items.findIndex((m) => m.id === id);
  return { ...s, selectedId: id, editing: false, activeIndex: idx >= 0 ? idx : s.activeIndex };
}

export function onError(s: PanelState, message: string): PanelState {
  return { ...s, error: { message, seq: (s.error?.seq ?? 0) + 1, dismissed: false } };
}

export function onNotice(s: PanelState, message: string): PanelState {
  return { ...s, notice: { message, seq: (s.notice?.seq ?? 0) + 1 } };
}

export function onBusy(s: PanelState, busy: boolean): PanelState {
  return { ...s, busy };
}

export function onNoBank(s: PanelState, message: string): PanelState {
  return { ...s, noBank: message };
}

// ------------------------------------------------------------------ user actions

export type Action =
  /** Change the filters and ask again; `typed` when it comes from the search or tag box. */
  | { type: 'setQuery'; patch: Partial<Pick<PanelQuery, 'text' | 'status' | 'tag' | 'pinned' | 'kind'>>; typed?: boolean; debounce?: boolean }
  | { type: 'clearFilters' }
  | { type: 'loadMore' }
  | { type: 'setActive'; index: number }
  | { type: 'select'; id: string }
  | { type: 'deselect' }
  | { type: 'edit'; editing: boolean }
  | { type: 'toggleAdd'; open: boolean }
  | { type: 'error'; message: string }
  | { type: 'dismissError' }
  | { type: 'clearNotice'; seq: number };

/** The query the state asks for now (first page). */
export function firstPageQuery(s: PanelState): PanelQuery {
  return { ...s.query, offset: 0, limit: PAGE_SIZE };
}

/** The next page after the rows loaded; undefined when one is on its way or all are loaded. */
export function nextPageQuery(s: PanelState): PanelQuery | undefined {
  return s.loadingMore || s.items.length >= s.total ? undefined : { ...s.query, offset: s.items.length, limit: PAGE_SIZE };
}

export function update(s: PanelState, a: Action): PanelState {
  switch (a.type) {
    case 'setQuery':
      return {
        ...s,
        query: { ...s.query, ...a.patch, offset: 0, limit: PAGE_SIZE },
        filtersRev: a.typed ? s.filtersRev : s.filtersRev + 1,
      };
    case 'clearFilters':
      return { ...s, query: { text: '', status: 'active', offset: 0, limit: PAGE_SIZE }, filtersRev: s.filtersRev + 1 };
    case 'loadMore':
      return nextPageQuery(s) ? { ...s, loadingMore: true } : s;
    case 'setActive':
      return { ...s, activeIndex: a.index };
    case 'select':
      return s.selectedId === a.id ? s : { ...s, selectedId: a.id, editing: false, history: undefined };
    case 'deselect':
      return { ...s, selectedId: undefined, history: undefined, editing: false };
    case 'edit':
      return { ...s, editing: a.editing };
    case 'toggleAdd':
      return { ...s, adding: a.open };
    case 'error':
      return onError(s, a.message);
    case 'dismissError':
      return s.error ? { ...s, error: { ...s.error, dismissed: true } } : s;
    case 'clearNotice':
      return s.notice?.seq === a.seq ? { ...s, notice: undefined } : s;
  }
}

/** A query sent: its answer resets the scroll and no page of the old one is awaited. */
export function querySent(s: PanelState): PanelState {
  return { ...s, queryGen: s.queryGen + 1, loadingMore: false, query: firstPageQuery(s) };
}
