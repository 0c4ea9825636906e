// A reply from the Answer Agent with no answer (a small model looping in its selection line until the token
// cap) is asked once more, over the real openai client and a real bank on disk.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { MemoryEngine } from '../../src/core/engine';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { createModels } from '../../src/core/config';
import { roleOf, startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

const LOOP = '**Selected memories:** ' + Array.from({ length: 140 }, (_, i) => `[${i + 1}]`).join(', ');

describe('an answer reply without an answer', () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let bank: MemoryBank;
  let engine: MemoryEngine;
  let replies: string[];

  beforeEach(async () => {
    replies = [];
    server = await startFakeOpenAIServer({ reply: (req: FakeChatRequest) => (roleOf(req) === 'answer' ? (replies.shift() ?? '**Selected memories:** none\n**Answer:** unknown') : '{}') });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-answer-reask-'));
    bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(256), watchIntervalMs: 0 });
    engine = new MemoryEngine({ bank, ...createModels({ baseURL: server.url, models: { extractor: 'ex', manager: 'mgr', answer: 'ans' }, maxRetries: 0, timeoutMs: 5000 }) });
    await bank.addManual('Flask requires Werkzeug 3.0.0 or newer.');
    await bank.addManual('Flask builds with flit_core.');
  });
  afterEach(async () => {
    await bank.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const answerCalls = () => server.requests.filter((r) => roleOf(r.body as FakeChatRequest) === 'answer').map((r) => r.body as FakeChatRequest);

  it('is asked once more, saying so, and the second answer and its citations count', async () => {
    replies.push(LOOP, '**Selected memories:** [1]\n**Answer:** Werkzeug 3.0.0');
    const r = await engine.answer('What is the minimum Werkzeug version?');
    expect(r.answer).toBe('Werkzeug 3.0.0');
    expect(r.citations.map((c) => c.text)).toEqual(['Flask requires Werkzeug 3.0.0 or newer.']);
    const calls = answerCalls();
    expect(calls).toHaveLength(2);
    expect(calls[1].messages.at(-1)!.content).toMatch(/no answer/);
    expect(calls[1].messages.at(-2)!.content.length).toBeLessThanOrEqual(300);
  });

  it('is not asked again when the first reply answers; an empty second reply leaves the answer empty', async () => {
    replies.push('**Selected memories:** [2]\n**Answer:** flit_core');
    expect((await engine.answer('Which build backend?')).answer).toBe('flit_core');
    expect(answerCalls()).toHaveLength(1);
    replies.push(LOOP, LOOP);
    const r = await engine.answer('Which build backend?');
    expect(r.answer).toBe('');
    expect(answerCalls()).toHaveLength(3);
  });
});
