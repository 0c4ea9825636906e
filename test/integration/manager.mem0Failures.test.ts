// Mem0's reported failure modes, replayed on this engine with the model's outputs scripted through the fake
// OpenAI server (real openai client over HTTP, real bank on disk). Each case is the bad output Mem0 acted on.
// The engine does not second-guess the model by word overlap; what it guarantees is that every fact is kept,
// a fact retires at most one memory, ids it was not shown are refused, and every change is undoable.
// bench/mem0-failures.ts runs the same four histories with a real model.
import { beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { holdsFact } from '../../src/core/eval/factOverlap';
import { MEM0_FAILURE_CASES } from '../../bench/fixtures/mem0-failures';
import { useScriptedManager } from '../support/scriptedManager';
import { candidatesIn, type FakeChatRequest, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

describe("Mem0's known failure cases on this engine (scripted model outputs)", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let bank: MemoryBank;
  let replies: ((req: FakeChatRequest) => string)[];

  const t = useScriptedManager('pm-mem0fail-', () => '**Selected memories:** none\n**Answer:** unknown');
  beforeEach(() => {
    ({ server, dir, bank, replies } = t);
  });
  const engine = t.engine;
  const active = () => bank.list().items.filter((m) => m.status === 'active');
  const keyOf = (req: FakeChatRequest, text: string) => candidatesIn(req).find((c) => c.text === text)?.id ?? 'missing';

  /** Seeds the case's memories; returns their ids by text. */
  async function seed(memories: readonly string[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const m of memories) ids.set(m, (await bank.addManual(m)).memoryId);
    return ids;
  }

  /** What every case demands: the fact is held by an active memory, and the memories named are untouched. */
  function expectNothingLost(fact: string, untouched: readonly string[], ids: Map<string, string>) {
    expect(active().some((m) => holdsFact(m.text, fact).ok), `no active memory holds "${fact}": ${JSON.stringify(active().map((m) => m.text))}`).toBe(true);
    for (const t of untouched) expect(bank.get(ids.get(t)!)).toMatchObject({ status: 'active', text: t });
    // History is append-only: every seeded memory is still in it, whatever happened.
    for (const id of ids.values()) expect(bank.history().some((r) => r.memoryId === id)).toBe(true);
  }

  /** Undoes the last operation on the memory; it is active again with its text. */
  async function undoOn(id: string, text: string) {
    const last = bank.history(id).at(-1)!;
    await bank.undo(last.opId);
    expect(bank.get(id)).toMatchObject({ status: 'active', text });
  }

  const byId = Object.fromEntries(MEM0_FAILURE_CASES.map((c) => [c.id, c]));

  it('#1674: a duplicate answered with DELETE of the memory that holds it — the fact stays, the delete is undoable', async () => {
    const c = byId['mem0-1674'];
    const ids = await seed(c.memories);
    replies.push((req) => JSON.stringify({ memory: [{ id: keyOf(req, c.memories[0]), text: c.memories[0], event: 'DELETE' }] }));
    const r = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.fact, { kind: 'manual' });
    expect(replies).toHaveLength(0); // the model was asked (a paraphrase, not an exact duplicate)
    // A DELETE alone does not keep the fact: the engine adds it beside the delete.
    expect(r.operations.filter((o) => !o.rejected).map((o) => o.type)).toEqual(['DELETE', 'ADD']);
    expect(r.operations.find((o) => o.type === 'ADD')!.guard).toMatch(/fallback ADD of the fact/);
    expectNothingLost(c.fact, c.memories.slice(1), ids);
    await undoOn(ids.get(c.memories[0])!, c.memories[0]);

    // The exact duplicate never reaches the model: a NOOP without a call.
    const calls = server.requests.length;
    const dup = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.memories[0], { kind: 'manual' });
    expect(dup.operations).toMatchObject([{ type: 'NOOP', reason: 'exact duplicate' }]);
    expect(server.requests.length).toBe(calls);
  });

  it("#1750: an UPDATE aimed at an unrelated memory's id — the model's call stands, the fact is kept and the supersede is undoable", async () => {
    const c = byId['mem0-1750'];
    const ids = await seed(c.memories);
    const wrong = c.memories.find((m) => !m.includes('Lisbon'))!;
    replies.push((req) => JSON.stringify({ memory: [{ id: keyOf(req, wrong), text: c.fact, event: 'UPDATE' }] }));
    const r = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.fact, { kind: 'manual' });
    expect(replies).toHaveLength(0);
    expect(r.operations.filter((o) => !o.rejected)).toMatchObject([{ type: 'UPDATE', supersededId: ids.get(wrong), after: c.fact }]);
    expectNothingLost(c.fact, c.memories.filter((m) => m !== wrong), ids);
    // One undo restores the memory the model should not have touched (and removes the fact's copy).
    const upd = bank.history().find((h) => h.action === 'UPDATE')!;
    await bank.undo(upd.opId);
    expect(bank.get(ids.get(wrong)!)).toMatchObject({ status: 'active', text: wrong });
  });

  it('#4536: a contradiction answered with DELETE of both memories and no ADD — one memory goes (undoably), the fact is kept', async () => {
    const c = byId['mem0-4536'];
    const ids = await seed(c.memories);
    const [old, other] = c.memories;
    replies.push((req) =>
      JSON.stringify({ memory: [
        { id: keyOf(req, old), text: old, event: 'DELETE' },
        { id: keyOf(req, other), text: other, event: 'DELETE' },
      ] }),
    );
    const r = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.fact, { kind: 'manual' });
    expect(replies).toHaveLength(0);
    expect(r.operations.filter((o) => o.rejected).map((o) => o.rejected)).toEqual([expect.stringMatching(/^DELETE of memory \d+ refused: one fact changes at most one memory$/)]);
    const applied = r.operations.filter((o) => !o.rejected);
    expect(applied.map((o) => o.type)).toEqual(['DELETE', 'ADD']);
    expect(applied[1].after).toBe(c.fact);
    const deleted = c.memories.find((m) => bank.get(ids.get(m)!)!.status === 'deleted')!;
    expect(c.memories.filter((m) => bank.get(ids.get(m)!)!.status === 'deleted')).toHaveLength(1);
    expectNothingLost(c.fact, c.memories.filter((m) => m !== deleted), ids);
    await undoOn(ids.get(deleted)!, deleted);
  });

  it('#4708: an UPDATE with an invented id — refused, nothing overwritten, the fact kept (both protocols)', async () => {
    const c = byId['mem0-4708'];
    const ids = await seed(c.memories);
    replies.push(() => JSON.stringify({ memory: [{ id: '17', text: c.fact, event: 'UPDATE' }] }));
    const r = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.fact, { kind: 'manual' });
    expect(replies).toHaveLength(0);
    expect(r.operations.filter((o) => o.rejected).map((o) => o.rejected).join('; ')).toMatch(/17/);
    expectNothingLost(c.fact, c.memories, ids);

    // Per-fact: an id outside the shown ones (the schema's enum forbids it; a server that ignores it).
    await bank.close();
    fs.rmSync(dir, { recursive: true, force: true });
    t.bank = bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(256), watchIntervalMs: 0 });
    const ids2 = await seed(c.memories);
    replies.push(() => JSON.stringify({ decision: 'REPLACES', id: '17' }));
    const r2 = await engine().remember(c.fact, { kind: 'manual' });
    expect(replies).toHaveLength(0);
    expect(r2.operations.filter((o) => o.rejected).map((o) => o.rejected).join('; ')).toMatch(/not "17"/);
    expectNothingLost(c.fact, c.memories, ids2);
  });
});
