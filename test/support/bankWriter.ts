// A child process that writes random operations into a memory bank, for the durability tests.
// Usage: node bankWriter.cjs <bankDir> <seed> <maxOps> <label>
// Protocol on stdout, one line each:
//   READY                       the bank is open
//   INTENT <n>                  the next call will append n records (printed before the call)
//   ACK <json>                  the call resolved: {op, records: [{opId, seq, memoryId, action, after}]}
//   REFUSED <code> <message>    the bank refused the call with a BankError (expected, e.g. CONFLICT)
//   DONE                        maxOps calls made
// A line is printed only after the call resolved, so an ACK line is an acknowledgement: the test
// may kill this process at any moment and then requires every ACKed record to be in the history.
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { BankError } from '../../src/core/errors';
import type { HistoryRecord, PlannedOperation } from '../../src/core/types';

const WRITER_EMBEDDER_DIMS = 64; // must match the tests that open the same bank

const WORDS = ['build', 'cache', 'database', 'deploy', 'lint', 'tabs', 'vitest', 'docker', 'port', 'schema', 'release', 'branch', 'token', 'queue', 'index', 'worker'];

/** Mulberry32: small seeded PRNG so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const [dir, seedArg, maxOpsArg, label] = process.argv.slice(2);
  const rand = prng(Number(seedArg));
  const maxOps = Number(maxOpsArg) || Number.POSITIVE_INFINITY;
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  let counter = 0;
  const text = (): string => `${label}n${++counter}: the ${pick(WORDS)} uses ${pick(WORDS)} and ${pick(WORDS)}.`;
  const out = (line: string): void => {
    process.stdout.write(line + '\n');
  };

  const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(WRITER_EMBEDDER_DIMS), watchIntervalMs: 0, actor: label });
  out('READY');

  for (let i = 0; i < maxOps; i++) {
    const all = bank.list({ status: 'all' }).items;
    const active = all.filter((m) => m.status === 'active');
    const inactive = all.filter((m) => m.status !== 'active');
    const r = rand();
    let op: string;
    let call: () => Promise<HistoryRecord[]>;
    let intent = 1;
    if (r < 0.3 || active.length < 3) {
      op = 'addManual';
      const t = text();
      call = async () => [await bank.addManual(t, { tags: rand() < 0.3 ? [pick(WORDS)] : [] })];
    } else if (r < 0.45) {
      op = 'edit';
      const m = pick(active);
      const t = text();
      call = async () => [await bank.edit(m.id, t)];
    } else if (r < 0.55) {
      op = 'delete';
      const m = pick(active);
      call = async () => [await bank.delete(m.id)];
    } else if (r < 0.62 && inactive.length) {
      op = 'restore';
      const m = pick(inactive);
      call = async () => [await bank.restore(m.id)];
    } else if (r < 0.72) {
      op = 'undo';
      const last = rand() < 0.7 ? bank.lastUndoable() : pick(bank.history().slice(-20));
      if (!last) continue;
      // Undoing either half of a supersede reverts both halves in one batch.
      const partner = last.after?.supersedes ?? last.after?.supersededBy;
      if (partner && bank.history(partner).some((p) => p.batchId === last.batchId && !bank.history().some((u) => u.undoes === p.opId))) intent = 2;
      call = () => bank.undo(last.opId);
    } else if (r < 0.76) {
      op = 'pin';
      const m = pick(active);
      call = async () => [await bank.setPinned(m.id, !m.pinned)];
    } else {
      op = 'applyBatch';
      const ops: PlannedOperation[] = [];
      const used = new Set<string>();
      const n = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < n; k++) {
        const kind = rand();
        const m = pick(active);
        if (kind < 0.4 || used.has(m.id)) ops.push({ type: 'ADD', text: text() });
        else if (kind < 0.7) ops.push({ type: 'UPDATE', memoryId: m.id, text: text() });
        else if (kind < 0.9) ops.push({ type: 'DELETE', memoryId: m.id });
        else ops.push({ type: 'NOOP', memoryId: m.id });
        if (ops.at(-1)!.memoryId) used.add(m.id);
      }
      // An UPDATE supersedes: two records (the old memory superseded, the new one added).
      intent = ops.length + ops.filter((o) => o.type === 'UPDATE').length;
      call = () => bank.applyBatch(ops, { fact: `fact from ${label}`, model: 'writer', source: { kind: 'cli', ref: label } });
    }
    out(`INTENT ${intent}`);
    try {
      const recs = await call();
      out(`ACK ${JSON.stringify({ op, records: recs.map((x) => ({ opId: x.opId, seq: x.seq, memoryId: x.memoryId, action: x.action, after: x.after })) })}`);
    } catch (err) {
      const expected = err instanceof BankError && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND' || (op === 'undo' && err.code === 'INVALID_INPUT'));
      if (!expected) throw err;
      out(`REFUSED ${err.code} ${err.message}`);
    }
  }
  await bank.close();
  out('DONE');
}

main().catch((err) => {
  process.stderr.write(`bankWriter failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
