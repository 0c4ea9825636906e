import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { MemoryEngine } from '../../src/core/engine';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { OpenAIChatModel } from '../../src/core/llm/openaiChatModel';
import { createModels } from '../../src/core/config';
import { LlmError } from '../../src/core/errors';
import { EventQueue } from '../../src/core/capture/eventQueue';
import { QueueProcessor } from '../../src/core/capture/queueProcessor';
import { roleOf, startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

// Endpoint faults beyond engine.pipeline.test.ts (refused, timeout, 429/500, malformed stream, cancel):
// a stalled stream, a hang-up mid-response, Retry-After honoured, and bounded retries that end in a
// retryable LlmError so the capture queue keeps the work.

const ANSWER = '**Selected memories:** none\n**Answer:** The endpoint answered in full, chunk by chunk.';

function reply(req: Parameters<Parameters<FakeOpenAIServer['setReply']>[0]>[0]): string {
  const role = roleOf(req);
  if (role === 'extractor') return JSON.stringify({ facts: [...req.messages.at(-1)!.content.matchAll(/FACT: ([^\n]+)/g)].map((m) => m[1]) });
  if (role === 'manager') return JSON.stringify({ memory: [{ id: 'new', text: 'The queue kept this event.', event: 'ADD' }] });
  return ANSWER;
}

/** A server that starts a reply and then breaks it in a chosen way (what the fake server cannot do). */
async function startBreakingServer(mode: 'destroy-stream' | 'end-stream' | 'destroy-body'): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      if (mode === 'destroy-body') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"half');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of ['The endpoint ', 'answered ']) {
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
      }
      setTimeout(() => (mode === 'end-stream' ? res.end() : res.socket?.destroy()), 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    hits: () => hits,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

describe('endpoint faults', () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let bank: MemoryBank;

  beforeEach(async () => {
    server = await startFakeOpenAIServer({ reply });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-faults-'));
    bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(64), watchIntervalMs: 0 });
  });

  afterEach(async () => {
    await bank.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails a stream that stalls longer than the timeout with a retryable TIMEOUT', async () => {
    const model = new OpenAIChatModel({ baseURL: server.url, model: 'ans', timeoutMs: 400, maxRetries: 0 });
    server.setFault((p) => (p.endsWith('/chat/completions') ? { dripMs: 1500 } : undefined));
    const deltas: string[] = [];
    const err = await model.stream({ messages: [{ role: 'user', content: 'hi' }] }, (d) => deltas.push(d)).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.code).toBe('TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/did not answer in time/);
    expect(deltas.length).toBeGreaterThanOrEqual(1); // it did start: the stall came mid-stream
    expect(deltas.join('').length).toBeLessThan(ANSWER.length);
  });

  it('keeps a slow but steady stream that never pauses longer than the timeout', async () => {
    const model = new OpenAIChatModel({ baseURL: server.url, model: 'ans', timeoutMs: 600, maxRetries: 0 });
    server.setFault((p) => (p.endsWith('/chat/completions') ? { dripMs: 60 } : undefined)); // ~12 chunks: longer in total than 600 ms
    const res = await model.stream({ messages: [{ role: 'user', content: 'hi' }] }, () => undefined);
    expect(res.text).toBe(ANSWER);
  });

  it.each(['destroy-stream', 'end-stream'] as const)('reports a stream cut off mid-response (%s) as a retryable error, never as a whole answer', async (mode) => {
    const broken = await startBreakingServer(mode);
    try {
      const model = new OpenAIChatModel({ baseURL: broken.url, model: 'ans', timeoutMs: 2000, maxRetries: 0 });
      const deltas: string[] = [];
      const out = await model.stream({ messages: [{ role: 'user', content: 'hi' }] }, (d) => deltas.push(d)).then(
        (r) => ({ ok: r.text }),
        (e) => ({ err: e }),
      );
      expect(out).not.toHaveProperty('ok');
      const err = (out as { err: LlmError }).err;
      expect(err).toBeInstanceOf(LlmError);
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/model endpoint/);
      expect(deltas.join('')).toBe('The endpoint answered ');
    } finally {
      await broken.close();
    }
  });

  it('reports a non-streamed reply cut off mid-body as a retryable error', async () => {
    const broken = await startBreakingServer('destroy-body');
    try {
      const model = new OpenAIChatModel({ baseURL: broken.url, model: 'mgr', timeoutMs: 2000, maxRetries: 0 });
      const err = await model.complete({ messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
      expect(err).toBeInstanceOf(LlmError);
      expect(err.retryable).toBe(true);
    } finally {
      await broken.close();
    }
  });

  it('honours Retry-After: 1 on a 429 before retrying', async () => {
    const order: string[] = [];
    server.setFault((p, _b, attempt) => {
      if (!p.endsWith('/chat/completions')) return undefined;
      order.push(`request ${attempt + 1}`);
      if (attempt === 0) {
        // A marker 700 ms after the 429: longer than the client's own first backoff (at most 500 ms).
        setTimeout(() => order.push('700 ms later'), 700);
        return { status: 429, headers: { 'retry-after': '1' } };
      }
      return undefined;
    });
    const model = new OpenAIChatModel({ baseURL: server.url, model: 'ans', timeoutMs: 5000, maxRetries: 2 });
    const res = await model.complete({ messages: [{ role: 'user', content: 'hi' }] });
    expect(res.text).toBe(ANSWER);
    expect(order).toEqual(['request 1', '700 ms later', 'request 2']);
  });

  it('ends bounded retries with a retryable LlmError, and the capture queue keeps the event until the endpoint is back', async () => {
    const models = createModels({ baseURL: server.url, models: { extractor: 'ex', manager: 'mgr', answer: 'ans' }, maxRetries: 2, timeoutMs: 2000 });
    const engine = new MemoryEngine({ bank, ...models });
    // Persistent 429s (retry at once) and a server that hangs up before answering.
    for (const fault of [{ status: 429, headers: { 'retry-after': '0' } }, { hangUp: true }]) {
      server.requests.length = 0;
      server.setFault((p) => (p.endsWith('/chat/completions') ? fault : undefined));
      const err = await engine.ingest({ id: 'e', source: { kind: 'save', ref: 'a.ts' }, text: 'FACT: x', time: new Date().toISOString() }).catch((e) => e);
      expect(err).toBeInstanceOf(LlmError);
      expect(err.retryable).toBe(true);
      expect(err.code).toBe(fault.status ? 'RATE_LIMITED' : 'UNREACHABLE');
      expect(server.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(3); // 1 try + 2 retries
    }

    const queue = EventQueue.open(path.join(dir, 'queue'));
    queue.append([{ id: 'ev-1', source: { kind: 'save', ref: 'src/queue.ts' }, text: 'FACT: The queue kept this event.', time: new Date().toISOString() }]);
    const failures: { willRetry: boolean }[] = [];
    const processor = new QueueProcessor({
      queue,
      ingest: (ev, signal) => engine.ingest(ev, signal),
      onFailed: (_e, _m, willRetry) => failures.push({ willRetry }),
      retryDelaysMs: [60_000],
    });
    await processor.kick();
    expect(failures).toEqual([{ willRetry: true }]);
    expect(queue.length).toBe(1);
    expect(processor.state.error).toMatch(/Cannot reach the model endpoint/);
    expect(processor.state.retryAt).toBeDefined();
    expect(bank.size).toBe(0);
    // Still queued after a restart.
    expect(EventQueue.open(path.join(dir, 'queue')).length).toBe(1);

    server.setFault(undefined);
    await processor.retry();
    expect(queue.length).toBe(0);
    expect(processor.state.processed).toBe(1);
    expect(bank.list().items.map((m) => m.text)).toEqual(['The queue kept this event.']);
    processor.dispose();
  });
});
