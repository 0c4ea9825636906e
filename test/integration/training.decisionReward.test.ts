// The trainer's decision reward, through the reward server's HTTP interface: the per-fact decision is run
// through the engine on a real bank and rewarded by the bank it leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { RewardEngine } from '../../src/core/training/reward';
import { decisionExamples, loadDecisionCases, type DecisionExample } from '../../src/core/training/decisionReward';
import { TrainingDataError } from '../../src/core/training/dataset';
import { startRewardServer, type RewardServer } from '../../src/core/training/rewardServer';

const repoRoot = path.resolve(__dirname, '../..');
const DEV = path.join(repoRoot, 'bench/fixtures/manager/dev.jsonl');
const TEST = path.join(repoRoot, 'bench/fixtures/manager/test.jsonl');
const decide = (decision: string, id: string) => JSON.stringify({ decision, id });

describe('decision rewards for the per-fact manager', () => {
  let engine: RewardEngine;
  let server: RewardServer;

  beforeAll(async () => {
    engine = new RewardEngine({ embedder: new HashingEmbedder(384), decisions: loadDecisionCases(DEV) });
    server = await startRewardServer(engine, { decisionExamples: () => decisionExamples(loadDecisionCases(DEV).values()) });
  });
  afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  const reward = async (items: { id: string; completion: string }[]) => {
    const res = await fetch(`${server.url}/reward`, { method: 'POST', body: JSON.stringify({ items: items.map((i) => ({ kind: 'decision', ...i })) }) });
    expect(res.status).toBe(200);
    return (await res.json()) as { rewards: number[]; results: { valid: boolean; invalidReason?: string; decision: { op: string; target?: string; kept: boolean; destructive: boolean } }[] };
  };

  it('gives the trainer the exact prompt and the schema choices of every case the model decides', async () => {
    const res = await fetch(`${server.url}/examples?kind=decision`);
    const { examples } = (await res.json()) as { examples: DecisionExample[] };
    // Every case shows the model a related memory, so every case is an example (the engine settles only an empty bank or an exact repeat).
    expect(examples.length).toBeGreaterThan(100);
    expect(examples.length).toBeLessThanOrEqual(190);
    const c001 = examples.find((e) => e.id === 'c001')!;
    expect(c001.decisions).toEqual(['NEW', 'SAME', 'REPLACES', 'REFINES', 'UPDATE']);
    // The model sees every related memory the search found (no word-overlap screen), each with its date and source.
    expect(c001.ids).toEqual(['0', '1', '2', 'none']);
    expect(c001.messages[1].content).toMatch(/^Existing memories:\n\[0\] \(\d{4}-\d{2}-\d{2}, manual\) The project uses PostgreSQL 15\.\n\[1\] \(\d{4}-\d{2}-\d{2}, manual\) .*\n\[2\] .*\n\nNew fact \(2025-06-01\): The project upgraded PostgreSQL from 15 to 16\.$/);
    expect((await fetch(`${server.url}/examples?kind=manager`)).status).toBe(400);
  });

  it('rewards the bank it leaves: 1 for the gold supersede, 0.5 for a safe miss, 0 for a lost fact or invalid output', async () => {
    // c001: "upgraded PostgreSQL from 15 to 16" against [0] "uses PostgreSQL 15": gold UPDATE m1.
    const r = await reward([
      { id: 'c001', completion: decide('REPLACES', '0') },
      { id: 'c001', completion: decide('NEW', 'none') },
      { id: 'c001', completion: decide('SAME', '0') },
      { id: 'c001', completion: 'I think the memory should be updated.' },
    ]);
    expect(r.rewards).toEqual([1, 0.5, 0, 0]);
    expect(r.results[0].decision).toMatchObject({ op: 'UPDATE', target: 'm1', kept: true, destructive: false });
    expect(r.results[1].decision).toMatchObject({ op: 'ADD', kept: true, destructive: false });
    expect(r.results[2].decision).toMatchObject({ op: 'NONE', kept: false });
    expect(r.results[3]).toMatchObject({ valid: false });
    expect(r.results[3].invalidReason).toMatch(/no usable decision/);
  });

  it('scores a supersede of a memory that is still true as destructive (0), with no rule to rescue it', async () => {
    // Find a dev case whose gold is ADD and which shows the model a related memory.
    const { examples } = (await (await fetch(`${server.url}/examples?kind=decision`)).json()) as { examples: DecisionExample[] };
    const cases = loadDecisionCases(DEV);
    const add = examples.find((e) => cases.get(e.id)!.gold.op === 'ADD' && e.ids.includes('0'))!;
    const r = await reward([
      { id: add.id, completion: decide('NEW', 'none') },
      { id: add.id, completion: decide('REPLACES', '0') },
    ]);
    expect(r.rewards).toEqual([1, 0]);
    expect(r.results[1].decision.destructive).toBe(true);
  });

  it('never trains on the test split, and says why', async () => {
    expect(() => loadDecisionCases(TEST)).toThrow(TrainingDataError);
    expect(() => loadDecisionCases(TEST)).toThrow(/test split/);
    const bad = await fetch(`${server.url}/reward`, { method: 'POST', body: JSON.stringify({ items: [{ kind: 'decision', id: 'c999999', completion: '{}' }] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/no decision case "c999999"/);
  });

  it('the CLI refuses the test split with one clear line (exit 2)', () => {
    const cli = path.join(repoRoot, 'dist/cli.js');
    let out = '';
    let code = 0;
    try {
      execFileSync(process.execPath, [cli, 'reward', '--decisions', TEST], { input: '', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { status: number; stderr: string };
      code = e.status;
      out = e.stderr;
    }
    expect(code).toBe(2);
    expect(out).toMatch(/test split: it measures the trained manager and never trains it/);
  });
});
