import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import type { BankChange } from '../../src/core/api';
import { WRITER_DIMS, bundleWriter, readHistoryFile, runWriter, verifyBank } from '../support/durabilityCheck';

// Two processes write to one bank at the same time; a third (this test) watches. Nothing may be lost,
// sequence numbers stay unique, and the watcher sees every external change.
const OPS_PER_WRITER = Number(process.env.DURABILITY_CONCURRENT_OPS ?? 300);

let script: string;
let scriptDir: string;
let dir: string;

beforeAll(async () => {
  ({ script, dir: scriptDir } = await bundleWriter());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-concurrent-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(scriptDir, { recursive: true, force: true });
});

describe('durability: two writer processes on one bank', () => {
  it(`keeps all ${2 * OPS_PER_WRITER} operations of two concurrent writers`, async () => {
    const watcher = await MemoryBank.open(dir, { embedder: new HashingEmbedder(WRITER_DIMS), watchIntervalMs: 25 });
    const seen = new Set<string>();
    let externalEvents = 0;
    watcher.onDidChange((e: BankChange) => {
      if (!e.external) return;
      externalEvents++;
      for (const r of e.records) seen.add(r.opId);
    });

    const a = runWriter(script, dir, 101, OPS_PER_WRITER, 'A');
    const b = runWriter(script, dir, 202, OPS_PER_WRITER, 'B');
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, ea.stderr).toBe(0);
    expect(eb.code, eb.stderr).toBe(0);
    expect(ea.done && eb.done).toBe(true);
    const acked = [...a.acked, ...b.acked];
    expect(a.ackedCalls).toBeGreaterThan(OPS_PER_WRITER / 2);
    expect(b.ackedCalls).toBeGreaterThan(OPS_PER_WRITER / 2);

    // Both processes really interleaved: each saw (and built on) the other's memories.
    const file = readHistoryFile(dir);
    const actors = file.records.map((r) => (r.source?.actor ?? r.source?.ref ?? '') as string);
    let switches = 0;
    for (let i = 1; i < actors.length; i++) if (actors[i] !== actors[i - 1]) switches++;
    expect(switches).toBeGreaterThanOrEqual(4);

    // The watcher caught up by itself, through its change events.
    const deadline = Date.now() + 20_000;
    while (seen.size < acked.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const missedByWatcher = acked.filter((x) => !seen.has(x.opId)).length;
    expect(missedByWatcher).toBe(0);
    expect(file.records.length).toBe(acked.length); // nothing unacknowledged: both writers finished
    await verifyBank(watcher, dir, acked);
    await watcher.close();

    // A fresh open agrees with the watcher.
    const fresh = await MemoryBank.open(dir, { embedder: new HashingEmbedder(WRITER_DIMS), watchIntervalMs: 0 });
    const lost = acked.filter((x) => !fresh.record(x.opId)).length;
    expect(lost).toBe(0);
    expect(fresh.recovery.messages).toEqual([]);
    await verifyBank(fresh, dir, acked);
    await fresh.close();
    console.log(
      `durability concurrent: 2 writers x ${OPS_PER_WRITER} calls, ${a.ackedCalls + b.ackedCalls} acknowledged (${acked.length} records), ` +
        `${a.refused + b.refused} refused as conflicts, ${switches} writer switches in the log, lost ${lost}, ` +
        `watcher saw ${seen.size} records in ${externalEvents} external events`,
    );
  }, 120_000);
});
