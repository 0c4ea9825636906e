import OpenAI from 'openai';
import type { ChatModel, ChatRequest, ChatResponse } from './chatModel';
import { LlmError, isAbortError } from '../errors';

export interface OpenAIChatModelOptions {
  baseURL: string;
  apiKey?: string;
  model: string;
  timeoutMs?: number;
  /** Retries on connection errors, 408/409/429 (honouring Retry-After) and 5xx, with exponential backoff. */
  maxRetries?: number;
}

type JsonMode = 'json_schema' | 'json_object' | 'none';

/** A chat model on any OpenAI-compatible endpoint: vLLM, Ollama, llama.cpp server, LM Studio, OpenAI. */
export class OpenAIChatModel implements ChatModel {
  readonly name: string;
  private readonly client: OpenAI;
  /** Downgraded when the server rejects a response_format it does not support. */
  private jsonMode: JsonMode = 'json_schema';

  constructor(private readonly opts: OpenAIChatModelOptions) {
    this.name = opts.model;
    this.client = new OpenAI({
      baseURL: opts.baseURL,
      apiKey: opts.apiKey || 'not-needed',
      timeout: opts.timeoutMs ?? 120_000,
      maxRetries: opts.maxRetries ?? 3,
    });
  }

  complete(req: ChatRequest): Promise<ChatResponse> {
    return this.run(req, undefined);
  }

  stream(req: ChatRequest, onDelta: (delta: string) => void): Promise<ChatResponse> {
    return this.run(req, onDelta);
  }

  private async run(req: ChatRequest, onDelta: ((d: string) => void) | undefined): Promise<ChatResponse> {
    for (;;) {
      const mode = req.json ? this.jsonMode : 'none';
      try {
        return await this.call(req, mode, onDelta);
      } catch (err) {
        // Servers without structured output answer 400/422 on response_format: step down once and retry.
        const status = (err as { status?: number }).status;
        if (mode !== 'none' && (status === 400 || status === 422) && /response_format|json|schema|grammar/i.test(String((err as Error).message))) {
          this.jsonMode = mode === 'json_schema' ? 'json_object' : 'none';
          continue;
        }
        throw toLlmError(err, this.opts.baseURL);
      }
    }
  }

  private async call(req: ChatRequest, mode: JsonMode, onDelta: ((d: string) => void) | undefined): Promise<ChatResponse> {
    const body: OpenAI.Chat.ChatCompletionCreateParams = {
      model: this.opts.model,
      messages: req.messages,
      temperature: req.temperature ?? 0,
      ...(req.maxTokens ? { max_tokens: req.maxTokens } : {}),
    };
    if (mode === 'json_schema' && req.json?.schema) {
      body.response_format = {
        type: 'json_schema',
        json_schema: { name: req.json.name ?? 'output', schema: req.json.schema, strict: false },
      };
    } else if (mode === 'json_object' || (mode === 'json_schema' && !req.json?.schema)) {
      body.response_format = { type: 'json_object' };
    }
    if (!onDelta) {
      // The client's timeout ends once headers arrive: a server that then stalls in the body would hold the
      // call until the socket gives up (minutes). One deadline bounds the whole reply, body included.
      const limitMs = this.opts.timeoutMs ?? 120_000;
      const late = new AbortController();
      const timer = setTimeout(() => late.abort(), limitMs);
      const signal = req.signal ? AbortSignal.any([req.signal, late.signal]) : late.signal;
      try {
        const res = await this.client.chat.completions.create({ ...body, stream: false }, { signal });
        const text = res.choices?.[0]?.message?.content ?? '';
        return {
          text,
          model: res.model || this.opts.model,
          usage: { promptTokens: res.usage?.prompt_tokens ?? 0, completionTokens: res.usage?.completion_tokens ?? 0 },
        };
      } catch (err) {
        if (late.signal.aborted && !req.signal?.aborted) {
          throw new LlmError('TIMEOUT', `The model endpoint ${this.opts.baseURL} did not answer in time (no complete reply within ${Math.round(limitMs / 1000)} s).`, true);
        }
        throw err;
      } finally {
        clearTimeout(timer);
      }
    }
    // The client's timeout ends once headers arrive; a stream that then stalls would hang forever.
    // So the same timeout also bounds each silence between chunks.
    const idleMs = this.opts.timeoutMs ?? 120_000;
    const stalled = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stalled.abort(), idleMs);
    };
    const signal = req.signal ? AbortSignal.any([req.signal, stalled.signal]) : stalled.signal;
    let text = '';
    let model = this.opts.model;
    let usage = { promptTokens: 0, completionTokens: 0 };
    let finished = false;
    try {
      const stream = await this.client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        { signal },
      );
      rearm();
      for await (const chunk of stream) {
        rearm();
        if (chunk.model) model = chunk.model;
        const delta = chunk.choices?.[0]?.delta?.content;
        if (delta) {
          text += delta;
          onDelta(delta);
        }
        if (chunk.choices?.[0]?.finish_reason) finished = true;
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens ?? 0, completionTokens: chunk.usage.completion_tokens ?? 0 };
      }
    } catch (err) {
      if (stalled.signal.aborted && !req.signal?.aborted) throw stallError(this.opts.baseURL, idleMs);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    // The SDK ends the iteration quietly on abort; a cut-short answer must not pass for a whole one.
    if (req.signal?.aborted) throw new LlmError('CANCELLED', 'The model request was cancelled.', false);
    if (stalled.signal.aborted) throw stallError(this.opts.baseURL, idleMs);
    if (!finished) throw new LlmError('BAD_OUTPUT', `The model endpoint ${this.opts.baseURL} ended its reply before it was complete.`, true);
    return { text, model, usage };
  }
}

function stallError(baseURL: string, idleMs: number): LlmError {
  return new LlmError('TIMEOUT', `The model endpoint ${baseURL} did not answer in time (its reply stalled for ${Math.round(idleMs / 1000)} s).`, true);
}

/** Maps the openai package's errors to one error type with a message a user can act on. */
export function toLlmError(err: unknown, baseURL: string): LlmError {
  if (err instanceof LlmError) return err;
  if (isAbortError(err)) return new LlmError('CANCELLED', 'The model request was cancelled.', false);
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError('TIMEOUT', `The model endpoint ${baseURL} did not answer in time.`, true);
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return new LlmError('UNREACHABLE', `Cannot reach the model endpoint ${baseURL}: ${causeMessage(err)}.`, true);
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    if (status === 429) return new LlmError('RATE_LIMITED', `The model endpoint ${baseURL} is rate limiting requests (429).`, true, status);
    const retryable = status >= 500 || status === 408;
    return new LlmError('HTTP', `The model endpoint ${baseURL} answered ${status}: ${err.message}`, retryable, status);
  }
  const msg = err instanceof Error ? err.message : String(err);
  // A stream that breaks mid-way surfaces as a plain Error from the SSE parser.
  return new LlmError('BAD_OUTPUT', `The model endpoint ${baseURL} sent a malformed reply: ${msg}`, true);
}

function causeMessage(err: Error): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code || cause?.message || err.message;
}

/** Lists the endpoint's models to check that it answers; used by the "configure endpoint" flow. */
export async function testConnection(
  baseURL: string,
  apiKey?: string,
  signal?: AbortSignal,
): Promise<{ ok: true; models: string[] } | { ok: false; error: string }> {
  const client = new OpenAI({ baseURL, apiKey: apiKey || 'not-needed', timeout: 10_000, maxRetries: 0 });
  try {
    const models: string[] = [];
    for await (const m of client.models.list({ signal })) models.push(m.id);
    return { ok: true, models };
  } catch (err) {
    return { ok: false, error: toLlmError(err, baseURL).message };
  }
}
