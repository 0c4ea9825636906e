import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { BankError } from '../../src/core/errors';

const dirs: string[] = [];
async function openBank(limits: { maxMemoryChars?: number; maxMemories?: number }): Promise<{ bank: MemoryBank; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-limits-'));
  dirs.push(dir);
  return { dir, bank: await MemoryBank.open(dir, { embedder: new HashingEmbedder(64), watchIntervalMs: 0, limits }) };
}

function filesHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex');
}

/** Runs `fn`, expects BankError('LIMIT') with a message matching `message`, and no change on disk. */
async function expectLimit(dir: string, fn: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = filesHash(dir);
  const err = await fn().then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(BankError);
  expect((err as BankError).code).toBe('LIMIT');
  expect((err as BankError).message).toMatch(message);
  expect(filesHash(dir)).toBe(before);
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('bank limits', () => {
  it('refuses a memory over the size limit on every write path, changing nothing', async () => {
    const { bank, dir } = await openBank({ maxMemoryChars: 100 });
    const ok = await bank.addManual('Short and fine.');
    const long = 'x'.repeat(101);
    const msg = /A memory is limited to 100 characters; this one has 101\./;
    await expectLimit(dir, () => bank.addManual(long), msg);
    await expectLimit(dir, () => bank.edit(ok.memoryId, long), msg);
    // One over-long operation refuses the whole batch.
    await expectLimit(dir, () => bank.applyBatch([{ type: 'ADD', text: 'A fine fact.' }, { type: 'UPDATE', memoryId: ok.memoryId, text: long }], {}), msg);
    const bundle = JSON.parse(JSON.stringify(bank.exportBundle()));
    bundle.memories[0] = { ...bundle.memories[0], id: 'imported-1', text: long };
    await expectLimit(dir, () => bank.importBundle(bundle, 'merge'), msg);
    expect(bank.list({ status: 'all' }).items.map((m) => m.text)).toEqual(['Short and fine.']);
    await bank.close();
  });

  it('refuses to grow a full bank, but allows changes that do not add active memories', async () => {
    const { bank, dir } = await openBank({ maxMemories: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await bank.addManual(`Fact number ${i}.`)).memoryId);
    const full = /The memory bank is full \(5 memories\)\. Delete or export old memories first\./;
    await expectLimit(dir, () => bank.addManual('One too many.'), full);
    await expectLimit(dir, () => bank.applyBatch([{ type: 'ADD', text: 'One too many.' }], { fact: 'x' }), full);
    // Replacing one memory with another keeps the count: allowed.
    await bank.applyBatch([{ type: 'DELETE', memoryId: ids[0] }, { type: 'ADD', text: 'A replacement fact.' }], { fact: 'y' });
    expect(bank.list().total).toBe(5);
    // Restoring the deleted one would make six.
    await expectLimit(dir, () => bank.restore(ids[0]), full);
    expect(bank.get(ids[0])!.status).toBe('deleted');
    await bank.close();
  });

  it('counts an imported memory once, with its history, against the limit', async () => {
    const { bank: src } = await openBank({});
    for (let i = 0; i < 4; i++) {
      const r = await src.addManual(`Imported fact ${i}.`);
      await src.edit(r.memoryId, `Imported fact ${i}, edited.`);
    }
    const bundle = JSON.parse(JSON.stringify(src.exportBundle()));
    await src.close();

    const { bank, dir } = await openBank({ maxMemories: 4 });
    expect(await bank.importBundle(bundle, 'merge')).toEqual({ imported: 4, skipped: 0, dropped: [] });
    expect(bank.list().total).toBe(4);
    await bank.close();

    const { bank: small, dir: smallDir } = await openBank({ maxMemories: 3 });
    await expectLimit(smallDir, () => small.importBundle(bundle, 'merge'), /The memory bank is full \(3 memories\)/);
    expect(small.size).toBe(0);
    await small.close();
    expect(dir).not.toBe(smallDir);
  });
});
