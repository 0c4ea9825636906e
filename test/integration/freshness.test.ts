// Memories checked against the code, through the CLI on a real bank and a real workspace folder, with the
// manager's review answered by the fake OpenAI server over HTTP.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/runCli';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { FreshnessChecker } from '../../src/core/evidence/freshness';
import { FolderWorkspace } from '../../src/core/evidence/workspace';
import { candidatesIn, factIn, reviewReply, roleOf, startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

const run = runCli;

const write = (root: string, rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
};

describe('memory-r1 check', () => {
  let ws: string;
  let bank: string;
  let server: FakeOpenAIServer;
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-fresh-ws-'));
    bank = path.join(ws, '.memory-r1');
    write(ws, 'package.json', JSON.stringify({ scripts: { test: 'vitest run' }, dependencies: { 'private-lib': 'git+https://deploy:ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8@github.com/acme/private-lib.git' } }));
    write(ws, '.nvmrc', '20\n');
    write(ws, 'src/utils/dates.ts', 'export function formatDate() {}\n');
    for (const t of ['The date helpers are in src/utils/dates.ts.', 'The project runs on Node 20.', 'Run the tests with npm test (vitest).', 'Ana owns the billing API.', 'We vendor private-lib from a private repository.']) {
      expect((await run(['add', t, '--bank', bank])).code).toBe(0);
    }
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('cites, flags what changed, and the manager rewrites or keeps each flagged memory; one undo reverts the review', async () => {
    const first = await run(['check', '--workspace', ws, '--bank', bank, '--show']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/Checked 4 memories with evidence .*\(5 newly cited/);
    expect(first.out).toContain('0 memories need review.');
    expect(first.out).toMatch(/file +src\/utils\/dates\.ts/);
    expect(first.out).toMatch(/version +\.nvmrc node = 20/);
    // The token in the manifest value never reaches the ledger.
    const ledger = fs.readFileSync(path.join(bank, 'evidence.jsonl'), 'utf8');
    expect(ledger).toContain('private-lib');
    expect(ledger).not.toContain('ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8');

    fs.mkdirSync(path.join(ws, 'src/time'));
    fs.renameSync(path.join(ws, 'src/utils/dates.ts'), path.join(ws, 'src/time/dates.ts'));
    write(ws, '.nvmrc', '22\n');
    write(ws, 'package.json', JSON.stringify({ scripts: { test: 'vitest run --coverage' } }));
    // A save of one file re-checks only the memories citing it.
    const saved = await run(['check', '--workspace', ws, '--bank', bank, '--paths', '.nvmrc']);
    expect(saved.out).toMatch(/Checked 1 memory with evidence/);
    expect(saved.out).toContain('.nvmrc node changed from 20 to 22');
    const all = await run(['check', '--workspace', ws, '--bank', bank]);
    expect(all.out).toContain('src/utils/dates.ts no longer exists');
    expect(all.out).toContain('private-lib was removed from package.json');
    expect(all.out).toContain('3 memories need review.');
    expect(all.out).not.toContain('npm test'); // the script still runs vitest
    const listed = await run(['list', '--bank', bank]);
    expect(listed.out).toMatch(/The project runs on Node 20\.\s+\[needs review: \.nvmrc node changed from 20 to 22\]/);
    expect(listed.out).toMatch(/Ana owns the billing API\.\n/);

    server.setReply(
      (req) =>
        reviewReply(req, (memory) =>
          memory.includes('Node 20') ? { decision: 'REWRITE', text: 'The project runs on Node 22.' } : memory.includes('date helpers') ? { decision: 'RETIRE' } : { decision: 'KEEP' },
        ) ?? '',
    );
    const reviewed = await run(['check', '--workspace', ws, '--bank', bank, '--review', '--endpoint', server.url, '--model', 'fake']);
    expect(reviewed.code).toBe(0);
    expect(reviewed.out).toMatch(/rewritten as \w{8}: "The project runs on Node 22\."/);
    expect(reviewed.out).toMatch(/\w{8}  retired/);
    expect(reviewed.out).toMatch(/\w{8}  kept/);
    // Where everything a memory cites is gone, keeping it as written is not offered to the model.
    const systemFor = (word: string) => server.requests.map((r) => r.body?.messages).find((m) => m?.[1]?.content?.includes(word))?.[0]?.content as string;
    expect(systemFor('date helpers')).toContain("What a memory cites in the project's files is gone");
    expect(systemFor('Node 20')).toContain('- KEEP: the memory is still correct as written');
    const after = await run(['list', '--bank', bank]);
    expect(after.out).toContain('The project runs on Node 22.');
    expect(after.out).not.toContain('needs review');
    expect(after.out).not.toContain('date helpers');
    // The kept memory's evidence is the workspace as it is now: checking again flags nothing.
    expect((await run(['check', '--workspace', ws, '--bank', bank])).out).toContain('0 memories need review.');
    const history = await run(['history', '--bank', bank]);
    expect(history.out).toContain('its cited files changed: .nvmrc node changed from 20 to 22.');
    // One undo reverts the whole review run.
    const undone = await run(['undo', '--bank', bank]);
    expect(undone.out).toMatch(/Undid 2 operation\(s\) of the last run/);
    const back = await run(['list', '--bank', bank]);
    expect(back.out).toContain('The project runs on Node 20.');
    expect(back.out).toContain('The date helpers are in src/utils/dates.ts.');
  });

  it('keeps a memory flagged when the review answer cannot be read', async () => {
    await run(['check', '--workspace', ws, '--bank', bank]);
    write(ws, '.nvmrc', '22\n');
    server.setReply(() => 'I think it is fine?');
    const r = await run(['check', '--workspace', ws, '--bank', bank, '--review', '--endpoint', server.url, '--model', 'fake']);
    expect(r.out).toContain("not reviewed: the manager's answer could not be read; the memory stays flagged");
    expect((await run(['list', '--bank', bank])).out).toContain('needs review: .nvmrc node changed from 20 to 22');
  });

  it('lifts a flag when the evidence holds again, says renames as moves, and lists and expires unused memories in one undoable batch', async () => {
    const b = await MemoryBank.open(bank, { embedder: new HashingEmbedder(256) });
    try {
      const checker = new FreshnessChecker(b);
      const folder = new FolderWorkspace(ws);
      await checker.check(folder);
      fs.renameSync(path.join(ws, 'src/utils/dates.ts'), path.join(ws, 'src/utils/time.ts'));
      const moved = await checker.check(folder, { paths: ['src/utils/dates.ts', 'src/utils/time.ts'], renames: new Map([['src/utils/dates.ts', 'src/utils/time.ts']]) });
      expect(moved.flagged.map((f) => f.changes)).toEqual([['src/utils/dates.ts was renamed to src/utils/time.ts']]);
      fs.renameSync(path.join(ws, 'src/utils/time.ts'), path.join(ws, 'src/utils/dates.ts'));
      const back = await checker.check(folder, { paths: ['src/utils/dates.ts'] });
      expect(back.cleared).toHaveLength(1);
      expect(checker.ledger.flagged()).toEqual([]);

      const later = new Date(Date.now() + 40 * 24 * 3600 * 1000);
      // Confirmed by a check 20 days from now: only the memories without evidence are due 40 days from now.
      await checker.check(folder, { now: new Date(Date.now() + 20 * 24 * 3600 * 1000) });
      const due = checker.expiring(30, later).map((m) => m.text);
      expect(due).toEqual(['Ana owns the billing API.']);
      await b.setPinned(b.list({ text: 'Ana' }).items[0].id, true);
      expect(checker.expiring(30, later)).toEqual([]);
      await b.setPinned(b.list({ text: 'Ana' }).items[0].id, false);
      const recs = await checker.expire(30, { now: later });
      expect(recs.map((r) => r.action)).toEqual(['DELETE']);
      expect(b.list({ text: 'Ana' }).items).toEqual([]);
      await b.undoBatch(b.lastUndoableGroup()!.key);
      expect(b.list({ text: 'Ana' }).items).toHaveLength(1);
    } finally {
      await b.close();
    }
  });
});

describe('memory-r1 consolidate', () => {
  let dir: string;
  let server: FakeOpenAIServer;
  beforeAll(async () => {
    server = await startFakeOpenAIServer({
      reply: (req) => {
        if (roleOf(req) !== 'manager') return '';
        const fact = factIn(req);
        const cands = candidatesIn(req);
        const find = (re: RegExp) => cands.find((c) => re.test(c.text));
        if (/Deploys happen on Fridays/.test(fact) && find(/deploy on Fridays/)) return JSON.stringify({ decision: 'SAME', id: find(/deploy on Fridays/)!.id });
        if (/Express 5/.test(fact) && find(/Express 4/)) return JSON.stringify({ decision: 'REPLACES', id: find(/Express 4/)!.id });
        if (/Omar covers/.test(fact) && find(/Lena owns/)) return JSON.stringify({ decision: 'REFINES', id: find(/Lena owns/)!.id });
        return JSON.stringify({ decision: 'NEW', id: 'none' });
      },
    });
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-consolidate-'));
    for (const t of ['We deploy on Fridays.', 'The API uses Express 4.', 'Lena owns the billing API.', 'Deploys happen on Fridays.', 'The API moved to Express 5.', 'Omar covers the billing API while Lena is on leave.']) {
      expect((await run(['add', t, '--bank', dir])).code).toBe(0);
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const common = () => ['--bank', dir, '--endpoint', server.url, '--model', 'fake'];

  it('previews without changing anything, applies the plan as one run, and one undo reverts it', async () => {
    const before = (await run(['list', '--bank', dir])).out;
    const preview = await run(['consolidate', ...common()]);
    expect(preview.code).toBe(0);
    expect(preview.out).toMatch(/retire \w{8} "Deploys happen on Fridays\."  \(the same as \w{8} "We deploy on Fridays\."\)/);
    expect(preview.out).toMatch(/supersede \w{8} "The API uses Express 4\."  \(replaced by \w{8} "The API moved to Express 5\."\)/);
    expect(preview.out).toContain('2 change(s) from');
    expect(preview.out).toContain('Nothing changed: run with --apply');
    expect((await run(['list', '--bank', dir])).out).toBe(before);

    const applied = await run(['consolidate', ...common(), '--apply']);
    expect(applied.out).toContain('Applied 2 operation(s)');
    const after = (await run(['list', '--bank', dir])).out;
    expect(after).not.toContain('Deploys happen on Fridays.');
    expect(after).not.toContain('Express 4');
    // A refinement keeps both.
    expect(after).toContain('Lena owns the billing API.');
    expect(after).toContain('Omar covers the billing API');
    expect((await run(['list', '--bank', dir, '--status', 'superseded'])).out).toMatch(/The API uses Express 4\.\s+\[superseded \S+ by \w{8}\]/);

    expect((await run(['undo', '--bank', dir])).out).toMatch(/Undid 2 operation\(s\) of the last run/);
    const sorted = (out: string) => out.split('\n').sort();
    expect(sorted((await run(['list', '--bank', dir])).out)).toEqual(sorted(before));
  });

  it('leaves the claims of one captured event side by side', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-consolidate-event-'));
    try {
      const b = await MemoryBank.open(other, { embedder: new HashingEmbedder(256) });
      await b.applyBatch(
        [
          { type: 'ADD', text: 'We deploy on Fridays.' },
          { type: 'ADD', text: 'Deploys happen on Fridays.' },
        ],
        { source: { kind: 'chat', event: 'turn-1' } },
      );
      await b.close();
      const preview = await run(['consolidate', '--bank', other, '--endpoint', server.url, '--model', 'fake']);
      expect(preview.out).toContain('0 change(s) from');
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('never retires a pinned memory', async () => {
    const b = await MemoryBank.open(dir, { embedder: new HashingEmbedder(256) });
    await b.setPinned(b.list({ text: 'Deploys happen' }).items[0].id, true);
    await b.setPinned(b.list({ text: 'Express 4' }).items[0].id, true);
    await b.close();
    const preview = await run(['consolidate', ...common()]);
    expect(preview.out).toContain('0 change(s) from');
  });
});

describe('the built CLI in a pipe', () => {
  it('stops quietly when the reader closes the pipe (`memory-r1 list | head -1`)', async () => {
    const { spawnSync } = await import('node:child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-epipe-'));
    try {
      for (let i = 0; i < 3; i++) expect((await run(['add', `Memory number ${i} about the pipe.`, '--bank', dir])).code).toBe(0);
      // Many lines, so the CLI is still writing when `head` exits.
      const b = await MemoryBank.open(dir, { embedder: new HashingEmbedder(256) });
      for (let i = 0; i < 400; i++) await b.addManual(`Filler memory ${i} ${'x'.repeat(200)}`);
      await b.close();
      const cli = path.resolve(__dirname, '../../dist/cli.js');
      const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" list --bank "${dir}" | head -1`], { encoding: 'utf8' });
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
