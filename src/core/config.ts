import type { Embedder } from './embeddings/embedder';
import { HashingEmbedder } from './embeddings/hashingEmbedder';
import { OpenAIEmbedder } from './embeddings/openaiEmbedder';
import { OpenAIChatModel } from './llm/openaiChatModel';
import type { EngineModels } from './engine';

/** Where the models are: one OpenAI-compatible endpoint, a model name per role. */
export interface EndpointConfig {
  baseURL: string;
  apiKey?: string;
  models: { extractor: string; manager: string; answer: string };
  timeoutMs?: number;
  maxRetries?: number;
}

export type EmbeddingConfig =
  | { provider: 'hashing'; dimensions?: number }
  | { provider: 'openai'; model: string; baseURL?: string; apiKey?: string; dimensions?: number }
  | { provider: 'onnx'; modelDir: string };

export function createModels(cfg: EndpointConfig): EngineModels {
  const make = (model: string) =>
    new OpenAIChatModel({ baseURL: cfg.baseURL, apiKey: cfg.apiKey, model, timeoutMs: cfg.timeoutMs, maxRetries: cfg.maxRetries });
  return { extractor: make(cfg.models.extractor), manager: make(cfg.models.manager), answerer: make(cfg.models.answer) };
}

export async function createEmbedder(cfg: EmbeddingConfig, endpoint?: EndpointConfig): Promise<Embedder> {
  switch (cfg.provider) {
    case 'hashing':
      return new HashingEmbedder(cfg.dimensions ?? 384);
    case 'openai': {
      const baseURL = cfg.baseURL ?? endpoint?.baseURL;
      if (!baseURL) throw new Error('The OpenAI embedding provider needs an endpoint URL.');
      const e = new OpenAIEmbedder({ baseURL, apiKey: cfg.apiKey ?? endpoint?.apiKey, model: cfg.model, dimensions: cfg.dimensions });
      if (!cfg.dimensions) await e.probe();
      return e;
    }
    case 'onnx': {
      // Loaded lazily: ONNX Runtime is heavy and optional.
      const mod = await import('./embeddings/onnxEmbedder');
      return mod.createOnnxEmbedder(cfg.modelDir);
    }
  }
}

/** Reads the endpoint from environment variables (CLI, benchmarks, tests against a real server). */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): EndpointConfig | undefined {
  const baseURL = env.MEMORY_R1_BASE_URL;
  if (!baseURL) return undefined;
  const model = env.MEMORY_R1_MODEL ?? 'default';
  return {
    baseURL,
    apiKey: env.MEMORY_R1_API_KEY,
    models: {
      extractor: env.MEMORY_R1_EXTRACTOR_MODEL ?? model,
      manager: env.MEMORY_R1_MANAGER_MODEL ?? model,
      answer: env.MEMORY_R1_ANSWER_MODEL ?? model,
    },
  };
}
