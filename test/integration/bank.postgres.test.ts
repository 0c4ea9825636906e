import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { MemoryBank, type MemoryBankOptions } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { BankError } from '../../src/core/errors';
import type { BankChange } from '../../src/core/api';
import { startPostgres, type PostgresServer } from '../support/postgres';

// The same scenario as the file store, against a real PostgreSQL + pgvector on loopback.
let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

const DIMS = 128;
const openBank = (bankId: string, extra: Partial<MemoryBankOptions> = {}) =>
  MemoryBank.open(`pg:${bankId}`, {
    embedder: new HashingEmbedder(DIMS),
    watchIntervalMs: 0,
    limits: { maxMemoryChars: 200, maxMemories: 50 },
    storage: { kind: 'postgres', url: server.url, bankId },
    ...extra,
  });

describe('MemoryBank on PostgreSQL + pgvector', () => {
  it('edits, deletes, restores, pins and undoes, keeping every step in history, and reopens to the same state', async () => {
    const bankId = `repo-${randomUUID()}`;
    const bank = await openBank(bankId, { actor: 'ada' });
    expect(bank.storageInfo.kind).toBe('postgres');
    expect(bank.storageInfo.location).not.toContain('password');
    const add = await bank.addManual('Releases are cut on Tuesdays.', { tags: ['process'] });
    const id = add.memoryId;
    const edit = await bank.edit(id, 'Releases are cut on Wednesdays.');
    await bank.setPinned(id, true);
    await bank.delete(id);
    expect(bank.get(id)!.status).toBe('deleted');
    await bank.restore(id);
    expect(bank.get(id)).toMatchObject({ status: 'active', pinned: true, text: 'Releases are cut on Wednesdays.', tags: ['process'] });

    await expect(bank.undo(edit.opId)).rejects.toMatchObject({ code: 'CONFLICT' });
    const last = bank.lastUndoable()!;
    expect(last.action).toBe('RESTORE');
    await bank.undo(last.opId);
    expect(bank.get(id)!.status).toBe('deleted');
    await expect(bank.undo(last.opId)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(bank.history(id).map((r) => r.action)).toEqual(['ADD', 'EDIT', 'PIN', 'DELETE', 'RESTORE', 'UNDO']);
    expect(bank.history(id).every((r) => (r as { actor?: string }).actor === 'ada')).toBe(true);

    await bank.restore(id);
    const hits = await bank.search('wednesdays release');
    expect(hits[0].memory.id).toBe(id);

    // Manager batches: ADD + UPDATE + DELETE commit together.
    const other = await bank.addManual('The CI runs on GitHub Actions.');
    const recs = await bank.applyBatch(
      [
        { type: 'ADD', text: 'The database is PostgreSQL 15.' },
        { type: 'UPDATE', memoryId: other.memoryId, text: 'The CI runs on Buildkite.' },
        { type: 'DELETE', memoryId: id, reason: 'contradicted' },
      ],
      { fact: 'infra facts', model: 'mgr' },
    );
    // An update supersedes: the old memory is kept (SUPERSEDE), a new one holds the new text (UPDATE).
    expect(recs.map((r) => r.action)).toEqual(['ADD', 'SUPERSEDE', 'UPDATE', 'DELETE']);
    const newCi = recs.find((r) => r.action === 'UPDATE')!.memoryId;
    expect(new Set(recs.map((r) => r.batchId)).size).toBe(1);
    await bank.side.recordFeedback({ answerId: 'a1', kind: 'helpful' });
    const held = await bank.side.holdBatch([{ type: 'DELETE', memoryId: other.memoryId }], { fact: 'x' }, 'too destructive');
    const state = bank.list({ status: 'all' });
    const history = bank.history();
    await bank.close();

    // A second process (here: a second bank object) sees exactly the same state, history, vectors and side data.
    const again = await openBank(bankId);
    try {
      expect(again.list({ status: 'all' })).toEqual(state);
      expect(again.history()).toEqual(history);
      expect(again.recovery.missingVectors).toBe(0);
      expect((await again.search('buildkite ci'))[0].memory.id).toBe(newCi);
      expect(again.get(other.memoryId)).toMatchObject({ status: 'superseded', supersededBy: newCi });
      expect(again.side.feedback().map((f) => f.answerId)).toEqual(['a1']);
      expect(again.side.pendingBatches().map((b) => b.id)).toEqual([held.id]);
      await again.side.resolvePending(held.id, false);
      expect(again.side.pendingBatches()).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it('applies a batch atomically: one bad operation and no row is written', async () => {
    const bankId = `repo-${randomUUID()}`;
    const bank = await openBank(bankId);
    try {
      const a = await bank.addManual('A is true.');
      const count = async () => {
        const c = new pg.Client({ connectionString: server.url });
        await c.connect();
        try {
          const r = await c.query('SELECT count(*)::int AS n FROM pm_records WHERE bank_id = $1', [bankId]);
          return r.rows[0].n as number;
        } finally {
          await c.end();
        }
      };
      const before = await count();
      await expect(
        bank.applyBatch(
          [
            { type: 'ADD', text: 'B is true.' },
            { type: 'DELETE', memoryId: 'not-there' },
          ],
          { fact: 'x' },
        ),
      ).rejects.toBeInstanceOf(BankError);
      expect(await count()).toBe(before);
      expect(bank.list().items.map((m) => m.text)).toEqual(['A is true.']);
      expect(bank.get(a.memoryId)!.status).toBe('active');
    } finally {
      await bank.close();
    }
  });

  it('keeps every operation of two writers on one shared bank, attributed to each, and tells the other about them', async () => {
    const bankId = `repo-${randomUUID()}`;
    const ada = await openBank(bankId, { actor: 'ada', watchIntervalMs: 20 });
    const bob = await openBank(bankId, { actor: 'bob', watchIntervalMs: 20 });
    try {
      const external: string[] = [];
      ada.onDidChange((e: BankChange) => {
        if (e.external) external.push(...e.records.map((r) => r.opId));
      });
      const N = 15;
      const [fromAda, fromBob] = await Promise.all([
        (async () => {
          const out = [];
          for (let i = 0; i < N; i++) out.push(await ada.addManual(`Ada fact number ${i} about the parser.`));
          return out;
        })(),
        (async () => {
          const out = [];
          for (let i = 0; i < N; i++) out.push(await bob.addManual(`Bob fact number ${i} about the renderer.`));
          return out;
        })(),
      ]);
      // Bob edits one of Ada's memories; Ada's stale view is caught up under the lock before she writes.
      const target = fromAda[0].memoryId;
      await bob.edit(target, 'Ada fact number 0, corrected by Bob.');
      await expect(ada.applyBatch([{ type: 'UPDATE', memoryId: target, text: 'x' }, { type: 'DELETE', memoryId: 'missing' }], {})).rejects.toBeInstanceOf(BankError);
      const upd = await ada.applyBatch([{ type: 'UPDATE', memoryId: target, text: 'Ada fact number 0, final.' }], {});
      expect(upd[0].before!.text).toBe('Ada fact number 0, corrected by Bob.');
      const finalId = upd.find((r) => r.action === 'UPDATE')!.memoryId;

      await new Promise((r) => setTimeout(r, 150));
      await bob.addManual('One more from Bob.'); // forces a catch-up of Ada's last write
      const seqs = bob.history().map((r) => r.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(bob.size).toBe(2 * N + 2); // the superseded memory stays
      for (const r of fromBob) expect(external).toContain(r.opId);
      const byActor = (b: MemoryBank, actor: string) => b.history().filter((r) => (r as { actor?: string }).actor === actor).length;
      expect(byActor(bob, 'ada')).toBe(N + 2);
      expect(byActor(bob, 'bob')).toBe(N + 2);

      const reopened = await openBank(bankId);
      try {
        expect(reopened.size).toBe(2 * N + 2);
        expect(reopened.get(finalId)!.text).toBe('Ada fact number 0, final.');
        expect(reopened.get(target)).toMatchObject({ status: 'superseded', text: 'Ada fact number 0, corrected by Bob.' });
        expect((await reopened.search('corrected final ada fact number 0'))[0].memory.id).toBe(finalId);
        // The in-memory scan and pgvector's exact `<#>` scan agree on the ranking.
        const { PgStorage } = await import('../../src/core/bank/storage/pgStorage');
        const store = new PgStorage(server.url, bankId);
        await store.init({ embedder: new HashingEmbedder(DIMS).id, dimensions: DIMS });
        try {
          const [qv] = await new HashingEmbedder(DIMS).embed(['renderer fact number 7']);
          const inDb = await store.searchInDatabase(qv, 5);
          const dense = await reopened.searchDense('renderer fact number 7', 5);
          // Same scores rank by rank (pgvector sums in float32, the bank in float64; equal texts but for a number tie).
          expect(inDb[0].id).toBe(dense[0].memory.id);
          inDb.forEach((h, i) => expect(h.score).toBeCloseTo(dense[i].score, 5));
        } finally {
          await store.close();
        }
      } finally {
        await reopened.close();
      }
    } finally {
      await ada.close();
      await bob.close();
    }
  });

  it('keeps source events for provenance, seen by a second writer, capped with the oldest uncited dropped first', async () => {
    const bankId = `repo-${randomUUID()}`;
    const a = await openBank(bankId, { sourceLimits: { maxEvents: 3 } });
    const b = await openBank(bankId, { sourceLimits: { maxEvents: 3 } });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [rec] = await a.applyBatch([{ type: 'ADD', text: `Service ${i} listens on port ${8000 + i}.` }], {
          source: { kind: 'commit', ref: `abc${i}`, event: `ev-${i}` },
          origin: { text: `Commit ${i}: move service ${i} to port ${8000 + i}`, time: `2026-04-1${i}T10:00:00.000Z` },
        });
        ids.push(rec.memoryId);
      }
      expect(a.sourceOf(ids[0])?.text).toBe('Commit 0: move service 0 to port 8000');
      // The other writer sees them once it catches up (its next write does).
      await b.addManual('Ports are documented in the README.');
      expect(b.sourcesOf(ids[2]).map((s) => s.event)).toEqual(['ev-2']);
      // ev-1's memory deleted: past the cap its event goes first.
      await a.delete(ids[1]);
      await a.applyBatch([{ type: 'ADD', text: 'Service 3 listens on port 8003.' }], { source: { kind: 'commit', ref: 'abc3', event: 'ev-3' }, origin: { text: 'Commit 3', time: '2026-04-13T10:00:00.000Z' } });
      expect(a.sources.get('ev-1')).toBeUndefined();
      // Down to 90% of the cap: the uncited ev-1, then the oldest cited, ev-0 (ev-3 is cited by the batch).
      expect(a.sources.stats()).toMatchObject({ dropped: 2, events: 2 });
      expect(a.sources.get('ev-0')).toBeUndefined();
      const reopened = await openBank(bankId);
      try {
        expect(reopened.sources.all().map((s) => s.event).sort()).toEqual(['ev-2', 'ev-3']);
        expect(reopened.sourceOf(ids[2])?.text).toBe('Commit 2: move service 2 to port 8002');
      } finally {
        await reopened.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses an unreachable database with a clear error', async () => {
    await expect(
      MemoryBank.open('pg:none', { embedder: new HashingEmbedder(DIMS), watchIntervalMs: 0, storage: { kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/postgres', bankId: 'x' } }),
    ).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/Cannot reach the memory bank database/) });
  });
});
