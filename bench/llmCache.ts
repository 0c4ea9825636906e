// A model's answers cached on disk by request (greedy decoding makes them repeatable): a benchmark rerun after a
// change asks the model only what changed. Shared by bench/bank-quality.ts and bench/conventions.ts.
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { readAppendedJsonLines } from '../src/core/util/atomicFile';
import type { ChatModel, ChatRequest, ChatResponse } from '../src/core/llm/chatModel';

/** A ChatModel that answers a request it has seen from the cache (greedy decoding makes answers repeatable). */
export class CachedChatModel implements ChatModel {
  constructor(
    private readonly inner: ChatModel,
    private readonly cache: Map<string, ChatResponse>,
    private readonly file: string,
    readonly stats = { hits: 0, calls: 0, ms: 0 },
  ) {}
  get name(): string {
    return this.inner.name;
  }
  private key(req: ChatRequest): string {
    return crypto.createHash('sha256').update(JSON.stringify([this.inner.name, req.messages, req.json ?? null, req.temperature ?? 0, req.maxTokens ?? null])).digest('hex');
  }
  async complete(req: ChatRequest): Promise<ChatResponse> {
    const k = this.key(req);
    const hit = this.cache.get(k);
    if (hit) {
      this.stats.hits++;
      return hit;
    }
    const t0 = Date.now();
    const res = await this.inner.complete(req);
    this.stats.calls++;
    this.stats.ms += Date.now() - t0;
    this.cache.set(k, res);
    // The request is kept beside its answer so a run can be read afterwards (which prompt gave which answer).
    fs.appendFileSync(this.file, JSON.stringify({ k, res, messages: req.messages }) + '\n');
    return res;
  }
  async stream(req: ChatRequest, onDelta: (d: string) => void): Promise<ChatResponse> {
    const res = await this.complete(req);
    onDelta(res.text);
    return res;
  }
}

export function loadCache(file: string): Map<string, ChatResponse> {
  return new Map(readAppendedJsonLines<{ k: string; res: ChatResponse }>(file).map(({ k, res }) => [k, res]));
}

