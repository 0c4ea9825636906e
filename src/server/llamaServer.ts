import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type {
  ChatHistoryItem,
  Llama,
  LlamaChat,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  Token,
  LlamaModel,
  LlamaEmbeddingContext,
} from 'node-llama-cpp';
import { toGrammarSchema, UnsupportedSchemaError } from './jsonSchema';
import { SerialQueue } from './requestQueue';
import { isLoopbackHost } from './loopback';

export interface ModelServerOptions {
  /** A chat model in GGUF format. */
  modelPath: string;
  /** Default 127.0.0.1. Anything but loopback needs `allowNonLoopback`. */
  host?: string;
  /** Default 8089; 0 picks a free port. */
  port?: number;
  allowNonLoopback?: boolean;
  /** Tokens of each context sequence. Default 4096 (capped at the model's). */
  contextSize?: number;
  /**
   * Context sequences kept evaluated, one per distinct prompt prefix (in practice one per system prompt:
   * extraction, manager, answer, …). A request goes to the sequence that already holds the longest
   * prefix of its prompt, so it evaluates only its new tokens; when none shares a useful prefix, the
   * least recently used sequence is reused. Each sequence costs its own KV cache (contextSize tokens).
   * Default 4. 1 is the old behaviour: one sequence, whose prefix only survives between requests that
   * share it back to back.
   */
  sequences?: number;
  /** Enables POST /v1/embeddings: a folder (or its model.onnx) for the in-process ONNX embedder, or a GGUF embedding model. */
  embeddingModelPath?: string;
  onProgress?: (msg: string) => void;
  /** CPU threads for prompt evaluation and generation. Default: {@link defaultThreads}. */
  threads?: number;
  /**
   * Prompt-lookup decoding: guess the next tokens from the prompt (the manager copies facts and memory
   * texts into its JSON) and check the guesses in one batch. The output is the same; only the speed
   * changes. Default false: on 2 CPU cores, checking guesses cost more than they saved (bench/serve.ts).
   */
  inputLookup?: boolean;
  /** Default 'auto': CUDA, Vulkan or Metal when a prebuilt binary works here, else the CPU. */
  gpu?: 'auto' | false;
  /** Name listed by GET /v1/models; default: the GGUF file name without extension. */
  modelName?: string;
  /**
   * LoRA adapters (GGUF) served beside the base model, each under its own model id, on its own context
   * sharing the base weights: a request naming the adapter's id gets base + adapter, any other the base.
   */
  loras?: { path: string; name?: string; scale?: number; sequences?: number }[];
}

export interface ModelServerStats {
  /** Chat completions that ran to an end (EOS, stop, max_tokens). */
  completed: number;
  /** Chat completions stopped because the client went away or the server closed. */
  aborted: number;
  failed: number;
  embeddings: number;
  /** Requests waiting for the model. */
  queued: number;
  /** The last aborted completion: how many tokens it had generated when it stopped. */
  lastAborted?: { id: string; completionTokens: number; maxTokens: number };
}

export interface ModelServer {
  /** Base URL for OpenAI clients, ending in /v1, e.g. http://127.0.0.1:8089/v1 */
  url: string;
  /** Model id listed by /v1/models and accepted in requests. */
  model: string;
  /** The ids of the LoRA adapters served beside it. */
  adapters: string[];
  /** Embedding model id, when /v1/embeddings is enabled. */
  embeddingModel?: string;
  stats(): ModelServerStats;
  close(): Promise<void>;
}

/** An error answered to the client as OpenAI does: `{error: {message, type, param, code}}`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly type = status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
  }
}

interface EmbeddingBackend {
  id: string;
  dimensions: number;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  countTokens(texts: string[]): number[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Serves a local GGUF chat model (node-llama-cpp, in process) over the OpenAI HTTP protocol:
 * GET /v1/models, POST /v1/chat/completions (plain or SSE streaming, usage counts, json_object and
 * json_schema decoding constrained by a grammar) and, with an embedding model, POST /v1/embeddings.
 * Completions run one at a time, in arrival order, each on the context sequence that already holds
 * the longest prefix of its prompt (see `sequences`); a client that disconnects stops its generation.
 * Binds to loopback only unless `allowNonLoopback`, and then also refuses requests whose Host header is not a loopback name (DNS rebinding from web pages).
 */
export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!opts.allowNonLoopback && !isLoopbackHost(host)) {
    throw new Error(
      `Refusing to listen on ${host}: the model server has no authentication, so it binds to loopback only ` +
        '(127.0.0.1, ::1, localhost). Pass allowNonLoopback (CLI: --allow-remote) to expose it.',
    );
  }
  const modelPath = path.resolve(opts.modelPath);
  if (!fs.existsSync(modelPath)) throw new Error(`Model file not found: ${modelPath}`);
  const progress = opts.onProgress ?? (() => undefined);
  const threads = opts.threads ?? defaultThreads();
  const sequenceCount = Math.max(1, Math.floor(opts.sequences ?? 4));

  const { getLlama, LlamaChat, LlamaLogLevel, InputLookupTokenPredictor } = await import('node-llama-cpp');
  const started = Date.now();
  const llama: Llama = await getLlama({
    gpu: opts.gpu ?? 'auto',
    build: 'never',
    maxThreads: threads,
    logLevel: LlamaLogLevel.error,
    logger: (_level, message) => progress(`llama.cpp: ${message.trim()}`),
  });
  progress(`llama.cpp ready (${llama.gpu === false ? 'CPU' : llama.gpu}, ${threads} thread${threads === 1 ? '' : 's'})`);

  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  const slots: Slot[] = [];
  const variants: Variant[] = [];
  let embedder: EmbeddingBackend | undefined;
  let httpServer: http.Server | undefined;
  try {
    let lastPct = -1;
    model = await llama.loadModel({
      modelPath,
      onLoadProgress: (p) => {
        const pct = Math.floor(p * 100);
        if (pct >= lastPct + 25 || (pct === 100 && lastPct !== 100)) {
          lastPct = pct;
          progress(`Loading ${path.basename(modelPath)}: ${pct}%`);
        }
      },
    });
    const contextSize = Math.min(opts.contextSize ?? 4096, model.trainContextSize);
    context = await model.createContext({ contextSize, sequences: sequenceCount, threads });
    const slotsOf = (ctx: LlamaContext, inputLookup: boolean): Slot[] =>
      Array.from({ length: ctx.totalSequences }, () => {
        const sequence = ctx.getSequence(
          inputLookup ? { tokenPredictor: new InputLookupTokenPredictor({ patternLength: { min: 2 }, predictionLength: { max: 8 } }) } : {},
        );
        return { sequence, chat: new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false }), lastUsed: 0 };
      });
    slots.push(...slotsOf(context, !!opts.inputLookup));
    progress(
      `Model loaded in ${((Date.now() - started) / 1000).toFixed(1)} s (context ${context.contextSize} tokens × ${sequenceCount} sequence${sequenceCount === 1 ? '' : 's'}, chat template ${slots[0].chat.chatWrapper.wrapperName})`,
    );

    const modelId = opts.modelName ?? path.basename(modelPath).replace(/\.gguf$/i, '');
    variants.push({ id: modelId, context, slots });
    for (const lora of opts.loras ?? []) {
      const loraPath = path.resolve(lora.path);
      if (!fs.existsSync(loraPath)) throw new Error(`LoRA adapter not found: ${loraPath}`);
      const id = lora.name ?? path.basename(loraPath).replace(/(\.lora)?\.gguf$/i, '');
      if (variants.some((v) => v.id.toLowerCase() === id.toLowerCase())) throw new Error(`Two served models would be called "${id}": give the adapter another name.`);
      let loraContext: LlamaContext;
      try {
        loraContext = await model.createContext({ contextSize, sequences: Math.max(1, lora.sequences ?? 2), threads, lora: { adapters: [{ filePath: loraPath, scale: lora.scale ?? 1 }] } });
      } catch (err) {
        throw new Error(`The LoRA adapter ${loraPath} does not fit ${path.basename(modelPath)}: ${(err as Error).message}`);
      }
      const loraSlots = slotsOf(loraContext, false);
      variants.push({ id, context: loraContext, slots: loraSlots });
      progress(`LoRA adapter ${path.basename(loraPath)} served as "${id}" (${loraSlots.length} sequence${loraSlots.length === 1 ? '' : 's'})`);
    }

    if (opts.embeddingModelPath) embedder = await loadEmbeddingBackend(llama, opts.embeddingModelPath, progress);

    const served = {
      llama,
      model,
      variants,
      embedder,
      modelId,
      threads,
    };
    const server = new ServerState(served, !!opts.allowNonLoopback);
    httpServer = http.createServer((req, res) => void server.handle(req, res));
    httpServer.keepAliveTimeout = 5_000;
    const hs = httpServer;
    await new Promise<void>((resolve, reject) => {
      hs.once('error', reject);
      hs.listen(opts.port ?? 8089, host, () => {
        hs.off('error', reject);
        resolve();
      });
    });
    const addr = hs.address() as AddressInfo;
    const urlHost = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    const url = `http://${urlHost}:${addr.port}/v1`;
    let closing: Promise<void> | undefined;
    return {
      url,
      model: served.modelId,
      adapters: variants.slice(1).map((v) => v.id),
      embeddingModel: embedder?.id,
      stats: () => server.stats(),
      close: () => (closing ??= server.shutdown(hs)),
    };
  } catch (err) {
    httpServer?.close();
    for (const v of variants.length ? variants : [{ slots, context }]) {
      for (const slot of v.slots) slot.chat.dispose();
      await v.context?.dispose();
    }
    await model?.dispose();
    await embedder?.close();
    await llama.dispose();
    throw err;
  }
}

/**
 * Default CPU threads: every core the process may use, up to 8. Measured on 2 cores with
 * Qwen2.5-Coder-1.5B (bench/serve.ts, README "Local models"): 2 threads evaluate prompts about
 * twice as fast as 1 and generate faster too, so cores − 1 left half the machine idle.
 * MEMORY_R1_THREADS overrides it.
 */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.MEMORY_R1_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv >= 1) return fromEnv;
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

interface Slot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /** Order of last use, for evicting the least recently used sequence. */
  lastUsed: number;
}

/**
 * Picks the sequence whose evaluated tokens share the longest prefix with the prompt (`sharedPrefix`
 * counts them for a sequence). A prefix shorter
 * than `minShared` tokens (a chat template's opening) is no reason to overwrite a sequence that holds
 * another prompt: then the least recently used one is taken. Exported for tests.
 */
export function pickSlot<T extends { lastUsed: number }>(slots: T[], sharedPrefix: (slot: T) => number, minShared = 16): { slot: T; shared: number } {
  let best: T | undefined;
  let bestShared = -1;
  for (const slot of slots) {
    const shared = sharedPrefix(slot);
    if (shared > bestShared || (shared === bestShared && best && slot.lastUsed < best.lastUsed)) {
      best = slot;
      bestShared = shared;
    }
  }
  if (bestShared >= minShared) return { slot: best!, shared: bestShared };
  const lru = slots.reduce((a, b) => (b.lastUsed < a.lastUsed ? b : a));
  return { slot: lru, shared: sharedPrefix(lru) };
}

/** One served model id: the base, or the base with a LoRA adapter, each on its own context. */
interface Variant {
  id: string;
  context: LlamaContext;
  slots: Slot[];
}

interface Served {
  llama: Llama;
  model: LlamaModel;
  /** The base model first, then one per LoRA adapter. */
  variants: Variant[];
  embedder?: EmbeddingBackend;
  modelId: string;
  threads: number;
}

interface ParsedChat {
  history: ChatHistoryItem[];
  stream: boolean;
  includeUsage: boolean;
  maxTokens?: number;
  temperature: number;
  topP?: number;
  seed?: number;
  stop: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseFormat?: { type: 'json_object' } | { type: 'json_schema'; schema: unknown };
}

class ServerState {
  private readonly chatQueue = new SerialQueue();
  private readonly embedQueue = new SerialQueue();
  private readonly shutdownSignal = new AbortController();
  private readonly grammarCache = new Map<string, Promise<LlamaGrammar>>();
  private counters = { completed: 0, aborted: 0, failed: 0, embeddings: 0 };
  private lastAborted: ModelServerStats['lastAborted'];
  private readonly created = Math.floor(Date.now() / 1000);
  private useCounter = 0;

  constructor(
    private readonly s: Served,
    private readonly allowNonLoopback: boolean,
  ) {}

  stats(): ModelServerStats {
    return { ...this.counters, queued: this.chatQueue.waiting, lastAborted: this.lastAborted };
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.on('error', () => undefined); // a client that vanished mid-write is handled by the abort path
    try {
      if (!this.allowNonLoopback && !isLoopbackHost(hostnameOf(req.headers.host))) {
        throw new HttpError(403, `Host "${req.headers.host ?? ''}" is not a loopback address; this server only answers local clients.`, 'forbidden_host');
      }
      if (this.shutdownSignal.signal.aborted) throw new HttpError(503, 'The model server is shutting down.', 'shutting_down');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
      switch (route) {
        case 'GET /health':
        case 'GET /v1/health':
          return sendJson(res, 200, { status: 'ok', model: this.s.modelId, queued: this.chatQueue.waiting, busy: this.chatQueue.busy });
        case 'GET /v1/models':
          return sendJson(res, 200, { object: 'list', data: this.modelList() });
        case 'POST /v1/chat/completions':
          return await this.chatCompletions(req, res, await readJsonBody(req));
        case 'POST /v1/embeddings':
          return await this.embeddings(req, res, await readJsonBody(req));
        default:
          if (url.pathname.startsWith('/v1/models/') && req.method === 'GET') {
            const id = decodeURIComponent(url.pathname.slice('/v1/models/'.length));
            const found = this.modelList().find((m) => m.id === id);
            if (found) return sendJson(res, 200, found);
            throw new HttpError(404, `The model "${id}" does not exist on this server.`, 'model_not_found', 'model');
          }
          throw new HttpError(404, `No route ${req.method} ${url.pathname}.`, 'not_found');
      }
    } catch (err) {
      sendError(res, err);
    }
  }

  private modelList(): { id: string; object: 'model'; created: number; owned_by: string }[] {
    const list = this.s.variants.map((v) => ({ id: v.id, object: 'model' as const, created: this.created, owned_by: 'local' }));
    if (this.s.embedder) list.push({ id: this.s.embedder.id, object: 'model', created: this.created, owned_by: 'local' });
    return list;
  }

  private variantFor(requested: unknown): Variant {
    const variants = this.s.variants;
    if (requested === undefined || requested === null || requested === '') return variants[0];
    if (typeof requested !== 'string') throw new HttpError(400, '"model" must be a string.', 'invalid_type', 'model');
    const found = variants.find((v) => v.id.toLowerCase() === requested.toLowerCase());
    if (!found) {
      const names = variants.map((v) => `"${v.id}"`).join(', ');
      throw new HttpError(404, `The model "${requested}" does not exist on this server; it serves ${names}.`, 'model_not_found', 'model');
    }
    return found;
  }

  private async chatCompletions(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const variant = this.variantFor(body.model);
    const p = parseChatRequest(body);
    const grammar = p.responseFormat ? await this.grammarFor(p.responseFormat) : undefined;
    const { model } = this.s;
    const { slots, context } = variant;
    const prompt: Token[] = slots[0].chat.chatWrapper.generateContextState({ chatHistory: p.history }).contextText.tokenize(model.tokenizer);
    const promptTokens = prompt.length;
    const room = context.contextSize - promptTokens;
    if (room < 1) {
      throw new HttpError(400, `The prompt has ${promptTokens} tokens; this server's context holds ${context.contextSize}.`, 'context_length_exceeded', 'messages');
    }
    const maxTokens = Math.min(p.maxTokens ?? room, room);
    const abort = abortOnDisconnect(res, this.shutdownSignal.signal);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: variant.id, system_fingerprint: `node-llama-cpp-${this.s.threads}t` };

    await this.chatQueue.run(async () => {
      // The sequence that already holds the longest prefix of this prompt: only the rest is evaluated.
      const { slot, shared } = pickSlot(slots, (sl) => sl.sequence.compareContextTokens(prompt).firstDifferentIndex);
      slot.lastUsed = ++this.useCounter;
      const { chat } = slot;
      // At least one prompt token is always evaluated again, to produce the first logits.
      const cachedTokens = Math.min(shared, promptTokens - 1);
      const startedAt = performance.now();
      let firstTokenAt: number | undefined;
      let completionTokens = 0;
      const write = (chunk: object) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (p.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
        write({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }] });
      }
      let text = '';
      try {
        const result = await chat.generateResponse(p.history, {
          maxTokens,
          temperature: p.temperature,
          ...(p.topP !== undefined ? { topP: p.topP } : {}),
          ...(p.seed !== undefined ? { seed: p.seed } : {}),
          ...(grammar ? { grammar } : {}),
          ...(p.stop.length ? { customStopTriggers: p.stop } : {}),
          ...(p.presencePenalty || p.frequencyPenalty
            ? { repeatPenalty: { presencePenalty: p.presencePenalty, frequencyPenalty: p.frequencyPenalty } }
            : {}),
          signal: abort.signal,
          stopOnAbortSignal: true,
          onToken: (tokens) => {
            firstTokenAt ??= performance.now();
            completionTokens += tokens.length;
          },
          onTextChunk: (chunk) => {
            text += chunk;
            if (p.stream && chunk) {
              write({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: chunk }, finish_reason: null, logprobs: null }] });
            }
          },
        });
        const stopReason = result.metadata.stopReason;
        if (stopReason === 'abort' || abort.signal.aborted) {
          this.counters.aborted++;
          this.lastAborted = { id, completionTokens, maxTokens };
          if (!res.writableEnded) res.end();
          return;
        }
        this.counters.completed++;
        const finishReason = stopReason === 'maxTokens' ? 'length' : 'stop';
        const endedAt = performance.now();
        const usage = {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          prompt_tokens_details: { cached_tokens: cachedTokens },
        };
        // As llama.cpp's server reports them: prompt evaluation up to the first token, then generation.
        const promptMs = (firstTokenAt ?? endedAt) - startedAt;
        const predictedMs = endedAt - (firstTokenAt ?? endedAt);
        const timings = {
          cache_n: cachedTokens,
          prompt_n: promptTokens - cachedTokens,
          prompt_ms: round1(promptMs),
          prompt_per_second: round1(((promptTokens - cachedTokens) * 1000) / Math.max(promptMs, 1e-3)),
          predicted_n: completionTokens,
          predicted_ms: round1(predictedMs),
          predicted_per_second: completionTokens > 1 ? round1(((completionTokens - 1) * 1000) / Math.max(predictedMs, 1e-3)) : 0,
        };
        if (p.stream) {
          write({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: finishReason, logprobs: null }] });
          if (p.includeUsage) write({ ...base, object: 'chat.completion.chunk', choices: [], usage, timings });
          res.end('data: [DONE]\n\n');
        } else {
          sendJson(res, 200, {
            ...base,
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: result.response, refusal: null }, finish_reason: finishReason, logprobs: null }],
            usage,
            timings,
          });
        }
      } catch (err) {
        if (abort.signal.aborted) {
          this.counters.aborted++;
          this.lastAborted = { id, completionTokens, maxTokens };
          if (!res.writableEnded) res.end();
          return;
        }
        this.counters.failed++;
        if (!p.stream) throw err;
        write({ error: { message: `Generation failed: ${(err as Error).message}`, type: 'server_error', param: null, code: 'generation_failed' } });
        res.end();
      } finally {
        abort.dispose();
      }
    }, abort.signal).catch((err) => {
      if ((err as Error).name === 'AbortError') {
        // The client left while waiting in the queue: nothing ran.
        abort.dispose();
        if (!res.writableEnded) res.end();
        return;
      }
      throw err;
    });
  }

  private grammarFor(format: NonNullable<ParsedChat['responseFormat']>): Promise<LlamaGrammar> {
    const key = format.type === 'json_object' ? 'json_object' : JSON.stringify(format.schema);
    let grammar = this.grammarCache.get(key);
    if (!grammar) {
      grammar =
        format.type === 'json_object'
          ? this.s.llama.getGrammarFor('json')
          : (async () => {
              let converted;
              try {
                converted = toGrammarSchema(format.schema);
              } catch (err) {
                if (err instanceof UnsupportedSchemaError) {
                  throw new HttpError(400, `response_format json_schema: ${err.message}`, 'unsupported_schema', 'response_format');
                }
                throw err;
              }
              return this.s.llama.createGrammarForJsonSchema(converted as never);
            })();
      grammar.catch(() => this.grammarCache.delete(key));
      if (this.grammarCache.size >= 64) this.grammarCache.delete(this.grammarCache.keys().next().value as string);
      this.grammarCache.set(key, grammar);
    }
    return grammar;
  }

  private async embeddings(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const embedder = this.s.embedder;
    if (!embedder) throw new HttpError(404, 'This server has no embedding model; start it with an embedding model to enable /v1/embeddings.', 'no_embedding_model');
    const requested = body.model;
    if (requested !== undefined && requested !== null && requested !== '') {
      if (typeof requested !== 'string') throw new HttpError(400, '"model" must be a string.', 'invalid_type', 'model');
      if (requested.toLowerCase() !== embedder.id.toLowerCase()) throw new HttpError(404, `The model "${requested}" does not exist on this server; it serves "${embedder.id}".`, 'model_not_found', 'model');
    }
    const input = body.input;
    const texts = typeof input === 'string' ? [input] : input;
    if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
      throw new HttpError(400, '"input" must be a string or a non-empty array of strings (token arrays are not supported).', 'invalid_input', 'input');
    }
    if (texts.length > 2048) throw new HttpError(400, `At most 2048 inputs per request; got ${texts.length}.`, 'too_many_inputs', 'input');
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw new HttpError(400, '"encoding_format" must be "float" or "base64".', 'invalid_value', 'encoding_format');
    if (body.dimensions !== undefined && body.dimensions !== embedder.dimensions) {
      throw new HttpError(400, `This model has ${embedder.dimensions} dimensions and cannot shorten them.`, 'invalid_value', 'dimensions');
    }
    const abort = abortOnDisconnect(res, this.shutdownSignal.signal);
    try {
      const vectors = await this.embedQueue.run(() => embedder.embed(texts as string[], abort.signal), abort.signal);
      const tokens = embedder.countTokens(texts as string[]).reduce((a, b) => a + b, 0);
      this.counters.embeddings++;
      sendJson(res, 200, {
        object: 'list',
        model: embedder.id,
        data: vectors.map((v, index) => ({
          object: 'embedding',
          index,
          embedding: format === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v),
        })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    } catch (err) {
      if (abort.signal.aborted) {
        if (!res.writableEnded) res.end();
        return;
      }
      throw err;
    } finally {
      abort.dispose();
    }
  }

  async shutdown(server: http.Server): Promise<void> {
    this.shutdownSignal.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.all([this.chatQueue.idle(), this.embedQueue.idle()]);
    server.closeAllConnections();
    await closed;
    for (const v of this.s.variants) {
      for (const slot of v.slots) slot.chat.dispose();
      await v.context.dispose();
    }
    await this.s.model.dispose();
    await this.s.embedder?.close();
    for (const g of this.grammarCache.values()) g.catch(() => undefined);
    await this.s.llama.dispose();
  }
}

function parseChatRequest(body: Record<string, unknown>): ParsedChat {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new HttpError(400, '"messages" must be a non-empty array.', 'invalid_messages', 'messages');
  if (body.n !== undefined && body.n !== 1) throw new HttpError(400, 'Only n = 1 is supported.', 'unsupported_value', 'n');
  if (Array.isArray(body.tools) && body.tools.length) throw new HttpError(400, 'Tool calls are not supported by this server.', 'unsupported_parameter', 'tools');

  const history: ChatHistoryItem[] = [];
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null) throw new HttpError(400, `messages[${i}] must be an object.`, 'invalid_messages', `messages[${i}]`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    const text = contentText(content, i);
    switch (role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text });
        break;
      case 'user':
        history.push({ type: 'user', text });
        break;
      case 'assistant':
        history.push({ type: 'model', response: [text] });
        break;
      default:
        throw new HttpError(400, `messages[${i}].role "${String(role)}" is not supported (system, developer, user, assistant).`, 'invalid_role', `messages[${i}].role`);
    }
  });
  // The last item is the model turn to write; a trailing assistant message is continued.
  if (history[history.length - 1].type !== 'model') history.push({ type: 'model', response: [] });

  const num = (name: string, min: number, max: number): number | undefined => {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new HttpError(400, `"${name}" must be a number from ${min} to ${max}.`, 'invalid_value', name);
    }
    return v;
  };
  const maxTokens = num('max_completion_tokens', 1, 1e9) ?? num('max_tokens', 1, 1e9);
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string' && s.length > 0) || stop.length > 4) {
    throw new HttpError(400, '"stop" must be a string or up to 4 non-empty strings.', 'invalid_value', 'stop');
  }

  let responseFormat: ParsedChat['responseFormat'];
  const rf = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  if (rf !== undefined && rf !== null) {
    if (rf.type === 'json_object') responseFormat = { type: 'json_object' };
    else if (rf.type === 'json_schema') {
      if (!rf.json_schema || typeof rf.json_schema !== 'object' || rf.json_schema.schema === undefined) {
        throw new HttpError(400, 'response_format json_schema needs json_schema.schema.', 'invalid_value', 'response_format');
      }
      responseFormat = { type: 'json_schema', schema: rf.json_schema.schema };
    } else if (rf.type !== 'text') {
      throw new HttpError(400, `response_format type "${String(rf.type)}" is not supported (text, json_object, json_schema).`, 'invalid_value', 'response_format');
    }
  }
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  return {
    history,
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    maxTokens: maxTokens === undefined ? undefined : Math.floor(maxTokens),
    temperature: num('temperature', 0, 2) ?? 1,
    topP: num('top_p', 0, 1),
    seed: body.seed === undefined || body.seed === null ? undefined : num('seed', -(2 ** 53), 2 ** 53),
    stop: stop as string[],
    presencePenalty: num('presence_penalty', -2, 2),
    frequencyPenalty: num('frequency_penalty', -2, 2),
    responseFormat,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        const p = part as { type?: unknown; text?: unknown };
        if (p?.type === 'text' && typeof p.text === 'string') return p.text;
        throw new HttpError(400, `messages[${i}].content[${j}]: only text parts are supported.`, 'unsupported_content', `messages[${i}].content`);
      })
      .join('');
  }
  throw new HttpError(400, `messages[${i}].content must be a string or an array of text parts.`, 'invalid_messages', `messages[${i}].content`);
}

/** An AbortSignal that fires when the client's connection closes before the answer is sent, or on shutdown. */
function abortOnDisconnect(res: http.ServerResponse, shutdown: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  const onShutdown = () => controller.abort();
  res.on('close', onClose);
  shutdown.addEventListener('abort', onShutdown, { once: true });
  if (shutdown.aborted) controller.abort();
  return {
    signal: controller.signal,
    dispose: () => {
      res.off('close', onClose);
      shutdown.removeEventListener('abort', onShutdown);
    },
  };
}

async function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `The request body is over ${MAX_BODY_BYTES / 1024 / 1024} MB.`, 'body_too_large');
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `The request body is not valid JSON: ${(err as Error).message}`, 'invalid_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'The request body must be a JSON object.', 'invalid_json');
  return body as Record<string, unknown>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const e = err instanceof HttpError ? err : new HttpError(500, `Internal error: ${(err as Error)?.message ?? String(err)}`, 'internal_error');
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  sendJson(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } });
}

function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  const colon = hostHeader.lastIndexOf(':');
  return colon > -1 && hostHeader.indexOf(':') === colon ? hostHeader.slice(0, colon) : hostHeader;
}

async function loadEmbeddingBackend(llama: Llama, modelPath: string, progress: (m: string) => void): Promise<EmbeddingBackend> {
  const resolved = path.resolve(modelPath);
  if (/\.gguf$/i.test(resolved)) {
    if (!fs.existsSync(resolved)) throw new Error(`Embedding model file not found: ${resolved}`);
    const model = await llama.loadModel({ modelPath: resolved });
    const ctx: LlamaEmbeddingContext = await model.createEmbeddingContext();
    const dimensions = model.embeddingVectorSize;
    progress(`Embedding model ${path.basename(resolved)} loaded (GGUF, ${dimensions} dimensions)`);
    return {
      id: path.basename(resolved).replace(/\.gguf$/i, ''),
      dimensions,
      countTokens: (texts) => texts.map((t) => model.tokenize(t).length),
      async embed(texts, signal) {
        const out: Float32Array[] = [];
        for (const t of texts) {
          if (signal?.aborted) throw new HttpError(499, 'cancelled');
          const v = Float32Array.from((await ctx.getEmbeddingFor(t)).vector);
          let n = 0;
          for (const x of v) n += x * x;
          n = Math.sqrt(n) || 1;
          out.push(v.map((x) => x / n));
        }
        return out;
      },
      async close() {
        await ctx.dispose();
        await model.dispose();
      },
    };
  }
  const dir = fs.existsSync(resolved) && fs.statSync(resolved).isFile() ? path.dirname(resolved) : resolved;
  const { createOnnxEmbedder } = await import('../core/embeddings/onnxEmbedder');
  const embedder = await createOnnxEmbedder(dir);
  progress(`Embedding model ${path.basename(dir)} loaded (ONNX, ${embedder.dimensions} dimensions)`);
  return { ...embedder, id: path.basename(dir), close: () => embedder.close(), countTokens: (t) => embedder.countTokens(t), embed: (t, s) => embedder.embed(t, s) };
}
