import OpenAI from 'openai';
import { type Embedder, normalize } from './embedder';
import { toLlmError } from '../llm/openaiChatModel';

export interface OpenAIEmbedderOptions {
  baseURL: string;
  apiKey?: string;
  model: string;
  dimensions?: number;
  timeoutMs?: number;
  maxRetries?: number;
  batchSize?: number;
}

/** Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint. */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  private client: OpenAI;
  private dims: number | undefined;

  constructor(private readonly opts: OpenAIEmbedderOptions) {
    this.client = new OpenAI({
      baseURL: opts.baseURL,
      apiKey: opts.apiKey || 'not-needed',
      timeout: opts.timeoutMs ?? 60_000,
      maxRetries: opts.maxRetries ?? 3,
    });
    this.dims = opts.dimensions;
    this.id = `openai:${opts.model}`;
  }

  get dimensions(): number {
    if (this.dims === undefined) throw new Error('OpenAIEmbedder: dimensions unknown until the first call');
    return this.dims;
  }

  /** Calls the endpoint once to learn the vector size. */
  async probe(signal?: AbortSignal): Promise<number> {
    const [v] = await this.embed(['probe'], signal);
    return v.length;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const batch = this.opts.batchSize ?? 64;
    for (let i = 0; i < texts.length; i += batch) {
      const chunk = texts.slice(i, i + batch);
      let res;
      try {
        res = await this.client.embeddings.create(
          { model: this.opts.model, input: chunk, encoding_format: 'float' },
          { signal },
        );
      } catch (err) {
        throw toLlmError(err, this.opts.baseURL);
      }
      const sorted = [...res.data].sort((a, b) => a.index - b.index);
      if (sorted.length !== chunk.length) throw new Error(`embeddings endpoint returned ${sorted.length} vectors for ${chunk.length} inputs`);
      for (const d of sorted) {
        const v = normalize(Float32Array.from(d.embedding as number[]));
        if (this.dims === undefined) this.dims = v.length;
        if (v.length !== this.dims) throw new Error(`embedding size ${v.length} differs from ${this.dims}`);
        out.push(v);
      }
    }
    return out;
  }
}
