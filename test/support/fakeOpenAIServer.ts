// The only test double in the project: a real HTTP server that speaks the OpenAI protocol
// (chat completions with SSE streaming, embeddings, models) and replies from a script.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';

export interface FakeChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  stream?: boolean;
  response_format?: unknown;
  temperature?: number;
}

export type ReplyFn = (req: FakeChatRequest) => string | Promise<string>;

const TOOL_CALLS_MARKER = '\u0000tool_calls:';
/** A reply that calls tools (OpenAI `tool_calls`, streamed or not) instead of writing text. */
export function toolCallReply(calls: { name: string; arguments: Record<string, unknown> }[]): string {
  return TOOL_CALLS_MARKER + JSON.stringify(calls.map((c, i) => ({ id: `call_${i + 1}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } })));
}

/** A fault to inject for one request: an HTTP error, a delay, a broken stream or a slow drip. */
export interface Fault {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  /** Send half a stream, then garbage, then close. */
  malformedStream?: boolean;
  /** Delay between streamed chunks. */
  dripMs?: number;
  /** Close the socket without answering. */
  hangUp?: boolean;
  /** Send the headers and the first bytes of the body, then nothing for this long (a server stalled mid-reply). */
  stallBodyMs?: number;
}

export interface FakeOpenAIServer {
  url: string; // ends with /v1
  requests: { path: string; body: any; headers: http.IncomingHttpHeaders }[];
  setReply(fn: ReplyFn): void;
  /** Called per request (after it is recorded); return a fault to inject or undefined. */
  setFault(fn: ((path: string, body: any, attempt: number) => Fault | undefined) | undefined): void;
  /** Requests whose client went away before the reply finished (cancellation checks). */
  aborted: number;
  close(): Promise<void>;
}

/**
 * The kind of a remembered fact, as a model would label it: a rule-like sentence is a convention. Tests that
 * need another answer pass `scriptKinds` and answer the 'kind' role in their reply function.
 */
export function kindReply(req: FakeChatRequest): string {
  const fact = req.messages.at(-1)?.content ?? '';
  return JSON.stringify({ kind: /\b(always|never|must|from now on|prefix|named exports?|convention)\b/i.test(fact) ? 'convention' : 'other' });
}

export async function startFakeOpenAIServer(opts: { reply?: ReplyFn; embeddingDims?: number; modelName?: string; scriptKinds?: boolean } = {}): Promise<FakeOpenAIServer> {
  const kindScripted = !!opts.scriptKinds;
  let reply: ReplyFn = opts.reply ?? (() => '{"facts": []}');
  let fault: ((path: string, body: any, attempt: number) => Fault | undefined) | undefined;
  const embedder = new HashingEmbedder(opts.embeddingDims ?? 64);
  const modelName = opts.modelName ?? 'fake-model';
  const sockets = new Set<import('node:net').Socket>();
  let attempt = 0;

  const state: FakeOpenAIServer = {
    url: '',
    requests: [],
    aborted: 0,
    setReply: (fn) => (reply = fn),
    setFault: (fn) => {
      fault = fn;
      attempt = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: any = {};
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON body' } }));
      return;
    }
    const path = (req.url ?? '').replace(/\?.*$/, '');
    state.requests.push({ path, body, headers: req.headers });
    let finished = false;
    res.on('close', () => {
      if (!finished) state.aborted++;
    });
    const f = fault?.(path, body, attempt++);
    if (f?.delayMs) await sleep(f.delayMs);
    if (f?.hangUp) {
      req.socket.destroy();
      return;
    }
    if (f?.status) {
      res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers });
      res.end(f.body ?? JSON.stringify({ error: { message: `injected ${f.status}` } }));
      finished = true;
      return;
    }
    try {
      if (path.endsWith('/models')) {
        json(res, { object: 'list', data: [{ id: modelName, object: 'model', owned_by: 'test' }] });
      } else if (path.endsWith('/embeddings')) {
        const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
        const vecs = await embedder.embed(inputs);
        json(res, {
          object: 'list',
          model: body.model,
          data: vecs.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })),
          usage: { prompt_tokens: inputs.join(' ').split(/\s+/).length, total_tokens: inputs.join(' ').split(/\s+/).length },
        });
      } else if (path.endsWith('/chat/completions')) {
        // A fact's kind (asked for a remembered fact) is answered here unless the script takes the 'kind' role itself.
        const text = roleOf(body as FakeChatRequest) === 'kind' && !kindScripted ? kindReply(body as FakeChatRequest) : await reply(body as FakeChatRequest);
        if (text.startsWith(TOOL_CALLS_MARKER)) {
          const calls = JSON.parse(text.slice(TOOL_CALLS_MARKER.length)) as { id: string; type: 'function'; function: { name: string; arguments: string } }[];
          const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
          if (body.stream) {
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
            const chunk = (delta: unknown, finish: string | null) => `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
            calls.forEach((c, index) => {
              // As OpenAI streams them: the id and name first, the arguments in a later delta.
              res.write(chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] }, null));
              res.write(chunk({ tool_calls: [{ index, function: { arguments: c.function.arguments } }] }, null));
            });
            res.write(chunk({}, 'tool_calls'));
            res.write('data: [DONE]\n\n');
            res.end();
          } else {
            json(res, { id: 'chatcmpl-fake', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: calls }, finish_reason: 'tool_calls' }], usage });
          }
          finished = true;
          return;
        }
        const promptTokens = JSON.stringify(body.messages ?? []).length >> 2;
        const completionTokens = Math.max(1, text.length >> 2);
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          const pieces = text.match(/[\s\S]{1,8}/g) ?? [''];
          const id = 'chatcmpl-fake';
          for (let i = 0; i < pieces.length; i++) {
            if (res.destroyed) return;
            if (f?.malformedStream && i === Math.floor(pieces.length / 2)) {
              res.write('data: {"id": "broken", "choices": [{"delta": {"content": \n\n');
              res.end();
              finished = true;
              return;
            }
            res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: { content: pieces[i] }, finish_reason: null }] })}\n\n`);
            if (f?.dripMs) await sleep(f.dripMs);
          }
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } })}\n\n`);
          res.write('data: [DONE]\n\n');
          res.end();
        } else if (f?.stallBodyMs) {
          const reply = JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: (body as { model?: string }).model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(reply.slice(0, 20));
          await sleep(f.stallBodyMs);
          if (!res.destroyed) res.end(reply.slice(20));
        } else {
          json(res, {
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: body.model,
            choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
            usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
          });
        }
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${path}` } }));
      }
      finished = true;
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(err) } }));
      finished = true;
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return state;
}

function json(res: http.ServerResponse, data: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(data));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Finds which role a chat request is for, from its system prompt. */
export function roleOf(req: FakeChatRequest): 'extractor' | 'manager' | 'answer' | 'judge' | 'kind' | 'other' {
  const sys = req.messages.find((m) => m.role === 'system')?.content ?? '';
  if (sys.startsWith('Label a fact about a software project with its kind')) return 'kind';
  if (sys.includes('You extract durable facts from ONE event')) return 'extractor';
  if (sys.includes('smart memory manager') || sys.includes('You maintain the memory of a software project')) return 'manager';
  if (sys.includes('intelligent memory assistant')) return 'answer';
  if (/CORRECT|WRONG/.test(sys + (req.messages.at(-1)?.content ?? ''))) return 'judge';
  return 'other';
}

/** Parses the candidate memories the manager prompt showed ({id, text} list). */
export function candidatesIn(req: FakeChatRequest): { id: string; text: string }[] {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  const m = /in the following format only:\n\n([\s\S]*?)\n\nThe new retrieved facts/.exec(user);
  if (m) return JSON.parse(m[1]);
  // The per-fact protocol: "Existing memories:\n[0] (2025-01-02, chat) text\n...\n\nNew fact (2025-03-04): ..."
  const pf = /Existing memories:\n([\s\S]*?)\n\nNew fact(?: \([^)]*\))?: /.exec(user);
  if (!pf) return [];
  return [...pf[1].matchAll(/^\[([^\]]+)\] (?:\(\d{4}-\d{2}-\d{2}[^)]*\) )?(.*)$/gm)].map((x) => ({ id: x[1], text: x[2] }));
}

export function factIn(req: FakeChatRequest): string {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  const m = /determine whether these facts should be added, updated, or deleted in the memory\.\n\n([\s\S]*?)\n\nReturn the JSON only/.exec(user);
  if (m) return (JSON.parse(m[1]) as string[])[0];
  return /\n\nNew fact(?: \([^)]*\))?: ([\s\S]*)$/.exec(user)?.[1] ?? '';
}

/** Which manager protocol a request uses. */
export function protocolOf(req: FakeChatRequest): 'paper' | 'per-fact' {
  return (req.messages.find((m) => m.role === 'system')?.content ?? '').includes('smart memory manager') ? 'paper' : 'per-fact';
}

/** A freshness review's memory and change, or undefined for other requests. */
export function reviewIn(req: FakeChatRequest): { memory: string; change: string } | undefined {
  const first = req.messages.find((m) => m.role === 'user')?.content ?? '';
  const m = /^Memory(?: \([^)]*\))?: ([\s\S]*?)\n\nChange: ([\s\S]*)$/.exec(first);
  return m ? { memory: m[1], change: m[2] } : undefined;
}

/** Answers a freshness review with a decision: keep, rewrite (with the new text) or retire. */
export function reviewReply(req: FakeChatRequest, decide: (memory: string, change: string) => { decision: 'KEEP' | 'REWRITE' | 'RETIRE'; text?: string }): string | undefined {
  const r = reviewIn(req);
  if (!r) return undefined;
  const d = decide(r.memory, r.change);
  return JSON.stringify({ decision: d.decision, text: d.decision === 'REWRITE' ? (d.text ?? '') : '' });
}
