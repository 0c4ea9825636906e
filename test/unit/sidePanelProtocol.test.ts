import { describe, expect, it } from 'vitest';
import { checkPageMessage, isHostMessage, PROTOCOL_LIMITS, validatePageMessage } from '../../src/webview/protocol';
import { tokenizeWords, wordDiff } from '../../src/webview/diff';
import { contentSecurityPolicy, panelHtml } from '../../src/extension/sidePanel/panelHtml';

const query = { text: 'auth', status: 'active', offset: 0, limit: 100 };

describe('validatePageMessage: well-formed messages', () => {
  const good: unknown[] = [
    { type: 'ready' },
    { type: 'ready', query, selectedId: 'abc-1' },
    { type: 'query', query },
    { type: 'query', query: { text: '', status: 'all', tag: 'db', pinned: true, offset: 200, limit: 100 } },
    { type: 'select', id: 'm1' },
    { type: 'deselect' },
    { type: 'edit', id: 'm1', text: 'The API uses JWT.' },
    { type: 'setTags', id: 'm1', tags: ['auth', 'api'] },
    { type: 'delete', id: 'm1' },
    { type: 'restore', id: 'm1' },
    { type: 'pin', id: 'm1' },
    { type: 'unpin', id: 'm1' },
    { type: 'undo', opId: 'op-7' },
    { type: 'add', text: 'Use pnpm.', tags: [] },
    { type: 'approve', batchId: 'b1' },
    { type: 'reject', batchId: 'b1' },
    { type: 'clearAll' },
  ];
  it.each(good.map((m) => [JSON.stringify(m), m]))('accepts %s', (_name, msg) => {
    const r = checkPageMessage(msg);
    expect(r).toEqual({ ok: true, message: msg });
  });

  it('returns a copy, not the caller object', () => {
    const msg = { type: 'add', text: 'x', tags: ['a'] };
    const out = validatePageMessage(msg) as { tags: string[] };
    expect(out).not.toBe(msg);
    msg.tags.push('b');
    expect(out.tags).toEqual(['a']);
  });
});

describe('validatePageMessage: adversarial messages', () => {
  const huge = 'x'.repeat(PROTOCOL_LIMITS.textChars + 1);
  const bad: [string, unknown, RegExp][] = [
    ['undefined', undefined, /not an object/],
    ['null', null, /not an object/],
    ['a string', 'ready', /not an object/],
    ['an array', [{ type: 'ready' }], /not an object/],
    ['no type', { id: 'm1' }, /unknown message type/],
    ['unknown type', { type: 'eval', code: 'alert(1)' }, /unknown message type "eval"/],
    ['type not a string', { type: 7 }, /unknown message type number/],
    ['inherited type name', { type: 'toString' }, /unknown message type/],
    ['prototype key as type', { type: '__proto__' }, /unknown message type/],
    ['missing id', { type: 'delete' }, /field "id" must be a non-empty string/],
    ['empty id', { type: 'delete', id: '' }, /non-empty/],
    ['numeric id', { type: 'pin', id: 42 }, /non-empty string/],
    ['oversize id', { type: 'select', id: 'a'.repeat(PROTOCOL_LIMITS.idChars + 1) }, /longer than/],
    ['control chars in id', { type: 'select', id: 'a\u0000b' }, /control characters/],
    ['oversize edit text', { type: 'edit', id: 'm1', text: huge }, /field "text" is longer than/],
    ['oversize add text', { type: 'add', text: huge, tags: [] }, /longer than/],
    ['edit text not a string', { type: 'edit', id: 'm1', text: { toString: 'x' } }, /must be a string/],
    ['tags not an array', { type: 'add', text: 'x', tags: 'a,b' }, /array of strings/],
    ['tags with a number', { type: 'setTags', id: 'm1', tags: ['a', 1] }, /array of strings/],
    ['too many tags', { type: 'setTags', id: 'm1', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, /more than 50 tags/],
    ['oversize tag', { type: 'setTags', id: 'm1', tags: ['t'.repeat(101)] }, /tag longer than/],
    ['extra field', { type: 'delete', id: 'm1', force: true }, /unknown field "force"/],
    ['own __proto__ field', JSON.parse('{"type":"delete","id":"m1","__proto__":{"polluted":1}}'), /unknown field "__proto__"/],
    ['query missing', { type: 'query' }, /field "query" must be an object/],
    ['bad status', { type: 'query', query: { ...query, status: 'everything' } }, /field "status" must be one of/],
    ['negative offset', { type: 'query', query: { ...query, offset: -1 } }, /field "offset" must be an integer/],
    ['fractional limit', { type: 'query', query: { ...query, limit: 1.5 } }, /field "limit"/],
    ['limit too big', { type: 'query', query: { ...query, limit: 1_000_000 } }, /field "limit"/],
    ['zero limit', { type: 'query', query: { ...query, limit: 0 } }, /field "limit"/],
    ['NaN offset', { type: 'query', query: { ...query, offset: Number.NaN } }, /field "offset"/],
    ['pinned as string', { type: 'query', query: { ...query, pinned: 'yes' } }, /field "pinned"/],
    ['oversize search', { type: 'query', query: { ...query, text: 'q'.repeat(1001) } }, /field "text" is longer/],
    ['extra query field', { type: 'query', query: { ...query, sql: 'drop' } }, /unknown field "sql"/],
    ['bad nested query in ready', { type: 'ready', query: { text: 1 } }, /field "query"/],
    ['class instance', new (class X { type = 'ready'; })(), /not an object/],
  ];
  it.each(bad)('refuses %s', (_name, msg, why) => {
    const r = checkPageMessage(msg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
    expect(validatePageMessage(msg)).toBeUndefined();
  });

  it('keeps error messages short even for huge field names', () => {
    const r = checkPageMessage({ type: 'delete', id: 'm', ['k'.repeat(10_000)]: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeLessThan(120);
  });
});

describe('isHostMessage', () => {
  it('accepts host kinds and refuses stray window messages', () => {
    expect(isHostMessage({ type: 'state' })).toBe(true);
    expect(isHostMessage({ type: 'reveal', id: 'x' })).toBe(true);
    expect(isHostMessage({ type: 'delete', id: 'x' })).toBe(false);
    expect(isHostMessage('state')).toBe(false);
    expect(isHostMessage(null)).toBe(false);
  });
});

describe('wordDiff', () => {
  const render = (before: string, after: string): string =>
    wordDiff(before, after)
      .map((p) => (p.kind === 'same' ? p.text : p.kind === 'add' ? `{+${p.text}+}` : `[-${p.text}-]`))
      .join('');

  it('marks a replaced word', () => {
    expect(render('The API uses sessions for auth', 'The API uses JWT for auth')).toBe('The API uses [-sessions-]{+JWT+} for auth');
  });
  it('marks insertions and deletions', () => {
    expect(render('run tests', 'run unit tests')).toBe('run {+unit +}tests');
    expect(render('run unit tests', 'run tests')).toBe('run [-unit -]tests');
  });
  it('keeps both texts recoverable', () => {
    const a = 'alpha beta  gamma\ndelta';
    const b = 'beta gamma delta epsilon';
    const parts = wordDiff(a, b);
    expect(parts.filter((p) => p.kind !== 'add').map((p) => p.text).join('')).toBe(a);
    expect(parts.filter((p) => p.kind !== 'del').map((p) => p.text).join('')).toBe(b);
  });
  it('handles empty sides', () => {
    expect(wordDiff('', 'new text')).toEqual([{ kind: 'add', text: 'new text' }]);
    expect(wordDiff('old', '')).toEqual([{ kind: 'del', text: 'old' }]);
    expect(wordDiff('same', 'same')).toEqual([{ kind: 'same', text: 'same' }]);
  });
  it('degrades to replace-all for huge inputs instead of building a giant table', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join(' ');
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join(' ');
    const parts = wordDiff(a, b);
    expect(parts.map((p) => p.kind)).toEqual(['del', 'add']);
  });
  it('tokenizes words and whitespace', () => {
    expect(tokenizeWords('a  b\nc')).toEqual(['a', '  ', 'b', '\n', 'c']);
  });
});

describe('panelHtml', () => {
  it('has a strict CSP with the nonce on the only script', () => {
    const html = panelHtml({ cspSource: 'https://x.test', scriptUri: 'https://x.test/dist/webview.js', styleUri: 'https://x.test/media/panel.css', codiconUri: 'https://x.test/dist/codicons/codicon.css', nonce: 'abc123' });
    const csp = contentSecurityPolicy('https://x.test', 'abc123');
    expect(csp).toBe("default-src 'none'; script-src 'nonce-abc123'; style-src https://x.test; font-src https://x.test; img-src https://x.test data:");
    expect(html).toContain(`content="${csp.replace(/'/g, "'")}"`);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain('<script nonce="abc123" src="https://x.test/dist/webview.js">');
    expect(html).not.toContain('unsafe-inline');
    expect(html).not.toMatch(/style="/);
  });
  it('makes a fresh nonce each time', () => {
    const parts = { cspSource: 's', scriptUri: 'a', styleUri: 'b', codiconUri: 'c' };
    const n1 = /nonce-([A-Za-z0-9]+)/.exec(panelHtml(parts))![1];
    const n2 = /nonce-([A-Za-z0-9]+)/.exec(panelHtml(parts))![1];
    expect(n1).not.toBe(n2);
    expect(n1.length).toBeGreaterThanOrEqual(16);
  });
});

describe('wordDiff grouping', () => {
  it('joins neighbouring changed words into one deletion and one insertion', () => {
    const parts = wordDiff('Fact 23: caching uses setting value 161.', 'Fact 23: the database now uses connection pooling with 20 connections.');
    expect(parts).toEqual([
      { kind: 'same', text: 'Fact 23: ' },
      { kind: 'del', text: 'caching' },
      { kind: 'add', text: 'the database now' },
      { kind: 'same', text: ' uses ' },
      { kind: 'del', text: 'setting value 161.' },
      { kind: 'add', text: 'connection pooling with 20 connections.' },
    ]);
  });
});
