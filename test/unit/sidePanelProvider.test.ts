import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('vscode', () => import('../support/vscodeShimWebview'));

import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { MemoryPanelProvider } from '../../src/extension/sidePanel/memoryPanelProvider';
import type { HostMessage, PanelQuery } from '../../src/webview/protocol';
import { env, executedCommands, FakeLog, FakeWebviewView, l10n, Uri, warningAnswers, warningsShown } from '../support/vscodeShimWebview';

type Msg<T extends HostMessage['type']> = Extract<HostMessage, { type: T }>;

let dir: string;
let bank: MemoryBank;
let log: FakeLog;
let view: FakeWebviewView;
let provider: MemoryPanelProvider;

async function waitFor<T>(fn: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits for the next message of a kind posted after `from` (index into view.posted). */
function next<T extends HostMessage['type']>(type: T, from: number, pred: (m: Msg<T>) => boolean = () => true): Promise<Msg<T>> {
  return waitFor(
    () => (view.posted.slice(from) as HostMessage[]).find((m): m is Msg<T> => m.type === type && pred(m as Msg<T>)),
    `a "${type}" message`,
  );
}

const q = (over: Partial<PanelQuery> = {}): PanelQuery => ({ text: '', status: 'active', offset: 0, limit: 100, ...over });

async function openPanel(): Promise<Msg<'state'>> {
  provider = new MemoryPanelProvider(Uri.file('/ext') as never, async () => bank, log as never);
  view = new FakeWebviewView();
  provider.resolveWebviewView(view as never);
  view.fromPage({ type: 'ready', query: q() });
  return next('state', 0);
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-sidepanel-'));
  bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(64), actor: 'tester', watchIntervalMs: 0 });
  log = new FakeLog();
  warningAnswers.length = 0;
  warningsShown.length = 0;
  executedCommands.length = 0;
});

afterEach(async () => {
  provider?.dispose();
  await bank.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('MemoryPanelProvider page', () => {
  it('serves a page with a strict CSP, scripts enabled and resources limited to dist/ and media/', async () => {
    await openPanel();
    expect(view.webview.options.enableScripts).toBe(true);
    expect(view.webview.options.localResourceRoots!.map((u) => u.path)).toEqual(['/ext/dist', '/ext/media']);
    const html = view.webview.html;
    const nonce = /script-src 'nonce-([^']+)'/.exec(html)![1];
    expect(html).toContain("default-src 'none'");
    expect(html).toContain(`<script nonce="${nonce}" src="https://webview.test/ext/dist/webview.js">`);
    expect(html).toContain('href="https://webview.test/ext/media/panel.css"');
    expect(html).toContain('href="https://webview.test/ext/dist/codicons/codicon.css"');
  });

  it("hands the page VS Code's bundle for the display language in an escaped attribute, none in English", async () => {
    await openPanel();
    expect(view.webview.html).toContain('<html lang="en">');
    expect(view.webview.html).toContain('<div id="app"></div>');
    provider.dispose();
    const bundle = { 'Search memories': 'Erinnerungen durchsuchen', 'Pin memory': '"><script>alert(1)</script> & more' };
    l10n.bundle = bundle;
    env.language = 'de';
    try {
      await openPanel();
    } finally {
      l10n.bundle = undefined;
      env.language = 'en';
    }
    const html = view.webview.html;
    expect(html).toContain('<html lang="de">');
    const attr = /<div id="app" data-l10n="([^"]*)"><\/div>/.exec(html);
    expect(attr).not.toBeNull();
    expect(html.match(/<script/g)!.length).toBe(1); // the page's own script only
    const decoded = attr![1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    expect(JSON.parse(decoded)).toEqual(bundle);
  });

  it('answers ready with progress, then the first state, and nothing before it', async () => {
    await bank.addManual('The build uses esbuild.', { tags: ['build'] });
    provider = new MemoryPanelProvider(Uri.file('/ext') as never, async () => bank, log as never);
    view = new FakeWebviewView();
    provider.resolveWebviewView(view as never);
    await bank.addManual('Tests run with vitest.');
    await new Promise((r) => setTimeout(r, 60));
    expect(view.posted).toEqual([]); // changes before ready are not pushed at a page that is not listening
    view.fromPage({ type: 'ready', query: q() });
    const state = await next('state', 0);
    // The bank may still be opening (seconds for a large one): the page shows progress until the state.
    expect(view.posted[0]).toEqual({ type: 'busy', busy: true });
    expect(view.posted[1]).toBe(state);
    await next('busy', 2, (m) => !m.busy);
    expect(state.total).toBe(2);
    expect(state.counts).toEqual({ active: 2, superseded: 0, deleted: 0 });
    expect(state.items.map((m) => m.text).sort()).toEqual(['Tests run with vitest.', 'The build uses esbuild.']);
  });

  it('queues messages made before ready and delivers them after the first state', async () => {
    const m = await bank.addManual('Deploys go through staging first.');
    provider = new MemoryPanelProvider(Uri.file('/ext') as never, async () => bank, log as never);
    view = new FakeWebviewView();
    provider.resolveWebviewView(view as never);
    await provider.reveal(m.memoryId);
    expect(view.shownCount).toBe(1);
    expect(view.posted).toEqual([]);
    view.fromPage({ type: 'ready' });
    await next('history', 0, (h) => h.memoryId === m.memoryId);
    const types = (view.posted as HostMessage[]).map((x) => x.type);
    // Nothing queued goes out before the first state (only the progress indicator does).
    expect(types.slice(0, 2)).toEqual(['busy', 'state']);
    expect(types).toContain('reveal');
    expect(types.indexOf('reveal')).toBeLessThan(types.indexOf('history'));
  });

  it('reveal before the view exists focuses the view through its command', async () => {
    provider = new MemoryPanelProvider(Uri.file('/ext') as never, async () => bank, log as never);
    await provider.reveal('some-id');
    expect(executedCommands.map((c) => c.command)).toEqual(['projectMemory.panel.focus']);
  });
});

describe('MemoryPanelProvider queries', () => {
  beforeEach(async () => {
    await bank.applyBatch(
      Array.from({ length: 250 }, (_, i) => ({ type: 'ADD' as const, text: `Fact number ${i} about ${i % 2 ? 'the database' : 'the frontend'}`, tags: i % 5 === 0 ? ['five'] : [] })),
      { source: { kind: 'commit', ref: 'abc123' }, model: 'test-model' },
    );
  });

  it('pages through the bank', async () => {
    const first = await openPanel();
    expect(first.items).toHaveLength(100);
    expect(first.total).toBe(250);
    const from = view.posted.length;
    view.fromPage({ type: 'query', query: q({ offset: 200, limit: 100 }) });
    const last = await next('state', from);
    expect(last.offset).toBe(200);
    expect(last.items).toHaveLength(50);
  });

  it('filters by text, tag, pinned and status', async () => {
    await openPanel();
    let from = view.posted.length;
    view.fromPage({ type: 'query', query: q({ text: 'DATABASE' }) });
    expect((await next('state', from)).total).toBe(125);
    from = view.posted.length;
    view.fromPage({ type: 'query', query: q({ tag: 'five' }) });
    expect((await next('state', from)).total).toBe(50);
    from = view.posted.length;
    view.fromPage({ type: 'query', query: q({ pinned: true }) });
    expect((await next('state', from)).total).toBe(0);
    from = view.posted.length;
    view.fromPage({ type: 'query', query: q({ status: 'deleted' }) });
    expect((await next('state', from)).total).toBe(0);
  });

  it('refuses malformed messages, logs why, and keeps working', async () => {
    await openPanel();
    const before = view.posted.length;
    view.fromPage({ type: 'query', query: q({ limit: 100_000 }) });
    view.fromPage({ type: 'delete', id: 'x'.repeat(5000) });
    view.fromPage({ type: 'runShell', cmd: 'rm -rf /' });
    view.fromPage('ready');
    await waitFor(() => log.lines.filter((l) => l.level === 'warn' && /refused a message/.test(l.text)).length === 4, 'four refusals');
    expect(view.posted.length).toBe(before);
    expect(bank.list({ status: 'all' }).total).toBe(250);
    view.fromPage({ type: 'query', query: q({ text: 'number 7 about' }) });
    expect((await next('state', before)).total).toBe(1);
  });
});

describe('MemoryPanelProvider actions', () => {
  it('offers a batch of several operations to undo together, and undoes it in one write', async () => {
    const a = await bank.addManual('CI runs on GitHub Actions.');
    const recs = await bank.applyBatch(
      [
        { type: 'UPDATE', memoryId: a.memoryId, text: 'CI runs on Buildkite.' },
        { type: 'ADD', text: 'Buildkite agents run on spot instances.' },
      ],
      { fact: 'moved CI' },
    );
    const newId = recs.find((r) => r.action === 'UPDATE')!.memoryId;
    await openPanel();
    let from = view.posted.length;
    view.fromPage({ type: 'select', id: newId });
    const hist = await next('history', from);
    expect(hist.records.map((r) => [r.action, r.batchOperations])).toEqual([['UPDATE', 2]]); // the pair counts once
    from = view.posted.length;
    view.fromPage({ type: 'undoBatch', batchId: hist.records[0].batchId });
    expect((await next('notice', from)).message).toBe('Undid 2 operations.');
    expect(bank.get(a.memoryId)).toMatchObject({ status: 'active', text: 'CI runs on GitHub Actions.' });
    expect(bank.get(newId)!.status).toBe('deleted');
    expect(bank.list().items.map((m) => m.text)).toEqual(['CI runs on GitHub Actions.']);
    expect(new Set(bank.history().filter((r) => r.action === 'UNDO').map((r) => r.batchId)).size).toBe(1);
  });

  it('edits, pins, deletes, restores, undoes and adds through the bank, with history', async () => {
    const rec = await bank.addManual('The API uses sessions for auth.');
    const id = rec.memoryId;
    await openPanel();

    let from = view.posted.length;
    view.fromPage({ type: 'select', id });
    let hist = await next('history', from);
    expect(hist.memory?.text).toBe('The API uses sessions for auth.');
    expect(hist.records.map((r) => r.action)).toEqual(['ADD']);
    expect(hist.records[0].undoable).toBe(true);

    from = view.posted.length;
    view.fromPage({ type: 'edit', id, text: 'The API uses JWT for auth.' });
    hist = await next('history', from, (h) => h.records.length === 2);
    expect(bank.get(id)!.text).toBe('The API uses JWT for auth.');
    expect(hist.records[1]).toMatchObject({ action: 'EDIT', before: { text: 'The API uses sessions for auth.' }, after: { text: 'The API uses JWT for auth.' }, undoable: true });
    expect(hist.records[0].undoable).toBe(false); // the ADD is no longer the current state
    const refreshed = await next('state', from);
    expect(refreshed.items[0].text).toBe('The API uses JWT for auth.');

    from = view.posted.length;
    view.fromPage({ type: 'pin', id });
    await next('history', from, (h) => h.records.at(-1)?.action === 'PIN');
    expect(bank.get(id)!.pinned).toBe(true);

    from = view.posted.length;
    view.fromPage({ type: 'unpin', id });
    await next('history', from, (h) => h.records.at(-1)?.action === 'UNPIN');
    expect(bank.get(id)!.pinned).toBe(false);

    from = view.posted.length;
    view.fromPage({ type: 'setTags', id, tags: ['auth', 'api'] });
    await next('history', from, (h) => h.memory?.tags.length === 2);
    expect(bank.get(id)!.tags).toEqual(['auth', 'api']);

    from = view.posted.length;
    view.fromPage({ type: 'delete', id });
    const afterDelete = await next('state', from, (s) => s.counts.deleted === 1);
    expect(afterDelete.total).toBe(0);
    expect(bank.get(id)!.status).toBe('deleted');
    expect(await next('notice', from)).toMatchObject({ message: expect.stringMatching(/deleted/i) });

    from = view.posted.length;
    view.fromPage({ type: 'restore', id });
    await next('state', from, (s) => s.counts.active === 1);
    expect(bank.get(id)!.status).toBe('active');

    // Undo the restore: the memory is deleted again, and the UNDO record points at what it undid.
    from = view.posted.length;
    view.fromPage({ type: 'select', id });
    hist = await next('history', from);
    const restoreRec = hist.records.find((r) => r.action === 'RESTORE')!;
    expect(restoreRec.undoable).toBe(true);
    from = view.posted.length;
    view.fromPage({ type: 'undo', opId: restoreRec.opId });
    hist = await next('history', from, (h) => h.records.at(-1)?.action === 'UNDO');
    expect(bank.get(id)!.status).toBe('deleted');
    expect(hist.records.at(-1)!.undoes).toBe(restoreRec.opId);
    expect(hist.records.find((r) => r.opId === restoreRec.opId)!.undoneBy).toBe(hist.records.at(-1)!.opId);

    // Undo the same operation twice: the bank refuses, the page gets its message.
    from = view.posted.length;
    view.fromPage({ type: 'undo', opId: restoreRec.opId });
    expect((await next('error', from)).message).toMatch(/already undone/);

    from = view.posted.length;
    view.fromPage({ type: 'add', text: '  Use pnpm, not npm.  ', tags: ['tooling'] });
    const reveal = await next('reveal', from);
    const added = bank.get(reveal.id)!;
    expect(added).toMatchObject({ text: 'Use pnpm, not npm.', tags: ['tooling'], source: { kind: 'manual' } });
    hist = await next('history', from, (h) => h.memoryId === reveal.id);
    expect(hist.records.map((r) => r.action)).toEqual(['ADD']);
  });

  it('turns BankErrors into error messages for the page and the log', async () => {
    await openPanel();
    let from = view.posted.length;
    view.fromPage({ type: 'delete', id: 'no-such-memory' });
    expect((await next('error', from)).message).toMatch(/No memory with id no-such-memory/);
    from = view.posted.length;
    view.fromPage({ type: 'add', text: '   ', tags: [] });
    expect((await next('error', from)).message).toMatch(/needs some text/);
    from = view.posted.length;
    view.fromPage({ type: 'add', text: 'x'.repeat(2500), tags: [] });
    expect((await next('error', from)).message).toMatch(/limited to 2000 characters/);
    expect(bank.size).toBe(0);
    expect(log.lines.some((l) => l.level === 'warn' && /NOT_FOUND/.test(l.text))).toBe(true);
    // busy goes up and back down around each action
    const busy = (view.posted as HostMessage[]).filter((m): m is Msg<'busy'> => m.type === 'busy').map((m) => m.busy);
    expect(busy.at(-1)).toBe(false);
    expect(busy).toContain(true);
  });

  it('asks before deleting everything, and does nothing when dismissed', async () => {
    for (const t of ['One fact.', 'Two facts.', 'Three facts.']) await bank.addManual(t);
    await openPanel();
    view.fromPage({ type: 'clearAll' });
    await waitFor(() => warningsShown.length === 1, 'the confirmation');
    expect(warningsShown[0]).toMatchObject({ message: 'Delete all 3 active memories?', options: { modal: true }, items: ['Delete All'] });
    await waitFor(() => log.lines.some((l) => /cancelled/.test(l.text)), 'the cancellation');
    expect(bank.list().total).toBe(3);

    warningAnswers.push('Delete All');
    const from = view.posted.length;
    view.fromPage({ type: 'clearAll' });
    const state = await next('state', from, (s) => s.counts.deleted === 3);
    expect(state.total).toBe(0);
    expect(bank.list({ status: 'deleted' }).total).toBe(3);
  });

  it('approves and rejects held batches', async () => {
    const keep = await bank.addManual('Keep this memory.');
    const drop = await bank.addManual('Drop this memory.');
    await bank.side.holdBatch([{ type: 'DELETE', memoryId: drop.memoryId, reason: 'obsolete' }], { fact: 'drop is obsolete' }, 'too many deletions');
    await bank.side.holdBatch([{ type: 'DELETE', memoryId: keep.memoryId }], { fact: 'keep is obsolete' }, 'too many deletions');
    const state = await openPanel();
    expect(state.pending).toHaveLength(2);
    expect(state.pending[0].ops[0]).toMatchObject({ type: 'DELETE', text: 'Drop this memory.' });

    let from = view.posted.length;
    view.fromPage({ type: 'approve', batchId: state.pending[0].id });
    await next('state', from, (s) => s.pending.length === 1);
    expect(bank.get(drop.memoryId)!.status).toBe('deleted');

    from = view.posted.length;
    view.fromPage({ type: 'reject', batchId: state.pending[1].id });
    await next('state', from, (s) => s.pending.length === 0);
    expect(bank.get(keep.memoryId)!.status).toBe('active');
  });

  it('follows bank changes made elsewhere, keeping the query and selection', async () => {
    const a = await bank.addManual('Alpha fact about caching.');
    await openPanel();
    let from = view.posted.length;
    view.fromPage({ type: 'query', query: q({ text: 'caching' }) });
    await next('state', from);
    view.fromPage({ type: 'select', id: a.memoryId });
    await next('history', from);

    from = view.posted.length;
    await bank.addManual('Beta fact about caching.');
    await bank.addManual('Unrelated fact.');
    const state = await next('state', from, (s) => s.total === 2);
    expect(state.query.text).toBe('caching');
    expect(state.items.map((m) => m.text).sort()).toEqual(['Alpha fact about caching.', 'Beta fact about caching.']);
    expect(await next('history', from)).toMatchObject({ memoryId: a.memoryId });

    // A hidden view is refreshed when it becomes visible again.
    view.setVisible(false);
    from = view.posted.length;
    await bank.edit(a.memoryId, 'Alpha fact about caching, revised.');
    await new Promise((r) => setTimeout(r, 80));
    expect(view.posted.length).toBe(from);
    view.setVisible(true);
    const again = await next('state', from);
    expect(again.items.some((m) => m.text === 'Alpha fact about caching, revised.')).toBe(true);
  });

  it('reports a missing bank to the page', async () => {
    provider = new MemoryPanelProvider(Uri.file('/ext') as never, async () => {
      throw new Error('Open a folder to use Project Memory.');
    }, log as never);
    view = new FakeWebviewView();
    provider.resolveWebviewView(view as never);
    view.fromPage({ type: 'ready' });
    expect(await next('noBank', 0)).toMatchObject({ message: 'Open a folder to use Project Memory.' });
  });
});

describe('MemoryPanelProvider privacy', () => {
  it('add, edit and tags from the panel store and show no secret', async () => {
    const token = 'ghp_' + 'R7sT9vWxY3zA4bC6dE8fG0hJ2kL4mN6pQ8rS';
    const dbPassword = 'Tr0ub4dor-Pg-2024';
    await openPanel();
    let from = view.posted.length;
    view.fromPage({ type: 'add', text: `CI pushes with GITHUB_TOKEN=${token}`, tags: [`token ${token}`] });
    const state = await next('state', from, (s) => s.items.length === 1);
    const id = state.items[0].id;
    from = view.posted.length;
    view.fromPage({ type: 'edit', id, text: `Reports read postgres://report:${dbPassword}@db:5432/reports` });
    await next('history', from, (h) => h.records.length === 2);
    from = view.posted.length;
    view.fromPage({ type: 'setTags', id, tags: ['db', `pw postgres://x:${dbPassword}@db`] });
    await next('history', from, (h) => h.records.length === 3);
    expect(bank.get(id)!.text).toBe('Reports read postgres://report:[REDACTED:postgres-url-password]@db:5432/reports');
    const shown = JSON.stringify(view.posted);
    const stored = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1')).join('\n');
    for (const secret of [token, dbPassword]) {
      expect(shown.includes(secret), 'the panel was sent a secret').toBe(false);
      expect(stored.includes(secret), 'the bank stored a secret').toBe(false);
    }
    expect(stored).toContain('"redactions":{"github-pat":2}');
  });
});

describe('memories checked against the workspace, in the panel', () => {
  it('sends what a memory cites, what changed (needs review) and whether the next expiry would retire it', async () => {
    const { FreshnessChecker, freshnessFor } = await import('../../src/core/evidence/freshness');
    const { MapWorkspace } = await import('../../src/core/evidence/workspace');
    const old = '2024-01-02T03:04:05.000Z';
    await bank.importBundle(
      { format: 'project-memory-bank', version: 1, memories: [{ id: 'aaaaaaaa-0000-4000-8000-000000000001', text: 'Ana owns releases.', status: 'active', createdAt: old, updatedAt: old, tags: [], pinned: false, source: { kind: 'manual' } }] },
      'merge',
    );
    const cited = await bank.addManual('The date helpers are in src/dates.ts.');
    const checker: InstanceType<typeof FreshnessChecker> = freshnessFor(bank);
    await checker.check(new MapWorkspace('ws', new Map([['src/dates.ts', 'export function formatDate() {}']])));
    await checker.check(new MapWorkspace('ws', new Map()), { paths: ['src/dates.ts'] });
    provider = new MemoryPanelProvider(Uri.file('/ext') as never, async () => bank, log as never, () => 30);
    view = new FakeWebviewView();
    provider.resolveWebviewView(view as never);
    view.fromPage({ type: 'ready', query: q() });
    const state = await next('state', 0);
    const byText = new Map(state.items.map((m) => [m.text, m]));
    expect(byText.get('The date helpers are in src/dates.ts.')).toMatchObject({ id: cited.memoryId, evidence: ['src/dates.ts'], review: { changes: ['src/dates.ts no longer exists'] } });
    expect(byText.get('The date helpers are in src/dates.ts.')!.expiring).toBeUndefined();
    expect(byText.get('Ana owns releases.')).toMatchObject({ expiring: true });
    expect(byText.get('Ana owns releases.')!.review).toBeUndefined();

    // The details' buttons run the commands that own the workspace and the models.
    view.fromPage({ type: 'review', id: cited.memoryId });
    view.fromPage({ type: 'stillTrue', id: cited.memoryId });
    await waitFor(() => executedCommands.length >= 2 && executedCommands, 'the commands');
    expect(executedCommands.slice(-2)).toEqual([
      { command: 'projectMemory.reviewFlagged', args: [cited.memoryId] },
      { command: 'projectMemory.markStillTrue', args: [cited.memoryId] },
    ]);
  });
});
