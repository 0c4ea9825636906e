// The capture sources behind WorkspaceHost, without VS Code: a plain-object host drives each source.
import { describe, expect, it } from 'vitest';
import { CAPTURE_SOURCES, commitsSource, diagnosticsSource, savesSource, terminalSource, type HostDocument, type HostError, type HostTerminalRun, type WorkspaceHost } from '../../src/core/capture/sources';
import type { RunningCommits } from '../../src/core/capture/sources/commits';
import { formatCommitEvent, withoutTrailers, type CommitInfo } from '../../src/core/capture/eventFormat';
import type { SourceKind } from '../../src/core/types';

type Handler<T extends unknown[]> = ((...a: T) => void)[];

function fakeHost() {
  const h = {
    open: new Map<string, HostDocument>(),
    files: new Map<string, string>(),
    excluded: new Set<string>(),
    errors: new Map<string, HostError[]>(),
    state: new Map<string, unknown>(),
    head: 'aaa',
    commits: [] as CommitInfo[],
    on: { open: [] as Handler<[HostDocument]>, close: [] as Handler<[HostDocument]>, save: [] as Handler<[HostDocument]>, start: [] as Handler<[HostTerminalRun]>, end: [] as Handler<[HostTerminalRun, number | undefined]>, diag: [] as Handler<[string[]]>, git: [] as Handler<[string]> },
    warnings: [] as string[],
  };
  const sub = <T extends unknown[]>(list: Handler<T>, cb: (...a: T) => void) => (list.push(cb), { dispose: () => list.splice(list.indexOf(cb), 1) });
  const host: WorkspaceHost = {
    timings: { saveDebounceMs: 5, commitDebounceMs: 5, diagnosticMinOpenMs: 0 },
    switches: () => ({ saves: true, commits: true, terminal: true, diagnostics: true }),
    warn: (m) => void h.warnings.push(m),
    state: { get: <T>(k: string) => h.state.get(k) as T | undefined, update: async (k, v) => void h.state.set(k, v) },
    openDocuments: () => [...h.open.values()],
    onDidOpen: (cb) => sub(h.on.open, cb),
    onDidClose: (cb) => sub(h.on.close, cb),
    onDidSave: (cb) => sub(h.on.save, cb),
    readFile: (p) => h.files.get(p) ?? '',
    includedPath: async (d) => (d.path && !h.excluded.has(d.path) ? d.path.replace(/^\/ws\//, '') : undefined),
    onTerminalStart: (cb) => sub(h.on.start, cb),
    onTerminalEnd: (cb) => sub(h.on.end, cb),
    onDiagnostics: (cb) => sub(h.on.diag, cb),
    filesWithDiagnostics: () => [...h.errors.keys()],
    errorsIn: (k) => h.errors.get(k) ?? [],
    openDocument: (k) => h.open.get(k),
    gitRoots: () => ['/ws'],
    onGitChange: (cb) => [sub(h.on.git, cb)],
    gitHead: async () => h.head,
    newCommits: async () => h.commits,
    isExcluded: (rel) => rel.startsWith('secret/'),
  };
  const events: { kind: SourceKind; text: string; ref?: string }[] = [];
  const sink = (kind: SourceKind, text: string, ref?: string) => void events.push({ kind, text, ref });
  const doc = (path: string, text: string): HostDocument => ({ key: `file://${path}`, path, languageId: 'typescript', isClosed: false, getText: () => text });
  return { h, host, events, sink, doc };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('capture sources (no VS Code)', () => {
  it('lists every source once, each with its switch', () => {
    expect(CAPTURE_SOURCES.map((s) => s.id)).toEqual(['saves', 'commits', 'terminal', 'diagnostics']);
  });

  it('saves: a changed region becomes one event after the debounce; a whitespace-only save and an excluded file give none', async () => {
    const { h, host, events, sink, doc } = fakeHost();
    h.open.set('file:///ws/a.ts', doc('/ws/a.ts', 'const port = 1;\n'));
    const running = savesSource.start(host, sink);
    const save = (d: HostDocument) => h.on.save.forEach((cb) => cb(d));
    save(doc('/ws/a.ts', 'const   port = 1;\n\n'));
    await tick();
    expect(events).toEqual([]);
    save(doc('/ws/a.ts', 'const port = 2;\n'));
    save(doc('/ws/a.ts', 'const port = 3;\n')); // a burst: one event, the last text
    await tick();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'save', ref: 'a.ts' });
    // Against the text of the last save (the reformatted one), not the first.
    expect(events[0].text).toBe('Edited a.ts (typescript; +1 −2 lines)\n- const   port = 1;\n- \n+ const port = 3;');
    h.excluded.add('/ws/secret.ts');
    save(doc('/ws/secret.ts', 'x'));
    await running.flush!();
    expect(events).toHaveLength(1);
    running.dispose();
  });

  it('terminal: a failed command with its output tail; a command that succeeded or ran outside the workspace gives none', async () => {
    const { h, host, events, sink } = fakeHost();
    const running = terminalSource.start(host, sink);
    const run = (commandLine: string, exitCode: number | undefined, extra: Partial<HostTerminalRun> = {}, out = '') => {
      const r: HostTerminalRun = { id: {}, commandLine, cwd: '.', read: async function* () { yield out; }, ...extra };
      h.on.start.forEach((cb) => cb(r));
      return () => h.on.end.forEach((cb) => cb(r, exitCode));
    };
    const ok = run('npm test', 0);
    await tick();
    ok();
    const outside = run('make', 2, { outside: true });
    await tick();
    outside();
    const fail = run('npm test', 1, {}, 'Expected 2, got 3\n');
    await tick();
    fail();
    expect(events).toEqual([{ kind: 'terminal', text: 'Ran `npm test` in .: failed (exit 1)\nOutput (tail):\nExpected 2, got 3', ref: '.' }]);
    running.dispose();
  });

  it('commits: the first look only remembers HEAD; later commits are captured once, without excluded files', async () => {
    const { h, host, events, sink } = fakeHost();
    const running = commitsSource.start(host, sink) as RunningCommits;
    await running.check('/ws');
    expect(events).toEqual([]);
    h.head = 'bbb';
    h.commits = [{ sha: 'bbb1234567', author: 'Ana', subject: 'Move to pnpm', body: '', files: ['package.json | 2 +-', 'secret/keys.txt | 1 +'] }];
    await running.check('/ws');
    await running.check('/ws');
    expect(events).toEqual([{ kind: 'commit', text: 'Git commit bbb1234567: Move to pnpm\nChanged files: package.json', ref: 'bbb1234567' }]);
    running.dispose();
  });

  it('diagnostics: an error that disappears from an open file is a fix; from a closed file it is not', async () => {
    const { h, host, events, sink, doc } = fakeHost();
    const key = 'file:///ws/b.ts';
    h.errors.set(key, [{ line: 3, message: "Cannot find name 'x'.", source: 'ts', code: '2304' }]);
    h.open.set(key, doc('/ws/b.ts', ''));
    const running = diagnosticsSource.start(host, sink);
    h.errors.set(key, []);
    h.on.diag.forEach((cb) => cb([key]));
    await tick();
    expect(events).toHaveLength(1);
    expect(events[0].text).toMatch(/^Fixed an error in b\.ts:3 \(ts 2304\) after \d+ s: Cannot find name 'x'\.$/);
    h.errors.set(key, [{ line: 1, message: 'oops' }]);
    h.on.diag.forEach((cb) => cb([key]));
    h.open.delete(key);
    h.errors.set(key, []);
    h.on.diag.forEach((cb) => cb([key]));
    await tick();
    expect(events).toHaveLength(1);
    running.dispose();
  });
});

describe('a commit as the extractor reads it', () => {
  it('has neither its author nor its trailers nor a count of files, and keeps the rest of the body', () => {
    const text = formatCommitEvent({
      sha: '3f2a9c1e5b7d00112233',
      author: 'Dana Doe',
      subject: 'Drop Node 18',
      body: 'Node 18 is end of life.\n\nCloses #12: see the thread.\n\nCo-authored-by: Sam Roe <sam@example.com>\nSigned-off-by: Dana Doe <dana@example.com>',
      files: ['package.json | 2 +-', 'a.ts', 'b.ts', 'c.ts', '4 files changed'],
    });
    expect(text).toBe('Git commit 3f2a9c1e5b: Drop Node 18\nNode 18 is end of life.\n\nCloses #12: see the thread.');
    expect(text).not.toMatch(/Dana|Sam|example\.com|files/);
  });
  it('keeps a last paragraph that is prose, even with a colon in it', () => {
    expect(withoutTrailers('Why: the old client leaked sockets under load.')).toBe('Why: the old client leaked sockets under load.');
    expect(withoutTrailers('Fixes the leak.\n\nSee: https://example.com/issue')).toBe('Fixes the leak.\n\nSee: https://example.com/issue');
    expect(withoutTrailers('Fixes the leak.\n\nReviewed-by: Kim <kim@example.com>')).toBe('Fixes the leak.');
  });
});
