import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { useScriptedManager } from '../support/scriptedManager';
import { candidatesIn, protocolOf, type FakeChatRequest, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

// The manager's judgment is the model's: scripted answers through the real openai client and a real bank
// on disk. The engine parses, keeps ids to the memories shown, keeps one retirement per fact, and never
// loses the fact; it does not veto a decision by word overlap.
describe('Memory Manager decisions (per-fact protocol)', () => {
  let server: FakeOpenAIServer;
  let bank: MemoryBank;
  let replies: ((req: FakeChatRequest) => string)[];

  const t = useScriptedManager('pm-decide-', (req) => {
    const user = req.messages.at(-1)!.content;
    return `**Selected memories:** 1\n**Answer:** ${user.split('\n')[1] ?? ''}`;
  });
  beforeEach(() => {
    ({ server, bank, replies } = t);
  });
  const engine = t.engine;
  const chatCalls = t.chatCalls;
  const decide = (decision: string, pick: (c: { id: string; text: string }[]) => string | undefined = (c) => c[0]?.id, extra: Record<string, string> = {}) => (req: FakeChatRequest) =>
    JSON.stringify({ decision, id: pick(candidatesIn(req)) ?? 'none', ...extra });

  it('shows each related memory with its date and source; REPLACES supersedes it by the fact, true until the fact date', async () => {
    const owner = (await bank.addManual('Dana owns the payments webhook handler.', { source: { kind: 'commit', ref: 'abc123' } })).memoryId;
    replies.push((req) => {
      expect(protocolOf(req)).toBe('per-fact');
      const user = req.messages.at(-1)!.content;
      expect(user).toMatch(/^Existing memories:\n\[0\] \(\d{4}-\d{2}-\d{2}, commit\) Dana owns the payments webhook handler\.\n\nNew fact \(2025-06-02\): Sam now owns/);
      return decide('REPLACES')(req);
    });
    const fact = 'Sam now owns the payments webhook handler, taking over from Dana.';
    const r = await engine().manageFact(fact, { kind: 'manual' }, '2025-06-02');
    const call = chatCalls()[0].body;
    expect(call.response_format.json_schema.schema.properties.decision.enum).toEqual(['NEW', 'SAME', 'REPLACES', 'REFINES', 'UPDATE']);
    expect(call.response_format.json_schema.schema.properties.id.enum).toEqual(['0', 'none']);
    expect(r.operations).toMatchObject([{ type: 'UPDATE', supersededId: owner, after: fact }]);
    expect(bank.get(owner)).toMatchObject({ status: 'superseded', validTo: '2025-06-02' });
  });

  it('REFINES keeps both: an exception to a rule, a stand-in during an absence', async () => {
    const rule = (await bank.addManual('Handlers are named with a handle prefix.')).memoryId;
    replies.push(decide('REFINES'));
    const r = await engine().remember('Webhook handlers keep their vendor names instead of the handle prefix.', { kind: 'chat' });
    expect(r.operations).toMatchObject([{ type: 'ADD', reason: 'refines memory 0' }]);
    expect(bank.get(rule)!.status).toBe('active');
    expect(bank.list().total).toBe(2);
  });

  it('UPDATE rewrites a memory that says several things, with the text the model writes when asked; the old one is history', async () => {
    const both = (await bank.addManual('The app targets Node 18 and is deployed on Fly.io.')).memoryId;
    replies.push(decide('UPDATE'), (req) => {
      // The follow-up continues the same conversation, only after an UPDATE.
      expect(req.messages.at(-1)!.content).toMatch(/^Write memory \[0\] again with the new fact in it/);
      expect(req.response_format).toMatchObject({ json_schema: { name: 'memory_text' } });
      return JSON.stringify({ text: 'The app targets Node 18 and is deployed on Render.' });
    });
    const r = await engine().remember('The app moved its deployment to Render.', { kind: 'chat' });
    expect(r.operations).toMatchObject([{ type: 'UPDATE', supersededId: both, after: 'The app targets Node 18 and is deployed on Render.' }]);
    expect(chatCalls()).toHaveLength(2);
    // A rewrite that cannot be read: the memory is superseded by the fact itself, and the history says so.
    replies.push(decide('UPDATE'), () => 'sure');
    const r2 = await engine().remember('The app targets Node 20.', { kind: 'chat' });
    expect(r2.operations).toMatchObject([{ type: 'UPDATE', after: 'The app targets Node 20.', guard: expect.stringMatching(/UPDATE without a usable rewrite/) }]);
    // REPLACES never asks for a rewrite.
    replies.push(decide('REPLACES'));
    await engine().remember('The app targets Node 22.', { kind: 'chat' });
    expect(chatCalls()).toHaveLength(5);
  });

  it('SAME is a NOOP on the memory; an exact repeat needs no model call; an empty bank adds without one', async () => {
    const add = await engine().remember('Redis is only used for rate limiting.', { kind: 'manual' });
    expect(add.operations).toMatchObject([{ type: 'ADD', guard: 'no related memory: added without a model call' }]);
    expect(chatCalls()).toHaveLength(0);
    replies.push(decide('SAME'));
    const same = await engine().remember('Rate limiting is the only use of Redis.', { kind: 'manual' });
    expect(same.operations).toMatchObject([{ type: 'NOOP', memoryId: add.operations[0].memoryId }]);
    const repeat = await engine().remember('Redis is only used for rate limiting.', { kind: 'manual' });
    expect(repeat.operations).toMatchObject([{ type: 'NOOP', reason: 'exact duplicate' }]);
    expect(chatCalls()).toHaveLength(1);
    expect(bank.list().total).toBe(1);
  });

  it('an id it was not shown, or no JSON at all: the fact is added (no silent loss), the refusal recorded', async () => {
    await bank.addManual('Sam owns the payments webhook handler.');
    replies.push(() => '{"decision": "SAME", "id": "7"}');
    const bad = await engine().remember('Sam owns the payments webhook handler and the refund job.', { kind: 'manual' });
    expect(bad.operations.filter((o) => o.rejected).map((o) => o.rejected)).toEqual(['SAME needs the id of one of the memories shown, not "7"']);
    expect(bad.operations.find((o) => o.type === 'ADD')).toMatchObject({ after: 'Sam owns the payments webhook handler and the refund job.', guard: expect.stringMatching(/fallback ADD/) });
    // With re-ask on, garbage twice: asked once more, saying why, then added.
    replies.push(() => 'I think it is fine', () => 'still fine');
    const twice = await engine({ managerReask: true }).remember('Sam also owns the billing API.', { kind: 'manual' });
    expect(twice.operations.filter((o) => o.rejected).map((o) => o.rejected)).toEqual(['no JSON decision', 'no JSON decision']);
    expect(twice.operations.find((o) => o.type === 'ADD')?.guard).toMatch(/^re-asked \(no JSON decision\); second answer also unusable; fallback ADD/);
    expect(chatCalls().at(-1)!.body.messages.at(-1).content).toMatch(/cannot be used: no JSON decision/);
  });

  it('the model decides even where the words barely overlap: a supersede with little in common is applied', async () => {
    const ci = (await bank.addManual('CI runs on Buildkite with eight agents.')).memoryId;
    replies.push(decide('REPLACES'));
    const r = await engine().remember('Continuous integration moved to GitHub Actions.', { kind: 'commit' });
    expect(r.operations).toMatchObject([{ type: 'UPDATE', supersededId: ci }]);
    expect(bank.get(ci)!.status).toBe('superseded');
  });

  it('with the supersede check on, a REPLACES of a memory that is still true becomes an ADD beside it', async () => {
    await bank.addManual('The payments webhook handler is in src/payments/webhook.ts.');
    replies.push(decide('REPLACES'), () => '{"still_true": "yes"}');
    const r = await engine({ managerVerifyUpdates: true }).remember('The payments webhook handler retries failed events three times.', { kind: 'manual' });
    expect(chatCalls().at(-1)!.body.messages.at(-1).content).toMatch(/^Check before memory \[0\] is replaced/);
    expect(r.operations).toMatchObject([{ type: 'ADD', guard: expect.stringMatching(/^verified: memory 0 is still true/) }]);
    expect(bank.list().total).toBe(2);
  });

  it('the paper protocol: a fact retires at most one memory, its most related; the others are refused', async () => {
    for (const t of ['The API runs on Node 18.', 'The worker runs on Node 18.', 'The docs are built with Docusaurus.']) await bank.addManual(t);
    replies.push((req) => JSON.stringify({ memory: candidatesIn(req).map((c) => ({ id: c.id, text: 'The services run on Node 20.', event: 'UPDATE' })) }));
    const r = await engine({ managerProtocol: 'paper' }).remember('The services run on Node 20.', { kind: 'chat' });
    expect(r.operations.filter((o) => o.type === 'UPDATE' && !o.rejected)).toHaveLength(1);
    expect(r.operations.filter((o) => /one fact changes at most one memory/.test(o.rejected ?? ''))).toHaveLength(2);
    expect(bank.list().total).toBe(3);
    expect(bank.list({ status: 'superseded' }).total).toBe(1);
    expect(server.requests.length).toBeGreaterThan(0);
  });
});
