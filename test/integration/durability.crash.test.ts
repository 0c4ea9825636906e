import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { FileLock } from '../../src/core/bank/fileLock';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { BankError } from '../../src/core/errors';
import { type AckedRecord, WRITER_DIMS, bundleWriter, prng, readHistoryFile, runWriter, verifyBank } from '../support/durabilityCheck';

// Crash safety: a child process writes random operations and is SIGKILLed at random moments; after
// each kill the bank must open, hold every acknowledged operation, and equal the fold of its history.
const RUNS = Number(process.env.DURABILITY_RUNS ?? 40);
const SEED = Number(process.env.DURABILITY_SEED ?? 20260107);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const openBank = (dir: string) => MemoryBank.open(dir, { embedder: new HashingEmbedder(WRITER_DIMS), watchIntervalMs: 0 });

let script: string;
let scriptDir: string;
const tmpDirs: string[] = [];
const tmp = (name: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `pm-${name}-`));
  tmpDirs.push(d);
  return d;
};

beforeAll(async () => {
  ({ script, dir: scriptDir } = await bundleWriter());
});

afterAll(() => {
  for (const d of [...tmpDirs, scriptDir]) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs a writer to completion (no kill) and returns what it acknowledged. */
async function writeOps(dir: string, seed: number, ops: number): Promise<AckedRecord[]> {
  const w = runWriter(script, dir, seed, ops, `seed${seed}`);
  const ex = await w.exited;
  expect(ex.code, ex.stderr).toBe(0);
  expect(ex.done).toBe(true);
  return w.acked;
}

describe('durability: a writer killed at random points', () => {
  it(`loses no acknowledged operation over ${RUNS} SIGKILLed runs`, async () => {
    const rand = prng(SEED);
    const dir = tmp('crash');
    const acked: AckedRecord[] = [];
    let ackedCalls = 0;
    let killedBeforeReady = 0;
    let tornTails = 0;
    let staleLocks = 0;
    let recordsBefore = 0; // history length after the previous run
    for (let run = 0; run < RUNS; run++) {
      const w = runWriter(script, dir, SEED + run, 0, `run${run}`);
      if (rand() < 0.2) {
        // Sometimes kill while the writer is still opening (and repairing) the bank.
        await sleep(rand() * 150);
      } else {
        await w.ready;
        await sleep(rand() * 300);
      }
      w.child.kill('SIGKILL');
      const ex = await w.exited;
      if (ex.signal !== 'SIGKILL') throw new Error(`run ${run} (seed ${SEED + run}) ended by itself: ${ex.stderr}`);
      if (w.ackedCalls === 0) killedBeforeReady++;
      acked.push(...w.acked);
      ackedCalls += w.ackedCalls;
      if (readHistoryFile(dir).tornBytes > 0) tornTails++;
      if (fs.existsSync(path.join(dir, 'bank.lock'))) staleLocks++;

      const bank = await openBank(dir);
      try {
        await verifyBank(bank, dir, acked);
        // A batch is all or nothing: if the history ends with the unacknowledged call, it is whole.
        const hist = bank.history();
        const last = hist.at(-1);
        if (last && hist.length > recordsBefore && w.openIntent() > 0 && !acked.some((a) => a.opId === last.opId)) {
          expect(hist.filter((r) => r.batchId === last.batchId).length, `run ${run} (seed ${SEED + run}): a batch was applied in part`).toBe(w.openIntent());
        }
        for (const m of bank.recovery.messages) expect(m).toMatch(/unfinished write|recomputed/);
        recordsBefore = hist.length;
      } finally {
        await bank.close();
      }
    }
    const bank = await openBank(dir);
    const total = bank.history().length;
    await bank.close();
    expect(ackedCalls).toBeGreaterThan(RUNS); // the kills landed mid-stream, not before any work
    console.log(
      `durability crash: ${RUNS} runs, ${ackedCalls} acknowledged calls (${acked.length} records), ${total} records in history, ` +
        `lost 0, torn tails cut ${tornTails}, stale locks taken over ${staleLocks}, killed before first ack ${killedBeforeReady}`,
    );
  }, 180_000);
});

describe('durability: damaged files are repaired on open and reported', () => {
  async function seededBank(seed: number, ops = 60): Promise<{ dir: string; acked: AckedRecord[] }> {
    const dir = tmp('damage');
    return { dir, acked: await writeOps(dir, seed, ops) };
  }

  it('skips a line with flipped bytes in the middle of the log, reports it, and stays writable', async () => {
    const { dir, acked } = await seededBank(11);
    const file = path.join(dir, 'history.jsonl');
    const before = readHistoryFile(dir).records;
    const buf = fs.readFileSync(file);
    // Flip bytes inside the JSON of a line in the middle (not its newline).
    const lineStarts = [0, ...[...buf.entries()].filter(([, b]) => b === 0x0a).map(([i]) => i + 1)].slice(0, -1);
    const victim = Math.floor(lineStarts.length / 2);
    const at = lineStarts[victim] + 20;
    buf[at] ^= 0x5a;
    buf[at + 1] ^= 0x21;
    fs.writeFileSync(file, buf);

    const lost = before[victim];
    const bank = await openBank(dir);
    try {
      expect(bank.recovery.corruptRecords).toBe(1);
      expect(bank.recovery.messages.join(' ')).toMatch(/1 damaged history line\(s\) holding 1 record\(s\) could not be read \(checksum mismatch\)/);
      expect(bank.record(lost.opId)).toBeUndefined();
      await verifyBank(bank, dir, acked.filter((a) => a.opId !== lost.opId));
      const rec = await bank.addManual('Written after the repair.');
      expect(bank.get(rec.memoryId)!.text).toBe('Written after the repair.');
    } finally {
      await bank.close();
    }
    const again = await openBank(dir);
    expect(again.record(readHistoryFile(dir).records.at(-1)!.opId)!.after!.text).toBe('Written after the repair.');
    await again.close();
  });

  it('cuts a log truncated in the middle of its last line and keeps every complete record', async () => {
    const { dir, acked } = await seededBank(12);
    const file = path.join(dir, 'history.jsonl');
    const size = fs.statSync(file).size;
    const text = fs.readFileSync(file, 'utf8');
    const lastStart = text.lastIndexOf('\n', size - 2) + 1;
    const cut = lastStart + Math.floor((size - lastStart) / 2);
    fs.truncateSync(file, cut);
    // What an independent reader expects: the cut line goes, and with it the rest of its batch.
    const expected = readHistoryFile(dir);
    expect(expected.tornBytes).toBeGreaterThanOrEqual(cut - lastStart);
    const bank = await openBank(dir);
    try {
      expect(bank.recovery.tornBytes).toBe(expected.tornBytes);
      expect(bank.recovery.messages.join(' ')).toMatch(/unfinished write \(\d+ bytes\) from a crash was never acknowledged; it was moved to history\.torn-/);
      expect(fs.statSync(file).size).toBe(cut - expected.tornBytes);
      // Set aside, never deleted: the side file holds exactly the bytes cut from the history.
      const aside = fs.readdirSync(dir).filter((n) => n.startsWith('history.torn-'));
      expect(aside).toHaveLength(1);
      expect(fs.readFileSync(path.join(dir, aside[0])).equals(Buffer.from(text).subarray(cut - expected.tornBytes, cut))).toBe(true);
      expect(bank.history().map((r) => r.opId)).toEqual(expected.records.map((r) => r.opId));
      const kept = new Set(bank.history().map((r) => r.opId));
      await verifyBank(bank, dir, acked.filter((a) => kept.has(a.opId)));
      expect(acked.filter((a) => !kept.has(a.opId)).length).toBeGreaterThanOrEqual(1);
    } finally {
      await bank.close();
    }
  });

  it('drops every line of a batch whose write was cut short, not just the torn one', async () => {
    const dir = tmp('batch');
    const bank = await openBank(dir);
    const a = await bank.addManual('Before the batch.');
    await bank.close();
    const file = path.join(dir, 'history.jsonl');
    const sizeBefore = fs.statSync(file).size;
    const again = await openBank(dir);
    await again.applyBatch([{ type: 'ADD', text: 'Batch one.' }, { type: 'ADD', text: 'Batch two.' }, { type: 'DELETE', memoryId: a.memoryId }], { fact: 'f' });
    await again.close();
    // Cut inside the third line: the first two lines are whole, but the batch was never finished.
    const full = fs.readFileSync(file);
    const third = full.indexOf(0x0a, full.indexOf(0x0a, sizeBefore) + 1) + 1;
    fs.truncateSync(file, third + 30);
    const reopened = await openBank(dir);
    try {
      expect(reopened.list().items.map((m) => m.text)).toEqual(['Before the batch.']);
      expect(reopened.recovery.tornBytes).toBe(third + 30 - sizeBefore);
      expect(fs.statSync(file).size).toBe(sizeBefore);
    } finally {
      await reopened.close();
    }
  });

  it('recomputes vectors whose slots hold garbage', async () => {
    const { dir, acked } = await seededBank(13);
    const vfile = path.join(dir, `vectors-hashing-v1-${WRITER_DIMS}.bin`);
    const buf = fs.readFileSync(vfile);
    const slotBytes = 4 + 64 + 16 + WRITER_DIMS * 4;
    const rand = prng(13);
    const slots = Math.floor((buf.length - 16) / slotBytes);
    for (let s = 0; s < slots; s += 2) for (let i = 0; i < slotBytes; i++) buf[16 + s * slotBytes + i] = Math.floor(rand() * 256);
    fs.writeFileSync(vfile, buf);
    const bank = await openBank(dir);
    try {
      expect(bank.recovery.missingVectors).toBeGreaterThan(0);
      expect(bank.recovery.messages.join(' ')).toMatch(/vector\(s\) were missing or out of date and were recomputed/);
      await verifyBank(bank, dir, acked);
    } finally {
      await bank.close();
    }
    const again = await openBank(dir);
    expect(again.recovery.missingVectors).toBe(0);
    await again.close();
  });

  it('rebuilds a deleted vector file, and a vector file whose header is garbage', async () => {
    const { dir, acked } = await seededBank(14);
    const vfile = path.join(dir, `vectors-hashing-v1-${WRITER_DIMS}.bin`);
    fs.rmSync(vfile);
    let bank = await openBank(dir);
    const active = bank.list().total;
    expect(bank.recovery.missingVectors).toBe(bank.size);
    expect(bank.recovery.messages.join(' ')).toMatch(new RegExp(`${bank.size} memory vector\\(s\\) were missing`));
    await verifyBank(bank, dir, acked);
    await bank.close();
    expect(active).toBeGreaterThan(0);

    const buf = fs.readFileSync(vfile);
    buf.fill(0x41, 0, 16);
    fs.writeFileSync(vfile, buf);
    bank = await openBank(dir);
    try {
      expect(bank.recovery.messages.join(' ')).toMatch(/vector file .* was damaged/);
      expect(bank.recovery.missingVectors).toBe(bank.size);
      await verifyBank(bank, dir, acked);
    } finally {
      await bank.close();
    }
  });

  it('takes over a lock file left by a dead process, and waits for a live one', async () => {
    const { dir, acked } = await seededBank(15, 20);
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const lockFile = path.join(dir, 'bank.lock');
    fs.writeFileSync(lockFile, JSON.stringify({ pid: dead, host: os.hostname(), time: Date.now() }));
    const bank = await openBank(dir);
    try {
      const rec = await bank.addManual('Written past a stale lock.');
      expect(bank.get(rec.memoryId)!.status).toBe('active');
      expect(fs.existsSync(lockFile)).toBe(false);
      await verifyBank(bank, dir, acked);
    } finally {
      await bank.close();
    }

    // A lock held by a live process is respected: the writer gives up with LOCKED, nothing written.
    fs.writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, host: os.hostname(), time: Date.now() }));
    const sizeBefore = fs.statSync(path.join(dir, 'history.jsonl')).size;
    const err = await new FileLock(lockFile, 30_000, 300).withLock(() => 'ran').catch((e) => e);
    expect(err).toBeInstanceOf(BankError);
    expect((err as BankError).code).toBe('LOCKED');
    expect((err as BankError).message).toMatch(/locked by another process/);
    expect(fs.statSync(path.join(dir, 'history.jsonl')).size).toBe(sizeBefore);
    fs.rmSync(lockFile);
  });
});
