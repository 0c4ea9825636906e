// Mem0's reported failure modes, replayed on this engine with the model's outputs scripted through the fake
// OpenAI server (real openai client over HTTP, real bank on disk). Each case is the bad output Mem0 acted on;
// the engine must keep every fact and leave unrelated memories alone. bench/mem0-failures.ts runs the same
// four histories with a real model.
import { beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { holdsFact } from '../../src/core/agents/factOverlap';
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

  /** What every case demands: the fact is held by an active memory, and every unrelated memory is untouched. */
  function expectNothingLost(fact: string, untouched: readonly string[], ids: Map<string, string>) {
    expect(active().some((m) => holdsFact(m.text, fact).ok), `no active memory holds "${fact}": ${JSON.stringify(active().map((m) => m.text))}`).toBe(true);
    for (const t of untouched) expect(bank.get(ids.get(t)!)).toMatchObject({ status: 'active', text: t });
    // History is append-only: every seeded memory is still in it, whatever happened.
    for (const id of ids.values()) expect(bank.history().some((r) => r.memoryId === id)).toBe(true);
  }

  const byId = Object.fromEntries(MEM0_FAILURE_CASES.map((c) => [c.id, c]));

  it('#1674: a duplicate answered with DELETE of the memory that holds it — the memory (or the fact) stays', async () => {
    const c = byId['mem0-1674'];
    const ids = await seed(c.memories);
    replies.push((req) => JSON.stringify({ memory: [{ id: keyOf(req, c.memories[0]), text: c.memories[0], event: 'DELETE' }] }));
    const r = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.fact, { kind: 'manual' });
    expect(replies).toHaveLength(0); // the model was asked (a paraphrase, not an exact duplicate)
    expect(r.operations.find((o) => o.rejected)?.rejected).toBe('DELETE of the memory that already holds the fact: a duplicate is a NOOP');
    expect(r.operations.filter((o) => !o.rejected)).toMatchObject([{ type: 'NOOP', memoryId: ids.get(c.memories[0]) }]);
    expectNothingLost(c.fact, c.memories, ids);

    // The exact duplicate never reaches the model: a NOOP without a call.
    const calls = server.requests.length;
    const dup = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.memories[0], { kind: 'manual' });
    expect(dup.operations).toMatchObject([{ type: 'NOOP', reason: 'exact duplicate' }]);
    expect(server.requests.length).toBe(calls);
  });

  it('#1750: an UPDATE aimed at an unrelated memory\'s id — that memory is left alone, the fact is added', async () => {
    const c = byId['mem0-1750'];
    const ids = await seed(c.memories);
    const wrong = c.memories.find((m) => !m.includes('Lisbon'))!;
    replies.push((req) => JSON.stringify({ memory: [{ id: keyOf(req, wrong), text: c.fact, event: 'UPDATE' }] }));
    const r = await engine({ managerProtocol: 'paper', managerReask: false }).remember(c.fact, { kind: 'manual' });
    expect(replies).toHaveLength(0);
    expect(r.operations.find((o) => o.rejected)?.rejected).toBe('UPDATE of a memory unrelated to the fact; the fact is added instead');
    expect(r.operations.filter((o) => !o.rejected).map((o) => o.type)).toEqual(['ADD']);
    expectNothingLost(c.fact, [wrong], ids);
  });

  it('#4536: a contradiction answered with DELETE of both memories and no ADD — the fact is kept, only the contradicted memory goes (undoably)', async () => {
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
    expectNothingLost(c.fact, [other], ids);
    expect(r.operations.find((o) => o.rejected)?.rejected).toBe('a second DELETE: one fact removes at most one memory (the one closest to it)');
    // Only the contradicted memory goes (a soft delete, in the history and undoable), and the fact is added.
    expect(r.operations.filter((o) => !o.rejected).map((o) => [o.type, o.before ?? o.after])).toEqual([
      ['DELETE', old],
      ['ADD', c.fact],
    ]);
    expect(bank.get(ids.get(old)!)?.status).toBe('deleted');
    const del = bank.history().find((h) => h.action === 'DELETE' && h.memoryId === ids.get(old))!;
    await bank.undo(del.opId);
    expect(bank.get(ids.get(old)!)).toMatchObject({ status: 'active', text: old });
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
