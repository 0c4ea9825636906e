import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJudgeMessages, JUDGE_SCHEMA } from '../../src/core/eval/judge';
import { OpenAIEmbedder } from '../../src/core/embeddings/openaiEmbedder';
import { OpenAIChatModel } from '../../src/core/llm/openaiChatModel';
import { startModelServer, type ModelServer } from '../../src/server/llamaServer';
import { isLoopbackHost } from '../../src/server/loopback';
import { runServeCommand } from '../../src/server/serveCommand';
import { cosine, ensureTestModels, REPO_ROOT, SETUP_TIMEOUT_MS, startTestModelServer } from './localModelsSetup';

const MEMORY_SCHEMA = {
  type: 'object',
  properties: {
    operation: { type: 'string', enum: ['ADD', 'UPDATE', 'DELETE', 'NOOP'] },
    memory: { type: 'string', maxLength: 80 },
    confidence: { type: 'number' },
    tags: { type: 'array', items: { type: 'string', maxLength: 20 }, maxItems: 3 },
  },
  required: ['operation', 'memory', 'tags'],
  additionalProperties: false,
} as const;

/** Enough of a JSON Schema check for MEMORY_SCHEMA, written out so a wrong answer cannot slip by. */
function matchesMemorySchema(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in MEMORY_SCHEMA.properties)) return `unexpected key ${k}`;
  if (!MEMORY_SCHEMA.properties.operation.enum.includes(o.operation as never)) return `bad operation ${String(o.operation)}`;
  if (typeof o.memory !== 'string' || o.memory.length > 80) return 'bad memory';
  if ('confidence' in o && typeof o.confidence !== 'number') return 'bad confidence';
  if (!Array.isArray(o.tags) || o.tags.length > 3 || !o.tags.every((t) => typeof t === 'string' && t.length <= 20)) return 'bad tags';
  return undefined;
}

// Generation on a busy 2-core machine can be slow: each test gets two minutes.
describe('local OpenAI-compatible model server (node-llama-cpp + SmolLM2-135M)', { timeout: 120_000 }, () => {
  let server: ModelServer;
  let client: OpenAI;
  const progress: string[] = [];

  beforeAll(async () => {
    server = await startTestModelServer({ contextSize: 2048, onProgress: (m) => progress.push(m) });
    client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.close();
  });

  it('reports load progress and lists its models', async () => {
    expect(progress.some((m) => /Model loaded in/.test(m))).toBe(true);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(['SmolLM2-135M-Instruct.Q4_1', 'all-MiniLM-L6-v2']);
  });

  it('keeps the evaluated prefix of each system prompt: alternating roles evaluate only their new tokens', async () => {
    const systemA = `You extract facts from events. ${'Facts are short sentences about the project. '.repeat(12)}`;
    const systemB = `You decide memory operations. ${'Each operation is ADD, UPDATE, DELETE or NOOP. '.repeat(12)}`;
    const ask = async (system: string, user: string) => {
      const res = await fetch(`${server.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'system', content: system }, { role: 'user', content: user }], temperature: 0, max_tokens: 4 }),
      });
      const body = (await res.json()) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } }; timings: { cache_n: number; prompt_n: number } };
      expect(body.timings.cache_n).toBe(body.usage.prompt_tokens_details.cached_tokens);
      expect(body.timings.cache_n + body.timings.prompt_n).toBe(body.usage.prompt_tokens);
      return body.usage;
    };
    await ask(systemA, 'Event: we use PostgreSQL.');
    await ask(systemB, 'Fact: we use PostgreSQL.');
    // The third call comes back to the first system prompt after another one ran in between.
    const a2 = await ask(systemA, 'Event: tests run with npm test.');
    const b2 = await ask(systemB, 'Fact: tests run with npm test.');
    for (const u of [a2, b2]) {
      expect(u.prompt_tokens_details.cached_tokens).toBeGreaterThan(100);
      expect(u.prompt_tokens - u.prompt_tokens_details.cached_tokens).toBeLessThan(25);
    }
  });

  it('answers a chat completion with usage counts', async () => {
    const res = await client.chat.completions.create({
      model: server.model,
      messages: [
        { role: 'system', content: 'You are a helpful assistant. Answer in one short sentence.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
      temperature: 0,
      max_tokens: 40,
    });
    const text = res.choices[0].message.content ?? '';
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].message.role).toBe('assistant');
    expect(text).toMatch(/Paris/);
    expect(['stop', 'length']).toContain(res.choices[0].finish_reason);
    expect(res.usage!.prompt_tokens).toBeGreaterThan(15);
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
    expect(res.usage!.completion_tokens).toBeLessThanOrEqual(40);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it('stops at max_tokens with finish_reason "length"', async () => {
    const res = await client.chat.completions.create({
      model: server.model,
      messages: [{ role: 'user', content: 'Write a long story about a dragon who learns to program.' }],
      temperature: 0,
      max_tokens: 5,
    });
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.usage!.completion_tokens).toBe(5);
  });

  it('streams server-sent events that add up to the answer, then usage and [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: server.model,
      messages: [{ role: 'user', content: 'Name three colours.' }],
      temperature: 0,
      max_tokens: 30,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let first = true;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (first) {
        expect(chunk.choices[0].delta.role).toBe('assistant');
        first = false;
      }
      if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThan(1);
    expect(finish).not.toBeNull();
    expect(usage!.completion_tokens).toBeGreaterThan(0);

    // The same request without streaming gives the same text (greedy decoding).
    const whole = await client.chat.completions.create({
      model: server.model,
      messages: [{ role: 'user', content: 'Name three colours.' }],
      temperature: 0,
      max_tokens: 30,
    });
    expect(deltas.join('')).toBe(whole.choices[0].message.content);
  });

  it('ends the raw SSE stream with data: [DONE]', async () => {
    const raw = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 3, stream: true, temperature: 0 }),
    });
    expect(raw.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await raw.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events[events.length - 1]).toBe('data: [DONE]');
  });

  it('constrains output to a JSON schema', async () => {
    const res = await client.chat.completions.create({
      model: server.model,
      messages: [
        { role: 'system', content: 'You manage a memory bank. Reply with JSON.' },
        { role: 'user', content: 'New fact: the project uses PostgreSQL 16. Existing memories: none.' },
      ],
      temperature: 0,
      max_tokens: 120,
      response_format: { type: 'json_schema', json_schema: { name: 'memory_operation', schema: MEMORY_SCHEMA as unknown as Record<string, unknown> } },
    });
    const parsed = JSON.parse(res.choices[0].message.content ?? '');
    expect(matchesMemorySchema(parsed)).toBeUndefined();
  });

  it('constrains output to JSON with json_object, and refuses schemas it cannot enforce', async () => {
    const res = await client.chat.completions.create({
      model: server.model,
      messages: [{ role: 'user', content: 'Give me a JSON object with the name and age of a cat.' }],
      temperature: 0,
      max_tokens: 300,
      response_format: { type: 'json_object' },
    });
    expect(res.choices[0].finish_reason).toBe('stop');
    const value = JSON.parse(res.choices[0].message.content ?? '');
    expect(typeof value).toBe('object');

    const bad = client.chat.completions.create({
      model: server.model,
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', not: { required: ['a'] } } } },
    });
    await expect(bad).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/json_schema.*"not"/) });
  });

  it('rejects bad requests with OpenAI-style errors and keeps serving', async () => {
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
    await expect(client.chat.completions.create({ model: server.model, messages: [] })).rejects.toMatchObject({ status: 400 });
    const raw = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const huge = 'word '.repeat(3000);
    await expect(client.chat.completions.create({ model: server.model, messages: [{ role: 'user', content: huge }] })).rejects.toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
  });

  it('serves embeddings from the in-process ONNX embedder, as floats and base64', async () => {
    const texts = ['How do I reset my password?', 'Steps to change my login password', 'The weather is sunny.'];
    const res = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: texts }); // the SDK asks for base64
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(res.data[0].embedding.length).toBe(384);
    expect(res.usage.prompt_tokens).toBeGreaterThan(10);
    const [a, b, c] = res.data.map((d) => d.embedding);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.2);

    const floats = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: texts[0], encoding_format: 'float' });
    expect(cosine(floats.data[0].embedding, a)).toBeGreaterThan(0.999999);
    await expect(client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: [] })).rejects.toMatchObject({ status: 400 });
  });

  it('stops generating when the client disconnects', async () => {
    const before = server.stats();
    const maxTokens = 1500;
    await new Promise<void>((resolve, reject) => {
      const url = new URL(`${server.url}/chat/completions`);
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          // First event (the role chunk) arrived: generation runs. Hang up.
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end(
        JSON.stringify({
          messages: [{ role: 'user', content: 'Count from 1 to 1000, one number per line.' }],
          max_tokens: maxTokens,
          temperature: 0,
          stream: true,
        }),
      );
    });
    await expect.poll(() => server.stats().aborted, { timeout: 30_000, interval: 50 }).toBe(before.aborted + 1);
    const aborted = server.stats().lastAborted!;
    expect(aborted.maxTokens).toBe(maxTokens);
    expect(aborted.completionTokens).toBeLessThan(maxTokens);
    expect(server.stats().completed).toBe(before.completed);

    // The sequence is free again: the next request runs normally.
    const next = await client.chat.completions.create({ model: server.model, messages: [{ role: 'user', content: 'Say yes.' }], max_tokens: 3, temperature: 0 });
    expect(next.choices[0].message.content?.length).toBeGreaterThan(0);
  });

  it('answers requests queued behind each other in order, one at a time', async () => {
    const ask = (q: string) =>
      client.chat.completions.create({ model: server.model, messages: [{ role: 'user', content: q }], max_tokens: 8, temperature: 0 });
    const results = await Promise.all([ask('What is 2 + 2?'), ask('Name a fruit.'), ask('Say hello.')]);
    for (const r of results) expect(r.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(server.stats().queued).toBe(0);
  });

  it("serves the project's own OpenAIChatModel and OpenAIEmbedder (judge schema, streaming, embeddings)", async () => {
    const chat = new OpenAIChatModel({ baseURL: server.url, model: server.model, maxRetries: 0 });
    // The judge's schema keeps the answer short; SmolLM2 writes long free strings under the manager's.
    const res = await chat.complete({
      messages: buildJudgeMessages('Which database does the project use?', 'PostgreSQL 16', 'It uses Postgres 16.'),
      json: { schema: JUDGE_SCHEMA, name: 'judge_label' },
      maxTokens: 50,
    });
    expect(['CORRECT', 'WRONG']).toContain((JSON.parse(res.text) as { label: string }).label);
    expect(res.usage.promptTokens).toBeGreaterThan(100);

    const deltas: string[] = [];
    const streamed = await chat.stream({ messages: [{ role: 'user', content: 'Say hello.' }], maxTokens: 10 }, (d) => deltas.push(d));
    expect(deltas.join('')).toBe(streamed.text);
    expect(streamed.usage.completionTokens).toBeGreaterThan(0);

    const embedder = new OpenAIEmbedder({ baseURL: server.url, model: server.embeddingModel!, maxRetries: 0 });
    const [v] = await embedder.embed(['The project uses PostgreSQL 16.']);
    expect(v.length).toBe(384);
  });

  it('answers only clients that address it by a loopback name (no DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/models`);
      const req = http.request(url, { headers: { host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('model server with a GGUF embedding model', () => {
  it('serves /v1/embeddings from a llama.cpp embedding context', async () => {
    const { chatModelPath } = ensureTestModels();
    // SmolLM2 is no sentence embedder; it only exercises the GGUF path (load, pool, normalise, count tokens).
    const server = await startModelServer({ modelPath: chatModelPath, port: 0, gpu: false, contextSize: 512, embeddingModelPath: chatModelPath });
    try {
      const client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
      const res = await client.embeddings.create({ model: server.embeddingModel!, input: ['same text', 'same text', 'other words entirely'], encoding_format: 'float' });
      const [a, b, c] = res.data.map((d) => d.embedding);
      expect(a.length).toBe(576); // SmolLM2-135M hidden size
      expect(Math.hypot(...a)).toBeCloseTo(1, 4);
      expect(cosine(a, b)).toBeGreaterThan(0.9999);
      expect(cosine(a, c)).toBeLessThan(0.9999);
      expect(res.usage.prompt_tokens).toBeGreaterThanOrEqual(6);

      // close() during a generation stops it, ends the client's stream and frees the model.
      const stream = await client.chat.completions.create({
        model: server.model,
        messages: [{ role: 'user', content: 'Count from 1 to 1000, one number per line.' }],
        max_tokens: 400,
        temperature: 0,
        stream: true,
      });
      const received: string[] = [];
      const reading = (async () => {
        for await (const chunk of stream) {
          received.push(chunk.choices[0]?.delta.content ?? '');
          if (received.length === 3) void server.close();
        }
      })().catch((e: unknown) => e);
      await reading;
      await server.close();
      expect(server.stats().aborted).toBe(1);
      expect(server.stats().lastAborted!.completionTokens).toBeLessThan(400);
      await expect(fetch(`${server.url}/models`)).rejects.toThrow();
    } finally {
      await server.close();
    }
  }, 120_000);
});

describe('model server host policy', () => {
  it('knows loopback names and addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1', '', 'localhost.evil.com']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses a non-loopback host before loading anything', async () => {
    const { chatModelPath } = ensureTestModels();
    await expect(startModelServer({ modelPath: chatModelPath, host: '0.0.0.0', port: 0 })).rejects.toThrow(/Refusing to listen on 0\.0\.0\.0.*allowNonLoopback/);
    await expect(startModelServer({ modelPath: chatModelPath, host: '192.168.1.10', port: 0 })).rejects.toThrow(/Refusing/);
  });

  it('says which model file is missing', async () => {
    await expect(startModelServer({ modelPath: '/nonexistent/model.gguf', port: 0 })).rejects.toThrow('Model file not found: /nonexistent/model.gguf');
  });
});

describe('memory-r1 serve', () => {
  it('serves an installed catalog model by id, with the installed MiniLM by default, until stopped', async () => {
    const { qwenPath, embedderDir } = ensureTestModels();
    expect(process.cwd()).toBe(REPO_ROOT);
    const lines: string[] = [];
    const stop = new AbortController();
    let url = '';
    // A catalog id, no --embedding-model: both are found in the models folder ($MODELS_DIR or .cache/models).
    // (The default chat model, the 1.5B, is the same lookup; the tests do not install it.)
    const code = runServeCommand(['--model', 'qwen2.5-coder-0.5b-instruct', '--port', '0', '--cpu', '--context-size', '1024'], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(`ERR ${l}`),
      signal: stop.signal,
      onListening: (s) => {
        url = s.url;
        void (async () => {
          const res = await fetch(`${url}/models`);
          lines.push(`models ${res.status}`);
          stop.abort();
        })();
      },
    });
    expect(await code).toBe(0);
    expect(lines).toContain('models 200');
    expect(lines.some((l) => l.startsWith(`Model server listening on ${url}`))).toBe(true);
    expect(lines).toContain('Model server stopped.');
    expect(lines).toContain(`Loading ${qwenPath}`);
    expect(lines.some((l) => l.includes('Embedding model all-MiniLM-L6-v2 loaded') && l.includes(path.basename(embedderDir)))).toBe(true);
    await expect(fetch(`${url}/models`)).rejects.toThrow();
  }, 120_000);

  it('stops cleanly on SIGINT in a real process (bundled as the CLI is)', async () => {
    ensureTestModels();
    fs.mkdirSync(path.join(REPO_ROOT, '.cache'), { recursive: true });
    const out = fs.mkdtempSync(path.join(REPO_ROOT, '.cache', 'serve-bundle-'));
    try {
      const bundle = path.join(out, 'serve.cjs');
      execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'esbuild'), [
        path.join(REPO_ROOT, 'src/server/serveCommand.ts'),
        '--bundle', '--platform=node', '--format=cjs', '--target=node20', `--outfile=${bundle}`, '--log-level=warning',
        '--external:node-llama-cpp', '--external:onnxruntime-node',
      ]);
      const child = spawn(
        path.join(REPO_ROOT, 'node_modules', '.bin', 'node'),
        ['-e', `require(${JSON.stringify(bundle)}).runServeCommand(process.argv.slice(1)).then((c) => { process.exitCode = c; })`, '--', '--model', 'smollm2-135m-instruct', '--port', '0', '--cpu', '--context-size', '512', '--embedding-model', 'none'],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          output += d.toString();
          if (output.includes('Model server listening on')) resolve();
        });
        child.on('exit', () => reject(new Error(`serve exited early:\n${output}`)));
      });
      child.kill('SIGINT');
      expect(await exit).toBe(0);
      expect(output).toContain('Model server stopped.');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('exits 2 on a bad flag and 1 when the host is not loopback', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await runServeCommand(['--bogus'], io)).toBe(2);
    const { chatModelPath } = ensureTestModels();
    expect(await runServeCommand(['--model', chatModelPath, '--embedding-model', 'none', '--host', '0.0.0.0'], io)).toBe(1);
    expect(lines.join('\n')).toMatch(/Refusing to listen on 0\.0\.0\.0/);
  });
});
