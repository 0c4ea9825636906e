// The bank's snapshot (bank/snapshot.ts): opening from it gives exactly the state folding the history
// gives (memories, search, history, undo, duplicates, source events), before and after later writes; a
// snapshot that does not match the history, or is damaged, is not used; scrub removes it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { SNAPSHOT_FILE } from '../../src/core/bank/snapshot';
import { Bm25Index } from '../../src/core/retrieval/bm25';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';

const embedder = new HashingEmbedder(64);
/** With a snapshot from the first record on (the default waits for 2000), or never. */
const openWith = (dir: string, snapshotMinRecords: number) => MemoryBank.open(dir, { embedder, watchIntervalMs: 0, snapshotMinRecords, actor: 'tester' });

/** Everything a reader can see of a bank, in comparable form. */
async function observe(bank: MemoryBank) {
  const all = bank.list({ status: 'all' });
  const queries = ['release branch deploys', 'database postgres', 'tabs spaces formatting', 'chat turn seven', 'flags yaml'];
  const search = [];
  for (const q of queries) {
    search.push((await bank.search(q, { topK: 8, includeInactive: true })).map((h) => [h.memory.id, h.score.toFixed(9)]));
    search.push((await bank.searchDense(q, 5)).map((h) => h.memory.id));
    search.push(bank.searchLexical(q, 5).map((h) => [h.memory.id, h.score.toFixed(9)]));
  }
  return {
    size: bank.size,
    list: all.items.map((m) => JSON.parse(JSON.stringify(m))),
    counts: all.counts,
    search,
    history: bank.history(),
    lastUndoable: bank.lastUndoable()?.opId,
    lastGroup: bank.lastUndoableGroup()?.key,
    events: all.items.map((m) => bank.sourceEvent(m.id) ?? null),
    duplicate: bank.findDuplicate('The staging database is Postgres 16.')?.id ?? null,
  };
}

/** A history with every kind of record: manual and manager writes, supersedes, undo, pins, tags, an import, events. */
async function writeHistory(bank: MemoryBank): Promise<void> {
  const a = await bank.addManual('Deploys run from the main branch.', { tags: ['release'] });
  const b = await bank.addManual('The staging database is Postgres 14.');
  await bank.applyBatch(
    [
      { type: 'UPDATE', memoryId: a.memoryId, text: 'Deploys run from release branches.' },
      { type: 'UPDATE', memoryId: b.memoryId, text: 'The staging database is Postgres 16.' },
      { type: 'ADD', text: 'Feature flags live in flags.yaml.' },
    ],
    { fact: 'release process changed', source: { kind: 'commit', ref: 'abc1234', event: 'ev-1' }, run: 'run-1', eventTime: '2026-03-02T10:00:00.000Z' },
  );
  for (let i = 0; i < 6; i++) {
    await bank.applyBatch([{ type: 'ADD', text: `Chat turn ${i} says the team prefers ${i % 2 ? 'tabs' : 'spaces'} in ${['go', 'make', 'yaml'][i % 3]} files.` }], {
      fact: `turn ${i}`,
      source: { kind: 'chat', ref: `turn-${i % 3}`, event: `ev-chat-${i}` },
    });
  }
  const c = await bank.addManual('Code review needs two approvals.');
  await bank.setPinned(c.memoryId, true);
  await bank.setTags(c.memoryId, ['process', 'review']);
  const d = await bank.addManual('The linter is eslint 8.');
  await bank.delete(d.memoryId);
  await bank.undo(bank.lastUndoable()!.opId);
  await bank.edit(d.memoryId, 'The linter is eslint 9.');
  await bank.importBundle(
    {
      format: 'project-memory-bank',
      version: 1,
      memories: [{ id: '8f8f8f8f-0000-4000-8000-000000000001', text: 'Imported: on-call rotates weekly.', status: 'active', tags: [], pinned: false, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-02T00:00:00.000Z', source: { kind: 'import' } }],
      history: [],
      feedback: [],
    },
    'merge',
  );
}

describe('bank snapshot', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-snap-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens to exactly the state folding the history gives, and stays equal through later writes', async () => {
    const writer = await openWith(dir, 0);
    await writeHistory(writer);
    await writer.close();
    expect(fs.existsSync(path.join(dir, SNAPSHOT_FILE))).toBe(true);
    const historyBytes = fs.readFileSync(path.join(dir, 'history.jsonl'));

    const folded = await openWith(dir, Infinity);
    const expected = await observe(folded);
    await folded.close();
    const restored = await openWith(dir, 0);
    expect(restored.openedFrom).toBe('snapshot');
    expect(folded.openedFrom).toBe('history');
    expect(await observe(restored)).toEqual(expected);
    expect(fs.readFileSync(path.join(dir, 'history.jsonl')).equals(historyBytes)).toBe(true);

    // Writes after a snapshot open: a new memory from an existing source links to that source's newest
    // memory, undo reaches records from before the snapshot, duplicates are still found.
    await restored.applyBatch([{ type: 'ADD', text: 'Chat turn 9 says yaml files use two spaces.' }], { fact: 'turn 9', source: { kind: 'chat', ref: 'turn-1', event: 'ev-chat-9' } });
    expect((await restored.applyBatch([{ type: 'ADD', text: 'The staging database is Postgres 16.' }], { fact: 'again' }))[0].action).toBe('NOOP');
    const imported = restored.history().find((r) => r.action === 'IMPORT')!;
    await restored.undo(imported.opId);
    const pinned = restored.list({ pinned: true }).items[0];
    await restored.edit(pinned.id, 'Code review needs one approval.');
    const after = await observe(restored);
    await restored.close();

    const refolded = await openWith(dir, Infinity);
    expect(await observe(refolded)).toEqual(after);
    await refolded.close();
    const reopened = await openWith(dir, 0);
    expect(reopened.openedFrom).toBe('snapshot');
    expect(await observe(reopened)).toEqual(after);
    await reopened.close();
  });

  it('catches up from a snapshot that is behind the history', async () => {
    const first = await openWith(dir, 0);
    await writeHistory(first);
    await first.close();
    // Another process writes without keeping a snapshot: the one on disk is now behind.
    const other = await openWith(dir, Infinity);
    await other.addManual('Written after the snapshot.');
    await other.applyBatch([{ type: 'ADD', text: 'Chat turn 10 mentions make files.' }], { fact: 't10', source: { kind: 'chat', ref: 'turn-2', event: 'ev-10' } });
    const expected = await observe(other);
    await other.close();
    const bank = await openWith(dir, 0);
    expect(bank.openedFrom).toBe('snapshot');
    expect(await observe(bank)).toEqual(expected);
    await bank.close();
  });

  it('is not used when the history is not the one it was folded from, or when it is damaged', async () => {
    const first = await openWith(dir, 0);
    await writeHistory(first);
    await first.close();
    const snapshot = fs.readFileSync(path.join(dir, SNAPSHOT_FILE));

    // A different history of the same length (a backup restored over it): the checked record differs.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-snap-other-'));
    try {
      const b = await openWith(other, Infinity);
      await writeHistory(b);
      await b.close();
      fs.copyFileSync(path.join(other, 'history.jsonl'), path.join(dir, 'history.jsonl'));
      for (const f of fs.readdirSync(other).filter((n) => n.startsWith('vectors-'))) fs.copyFileSync(path.join(other, f), path.join(dir, f));
      const expectedBank = await openWith(other, Infinity);
      const expected = await observe(expectedBank);
      await expectedBank.close();
      const bank = await openWith(dir, 0);
      expect(bank.openedFrom).toBe('history');
      expect(await observe(bank)).toEqual(expected);
      await bank.close();
      // Rewritten for the history it now has.
      expect(fs.readFileSync(path.join(dir, SNAPSHOT_FILE)).equals(snapshot)).toBe(false);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }

    // A flipped byte: the checksum fails, the history is folded, the snapshot rewritten on close.
    const good = await openWith(dir, Infinity);
    const expected = await observe(good);
    await good.close();
    const bytes = fs.readFileSync(path.join(dir, SNAPSHOT_FILE));
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(path.join(dir, SNAPSHOT_FILE), bytes);
    const bank = await openWith(dir, 0);
    expect(bank.openedFrom).toBe('history');
    expect(await observe(bank)).toEqual(expected);
    await bank.addManual('One more write.');
    await bank.close();
    const again = await openWith(dir, 0);
    expect(again.openedFrom).toBe('snapshot');
    expect(again.size).toBe(expected.size + 1);
    await again.close();
  });

  it('reports damage found before the snapshot on every open, as folding does', async () => {
    const first = await openWith(dir, Infinity);
    await writeHistory(first);
    await first.close();
    const file = path.join(dir, 'history.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[3] = lines[3].replace('"seq":', '"seq" :'); // fails its checksum
    fs.writeFileSync(file, lines.join('\n'));
    const folded = await openWith(dir, 0);
    const report = folded.recovery.messages.join(' ');
    const expected = await observe(folded);
    expect(report).toMatch(/1 damaged history line/);
    await folded.close();
    expect(fs.existsSync(path.join(dir, SNAPSHOT_FILE))).toBe(true);
    const restored = await openWith(dir, 0);
    expect(restored.openedFrom).toBe('snapshot');
    expect(restored.recovery.messages.join(' ')).toBe(report);
    expect(await observe(restored)).toEqual(expected);
    await restored.close();
  });

  it('finds a line damaged after the snapshot was written, as folding does', async () => {
    const first = await openWith(dir, 0);
    await writeHistory(first);
    await first.close();
    const file = path.join(dir, 'history.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1].replace('Postgres 14', 'Postgres 15'); // same length, fails its checksum
    fs.writeFileSync(file, lines.join('\n'));
    const folded = await openWith(dir, Infinity);
    const expected = await observe(folded);
    const report = folded.recovery.messages.join(' ');
    await folded.close();
    expect(report).toMatch(/1 damaged history line/);
    const bank = await openWith(dir, 0);
    expect(bank.openedFrom).toBe('history');
    expect(bank.recovery.messages.join(' ')).toBe(report);
    expect(await observe(bank)).toEqual(expected);
    await bank.close();
  });

  it('is written only once the history is long enough, and removed by a scrub', async () => {
    const small = await openWith(dir, 1000);
    await small.addManual('A small bank opens from its history.');
    await small.close();
    expect(fs.existsSync(path.join(dir, SNAPSHOT_FILE))).toBe(false);
    const bank = await openWith(dir, 0);
    await bank.addManual('The deploy key is AKIAABCDEFGHIJKLMNOP.', {});
    await bank.close();
    expect(fs.existsSync(path.join(dir, SNAPSHOT_FILE))).toBe(true);
    // An older version stored a secret raw (redaction off); scrub rewrites the history and drops the snapshot.
    const raw = await MemoryBank.open(dir, { embedder, watchIntervalMs: 0, snapshotMinRecords: 0, redaction: 'off' });
    await raw.addManual('The staging token is ghp_abcdefghijklmnopqrstuvwxyz0123456789.');
    await raw.close();
    expect(fs.readFileSync(path.join(dir, SNAPSHOT_FILE), 'latin1')).toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    const { scrubFileBank } = await import('../../src/core/bank/scrub');
    const report = await scrubFileBank(dir, { apply: true });
    expect(report.applied).toBe(true);
    expect(fs.existsSync(path.join(dir, SNAPSHOT_FILE))).toBe(false);
    const after = await openWith(dir, 0);
    expect(after.list().items.map((m) => m.text).join(' ')).not.toContain('ghp_');
    await after.close();
  });
});

describe('BM25 compact form', () => {
  it('scores exactly as the incremental index through sets and removals before and after compaction', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const words = 'deploy release branch database postgres tabs spaces yaml flags review linter eslint token cache queue'.split(' ');
    const text = () => Array.from({ length: 3 + Math.floor(rand() * 8) }, () => words[Math.floor(rand() * words.length)]).join(' ');
    const plain = new Bm25Index();
    const compact = new Bm25Index();
    const queries = ['deploy release', 'postgres database cache', 'tabs yaml', 'eslint token review queue'];
    const check = () => {
      for (const q of queries) expect(compact.search(q, 10)).toEqual(plain.search(q, 10));
      expect(compact.size).toBe(plain.size);
    };
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 60; i++) {
        const id = `m${Math.floor(rand() * 80)}`;
        if (rand() < 0.25) {
          plain.remove(id);
          compact.remove(id);
        } else {
          const t = text();
          plain.set(id, t, ['2026-03']);
          compact.set(id, t, ['2026-03']);
        }
      }
      check();
      if (round % 2 === 0) compact.compact();
      else {
        const restored = new Bm25Index();
        restored.restore(compact.export());
        for (const q of queries) expect(restored.search(q, 10)).toEqual(plain.search(q, 10));
      }
      check();
    }
  });
});
