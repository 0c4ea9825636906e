// Shared by the durability tests: bundles and runs `bankWriter.ts` child processes, and checks a bank
// against its history file with an independent reader (so a bug in the bank's own reader cannot hide).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { expect } from 'vitest';
import type { MemoryBank } from '../../src/core/bank/memoryBank';
import { VectorLog } from '../../src/core/bank/vectorLog';
import type { HistoryRecord, MemorySnapshot } from '../../src/core/types';
import { crc32, textHash } from '../../src/core/util/text';

export const WRITER_DIMS = 64;

/** Mulberry32: a seeded PRNG so a failing run replays from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bundles the writer into a temp dir; returns the script path to run with `process.execPath`. */
export async function bundleWriter(): Promise<{ script: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-writer-'));
  const script = path.join(dir, 'bankWriter.cjs');
  await build({
    entryPoints: [path.resolve(__dirname, 'bankWriter.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: script,
    logLevel: 'silent',
  });
  return { script, dir };
}

export interface AckedRecord {
  opId: string;
  seq: number;
  memoryId: string;
  action: string;
  after?: MemorySnapshot;
}

export interface WriterRun {
  child: ChildProcess;
  acked: AckedRecord[];
  ackedCalls: number;
  refused: number;
  /** Records the last call announced (INTENT) and did not acknowledge; 0 when none is open. */
  openIntent: () => number;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; done: boolean }>;
}

export function runWriter(script: string, bankDir: string, seed: number, maxOps: number, label: string): WriterRun {
  const child = spawn(process.execPath, [script, bankDir, String(seed), String(maxOps), label], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Partial<WriterRun> = { child, acked: [], ackedCalls: 0, refused: 0 };
  let intent = 0;
  let done = false;
  let buf = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  run.ready = new Promise<void>((r) => (onReady = r));
  run.openIntent = () => intent;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'READY') onReady();
      else if (line === 'DONE') done = true;
      else if (line.startsWith('INTENT ')) intent = Number(line.slice(7));
      else if (line.startsWith('ACK ')) {
        const ack = JSON.parse(line.slice(4)) as { records: AckedRecord[] };
        run.acked!.push(...ack.records);
        run.ackedCalls!++;
        intent = 0;
      } else if (line.startsWith('REFUSED ')) {
        run.refused!++;
        intent = 0;
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  run.exited = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      onReady(); // a writer that dies before READY must not hang the test
      resolve({ code, signal, stderr, done });
    }),
  );
  return run as WriterRun;
}

/** Reads history.jsonl with its own parser: valid records in file order, damaged and torn counts. */
export function readHistoryFile(bankDir: string): { records: HistoryRecord[]; damaged: number; tornBytes: number } {
  let text: string;
  try {
    text = fs.readFileSync(path.join(bankDir, 'history.jsonl'), 'utf8');
  } catch {
    return { records: [], damaged: 0, tornBytes: 0 };
  }
  const lines = text.split('\n');
  const tail = lines.pop()!;
  // Text after the last newline is an unfinished write, unless it is a whole record that only lost its newline.
  const tailOk = /^([0-9a-f]{8}) (.*)$/.exec(tail);
  let tornBytes = 0;
  if (tailOk && parseInt(tailOk[1], 16) === crc32(tailOk[2])) lines.push(tail);
  else tornBytes = Buffer.byteLength(tail);
  const records: HistoryRecord[] = [];
  let damaged = 0;
  // A line with commitSize n starts n lines written as one unit: all of them count, or none (torn).
  let group: { lines: string[]; left: number; records: HistoryRecord[]; damaged: number } | undefined;
  for (const line of lines) {
    if (!line.trim()) {
      group?.lines.push(line);
      continue;
    }
    const m = /^([0-9a-f]{8}) (.*)$/.exec(line);
    const ok = !!m && parseInt(m[1], 16) === crc32(m[2]);
    const rec = ok ? (JSON.parse(m![2]) as HistoryRecord & { commitSize?: number }) : undefined;
    if (!group && rec?.commitSize && rec.commitSize > 1) group = { lines: [], left: rec.commitSize, records: [], damaged: 0 };
    if (rec) delete rec.commitSize;
    const into = group ?? { records, damaged: 0 };
    if (rec) into.records.push(rec);
    else if (group) group.damaged++;
    else damaged++;
    if (group) {
      group.lines.push(line);
      if (--group.left === 0) {
        records.push(...group.records);
        damaged += group.damaged;
        group = undefined;
      }
    }
  }
  if (group) tornBytes += group.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  return { records, damaged, tornBytes };
}

/** The memories as the history says they are: the last after-state of each memory id. */
export function foldHistory(records: HistoryRecord[]): Map<string, MemorySnapshot> {
  const state = new Map<string, MemorySnapshot>();
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.opId)) continue;
    seen.add(r.opId);
    if (r.after && r.memoryId) state.set(r.memoryId, r.after);
  }
  return state;
}

function comparable(s: MemorySnapshot | undefined): unknown {
  return s && { text: s.text, status: s.status, tags: s.tags ?? [], pinned: !!s.pinned };
}

/**
 * Checks an open bank: every acknowledged record is in the history with its after-state, the bank's
 * memories equal the fold of the history file, seqs are unique, search works and every active
 * memory has a matching vector on disk. Returns the number of acknowledged records checked.
 */
export async function verifyBank(bank: MemoryBank, bankDir: string, acked: AckedRecord[]): Promise<number> {
  const file = readHistoryFile(bankDir);
  const byOp = new Map(bank.history().map((r) => [r.opId, r]));
  for (const a of acked) {
    const rec = byOp.get(a.opId);
    expect(rec, `acknowledged ${a.action} ${a.opId} on ${a.memoryId} is missing from the history`).toBeDefined();
    expect(rec!.memoryId).toBe(a.memoryId);
    expect(rec!.action).toBe(a.action);
    expect(comparable(rec!.after)).toEqual(comparable(a.after));
  }
  // The bank's view equals the fold of the file, and its history is the file's records in order.
  expect(bank.history().map((r) => r.opId)).toEqual(file.records.map((r) => r.opId));
  const seqs = file.records.map((r) => r.seq);
  expect(new Set(seqs).size, 'duplicate seq numbers in the history').toBe(seqs.length);
  const fold = foldHistory(file.records);
  const all = bank.list({ status: 'all' }).items;
  expect(all.length).toBe(fold.size);
  for (const m of all) expect(comparable(m), `memory ${m.id} differs from the fold of the history`).toEqual(comparable(fold.get(m.id)));

  // Vectors: after opening, every active memory has a slot on disk whose text hash matches.
  const vlog = VectorLog.open(path.join(bankDir, `vectors-hashing-v1-${WRITER_DIMS}.bin`), WRITER_DIMS);
  const hashesById = new Map<string, Set<string>>();
  for (const e of vlog.read(0).entries) {
    if (!hashesById.has(e.memoryId)) hashesById.set(e.memoryId, new Set());
    hashesById.get(e.memoryId)!.add(e.textHash);
  }
  const active = all.filter((m) => m.status === 'active');
  for (const m of active) {
    const hashes = [...(hashesById.get(m.id) ?? [])];
    expect(hashes.some((h) => textHash(m.text).startsWith(h)), `active memory ${m.id} has no matching vector on disk`).toBe(true);
  }

  // Search finds a sample of active memories by their own text.
  for (const m of active.slice(0, 5)) {
    const hits = await bank.search(m.text, { topK: 5 });
    expect(hits.map((h) => h.memory.id)).toContain(m.id);
    const dense = await bank.searchDense(m.text, 5);
    expect(dense.map((h) => h.memory.id)).toContain(m.id);
  }
  return acked.length;
}
