import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { BankError } from '../../src/core/errors';

describe('MemoryBank on disk', () => {
  let dir: string;
  let bank: MemoryBank;
  const open = () => MemoryBank.open(dir, { embedder: new HashingEmbedder(128), watchIntervalMs: 0, limits: { maxMemoryChars: 200, maxMemories: 5 } });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-bank-'));
    bank = await open();
  });
  afterEach(async () => {
    await bank.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('edits, deletes, restores, pins and undoes, keeping every step in history', async () => {
    const add = await bank.addManual('Releases are cut on Tuesdays.', { tags: ['process'] });
    const id = add.memoryId;
    const edit = await bank.edit(id, 'Releases are cut on Wednesdays.');
    await bank.setPinned(id, true);
    await bank.delete(id);
    expect(bank.get(id)!.status).toBe('deleted');
    await bank.restore(id);
    expect(bank.get(id)).toMatchObject({ status: 'active', pinned: true, text: 'Releases are cut on Wednesdays.', tags: ['process'] });

    // Undo of an older op is refused while later ops changed the memory.
    await expect(bank.undo(edit.opId)).rejects.toMatchObject({ code: 'CONFLICT' });
    const last = bank.lastUndoable()!;
    expect(last.action).toBe('RESTORE');
    await bank.undo(last.opId);
    expect(bank.get(id)!.status).toBe('deleted');
    await expect(bank.undo(last.opId)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(bank.history(id).map((r) => r.action)).toEqual(['ADD', 'EDIT', 'PIN', 'DELETE', 'RESTORE', 'UNDO']);

    // Search sees the edited text, not the old one.
    await bank.restore(id);
    const hits = await bank.search('wednesdays release');
    expect(hits[0].memory.id).toBe(id);
    expect((await bank.search('tuesdays')).length === 0 || (await bank.search('tuesdays'))[0].memory.text.includes('Wednesdays')).toBe(true);
  });

  it('undoes a whole batch in one write, leaving memories changed since and surviving a reopen', async () => {
    const a = await bank.addManual('Deploys run from the main branch.');
    const b = await bank.addManual('The staging database is Postgres 14.');
    const recs = await bank.applyBatch(
      [
        { type: 'UPDATE', memoryId: a.memoryId, text: 'Deploys run from release branches.' },
        { type: 'DELETE', memoryId: b.memoryId },
        { type: 'ADD', text: 'Feature flags live in flags.yaml.' },
      ],
      { fact: 'release process changed' },
    );
    const batchId = recs[0].batchId;
    const newA = recs.find((r) => r.action === 'UPDATE')!.memoryId;
    const added = recs.find((r) => r.action === 'ADD')!.memoryId;
    await bank.edit(added, 'Feature flags live in config/flags.yaml.'); // changed after the batch: stays
    const log = path.join(dir, 'history.jsonl');
    const linesBefore = fs.readFileSync(log, 'utf8').trim().split('\n').length;

    const res = await bank.undoBatch(batchId);
    expect(res.records.map((r) => r.action)).toEqual(['UNDO', 'UNDO', 'UNDO']);
    expect(new Set(res.records.map((r) => r.batchId)).size).toBe(1); // one batch: one append under the lock
    expect(res.operations).toBe(2); // the UPDATE with its SUPERSEDE, and the DELETE
    expect(res.skipped).toEqual([expect.objectContaining({ memoryId: added })]);
    expect(fs.readFileSync(log, 'utf8').trim().split('\n').length).toBe(linesBefore + 3);
    await expect(bank.undoBatch(batchId)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(bank.undoBatch('no-such-batch')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    await bank.close();
    bank = await open();
    expect(bank.get(a.memoryId)).toMatchObject({ status: 'active', text: 'Deploys run from the main branch.' });
    expect(bank.get(a.memoryId)!.supersededBy).toBeUndefined();
    expect(bank.get(newA)!.status).toBe('deleted');
    expect(bank.get(b.memoryId)!.status).toBe('active');
    expect(bank.get(added)).toMatchObject({ status: 'active', text: 'Feature flags live in config/flags.yaml.' });
    expect((await bank.search('which branch do deploys run from', { topK: 1 }))[0].memory.id).toBe(a.memoryId);
  });

  it('applies a batch atomically: one bad operation and nothing is written', async () => {
    const a = await bank.addManual('A is true.');
    const before = fs.readFileSync(path.join(dir, 'history.jsonl'), 'utf8');
    await expect(
      bank.applyBatch(
        [
          { type: 'ADD', text: 'B is true.' },
          { type: 'DELETE', memoryId: 'not-there' },
        ],
        { fact: 'x' },
      ),
    ).rejects.toBeInstanceOf(BankError);
    await expect(
      bank.applyBatch(
        [
          { type: 'UPDATE', memoryId: a.memoryId, text: 'A is false.' },
          { type: 'DELETE', memoryId: a.memoryId },
        ],
        { fact: 'x' },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(fs.readFileSync(path.join(dir, 'history.jsonl'), 'utf8')).toBe(before);
    expect(bank.list().items.map((m) => m.text)).toEqual(['A is true.']);
  });

  it('enforces size limits with clear errors', async () => {
    await expect(bank.addManual('x'.repeat(201))).rejects.toThrow(/limited to 200 characters/);
    for (let i = 0; i < 5; i++) await bank.addManual(`Memory number ${i}.`);
    await expect(bank.addManual('One too many.')).rejects.toMatchObject({ code: 'LIMIT' });
    expect(bank.size).toBe(5);
  });

  it('lists with filters, counts and paging; clear is undoable per memory', async () => {
    await bank.addManual('Alpha uses Rust.', { tags: ['lang'] });
    const b = await bank.addManual('Beta uses Go.', { tags: ['lang'], pinned: true });
    await bank.addManual('Gamma ships weekly.');
    expect(bank.list({ tag: 'lang' }).total).toBe(2);
    expect(bank.list({ text: 'go' }).items.map((m) => m.id)).toEqual([b.memoryId]);
    expect(bank.list({ limit: 1 }).items[0].pinned).toBe(true);
    expect(bank.list({ offset: 2, limit: 5 }).items).toHaveLength(1);
    expect(await bank.clear()).toBe(3);
    expect(bank.list().total).toBe(0);
    expect(bank.list({ status: 'deleted' }).total).toBe(3);
    await bank.undo(bank.lastUndoable()!.opId);
    expect(bank.list().total).toBe(1);
  });

  it('round-trips export and import with history', async () => {
    const a = await bank.addManual('Exported fact.');
    await bank.edit(a.memoryId, 'Exported fact, edited.');
    await bank.side.recordFeedback({ answerId: 'ans-1', kind: 'helpful', memoryIds: [a.memoryId] });
    const bundle = JSON.parse(JSON.stringify(bank.exportBundle()));
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-bank2-'));
    const other = await MemoryBank.open(dir2, { embedder: new HashingEmbedder(128), watchIntervalMs: 0 });
    try {
      expect(await other.importBundle(bundle, 'merge')).toEqual({ imported: 1, skipped: 0, dropped: [] });
      expect(other.get(a.memoryId)!.text).toBe('Exported fact, edited.');
      expect(other.history(a.memoryId).map((r) => r.action)).toEqual(['ADD', 'EDIT', 'IMPORT']);
      expect(other.side.feedback()).toHaveLength(1);
      expect((await other.search('exported fact'))[0].memory.id).toBe(a.memoryId);
      await expect(other.importBundle({ format: 'project-memory-bank', version: 1, memories: [{ id: 1 }] }, 'merge')).rejects.toThrow(/memories\[0\]\.id/);
      expect(await other.importBundle(bundle, 'merge')).toEqual({ imported: 0, skipped: 1, dropped: [] });
    } finally {
      await other.close();
      fs.rmSync(dir2, { recursive: true, force: true });
    }
    expect(bank.toMarkdown()).toContain('Exported fact, edited.');
  });

  it('reopens to the same state and survives a torn last line', async () => {
    const a = await bank.addManual('Survives restarts.');
    await bank.close();
    fs.appendFileSync(path.join(dir, 'history.jsonl'), '0000abcd {"seq": 99, "opId": "torn');
    bank = await open();
    expect(bank.get(a.memoryId)!.text).toBe('Survives restarts.');
    expect(bank.recovery.tornBytes).toBeGreaterThan(0);
    expect(bank.recovery.messages.join(' ')).toMatch(/unfinished write/);
    const b = await bank.addManual('Written after recovery.');
    await bank.close();
    bank = await open();
    expect(bank.get(b.memoryId)).toBeDefined();
    expect(bank.recovery.messages).toEqual([]);
  });

  it('notifies listeners after each committed change', async () => {
    const seen: string[] = [];
    const sub = bank.onDidChange((e) => seen.push(...e.records.map((r) => r.action)));
    const a = await bank.addManual('Listen.');
    await bank.delete(a.memoryId);
    sub.dispose();
    await bank.restore(a.memoryId);
    expect(seen).toEqual(['ADD', 'DELETE']);
  });
});
