// The composition root: one plain configuration object (MemoryR1Config) and the two functions that
// build everything from it, openBank(cfg) and openEngine(cfg). Every surface resolves its own inputs
// (CLI flags and environment, VS Code settings and secrets, a benchmark's constants) into this object
// and calls these; none assembles a bank or an engine itself.
import type { Embedder } from './embeddings/embedder';
import { HashingEmbedder } from './embeddings/hashingEmbedder';
import { OpenAIEmbedder } from './embeddings/openaiEmbedder';
import { OpenAIChatModel } from './llm/openaiChatModel';
import { type BankLimits, MemoryBank } from './bank/memoryBank';
import { sharedBankStorage } from './bank/storage';
import { type EngineModels, type EngineOptions, MemoryEngine } from './engine';
import type { RedactionMode } from './privacy/boundary';

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

/** One chat model per distinct model name: roles that name the same model share one client. */
export function createModels(cfg: EndpointConfig): EngineModels {
  const made = new Map<string, OpenAIChatModel>();
  const make = (model: string) => {
    let m = made.get(model);
    if (!m) made.set(model, (m = new OpenAIChatModel({ baseURL: cfg.baseURL, apiKey: cfg.apiKey, model, timeoutMs: cfg.timeoutMs, maxRetries: cfg.maxRetries })));
    return m;
  };
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

/**
 * Everything a bank and an engine are built from, resolved once by the surface that runs them.
 * Plain data: it can be logged (after dropping the keys), compared and copied.
 */
export interface MemoryR1Config {
  bank: {
    /** The bank's folder (with `postgres`, only a label and the place for nothing else). */
    folder: string;
    /** A team's shared PostgreSQL + pgvector bank instead of files in the folder. */
    postgres?: { url: string; bankId: string; poolSize?: number };
    /** Poll the store for other processes' writes (ms; 0 disables; default 1000). */
    watchIntervalMs?: number;
    limits?: Partial<BankLimits>;
  };
  /** The model endpoint and a model per role; needed by openEngine unless models are passed in. */
  endpoint?: EndpointConfig;
  /** How texts become vectors (default: the hashing embedder). */
  embedder?: EmbeddingConfig;
  /** Who writes: named in the history's records. */
  actor?: string;
  /** Secret redaction for everything entering the bank (default 'on'). */
  redaction?: RedactionMode;
  /** Engine settings (answer top-k, manager protocol, …) over DEFAULT_ENGINE_OPTIONS. */
  engine?: Partial<EngineOptions>;
}

/**
 * Parts built elsewhere that the composition root takes as they are: an embedder shared by many
 * banks (evaluation, training), models no endpoint describes (VS Code's language models), a bank
 * already open.
 */
export interface BuiltParts {
  embedder?: Embedder;
  models?: EngineModels;
  bank?: MemoryBank;
}

/** Opens (creating if needed) the bank `cfg` describes. Read `bank.recovery.messages` to report repairs. */
export async function openBank(cfg: MemoryR1Config, parts: Pick<BuiltParts, 'embedder'> = {}): Promise<MemoryBank> {
  const embedder = parts.embedder ?? (await createEmbedder(cfg.embedder ?? { provider: 'hashing' }, cfg.endpoint));
  const pg = cfg.bank.postgres;
  return MemoryBank.open(cfg.bank.folder, {
    embedder,
    actor: cfg.actor,
    limits: cfg.bank.limits,
    watchIntervalMs: cfg.bank.watchIntervalMs,
    redaction: cfg.redaction,
    storage: pg ? sharedBankStorage(pg.url, pg.bankId, pg.poolSize) : 'file',
  });
}

/**
 * The engine `cfg` describes: its bank (opened here unless passed in) and its models (from
 * `cfg.endpoint` unless passed in). A bank opened here is closed again if the models cannot be made.
 */
export async function openEngine(cfg: MemoryR1Config, parts: BuiltParts = {}): Promise<MemoryEngine> {
  if (!parts.models && !cfg.endpoint) throw new Error('No model endpoint is configured: set an endpoint URL, or pass the models.');
  const bank = parts.bank ?? (await openBank(cfg, parts));
  try {
    const models = parts.models ?? createModels(cfg.endpoint!);
    return new MemoryEngine({ bank, ...models, options: cfg.engine });
  } catch (err) {
    if (!parts.bank) await bank.close();
    throw err;
  }
}
