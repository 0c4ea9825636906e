// The composition root: one plain configuration object (MemoryR1Config) and the two functions that
// build everything from it, openBank(cfg) and openEngine(cfg). Every surface resolves its own inputs
// (CLI flags and environment, VS Code settings and secrets, a benchmark's constants) into this object
// and calls these; none assembles a bank or an engine itself.
import type { Embedder } from './embeddings/embedder';
import { HashingEmbedder } from './embeddings/hashingEmbedder';
import { OpenAIEmbedder } from './embeddings/openaiEmbedder';
import { OpenAIChatModel } from './llm/openaiChatModel';
import { type BankLimits, MemoryBank } from './bank/memoryBank';
import { type StorageOption, createStorage, sharedBankStorage } from './bank/storage';
import type { ScrubOptions, ScrubReport } from './bank/scrub';
import type { ChatModel } from './llm/chatModel';
import { type EngineModels, type EngineOptions, MemoryEngine } from './engine';
import type { RedactionMode } from './privacy/boundary';

/** Where the models are: one endpoint (`provider`, default OpenAI-compatible), a model name per role. */
export interface EndpointConfig {
  provider?: EndpointProvider;
  baseURL: string;
  apiKey?: string;
  models: { extractor: string; manager: string; answer: string };
  timeoutMs?: number;
  maxRetries?: number;
}

export type EmbeddingConfig =
  | { provider: 'hashing'; dimensions?: number }
  | { provider: 'openai'; model: string; baseURL?: string; apiKey?: string; dimensions?: number }
  | { provider: 'onnx'; modelDir: string; /** onnxruntime-web's files, where the native runtime is not shipped (the .vsix). */ wasmDir?: string };

// ---- One table per extension point. To add a kind of thing: one file for it, and one line in its table. ----

/** Endpoint providers: how a chat model is made for one model name. */
export const ENDPOINT_PROVIDERS = {
  /** Any OpenAI-compatible server: vLLM, Ollama, llama.cpp, LM Studio, `memory-r1 serve`, OpenAI. */
  openai: (cfg: EndpointConfig, model: string): ChatModel => new OpenAIChatModel({ baseURL: cfg.baseURL, apiKey: cfg.apiKey, model, timeoutMs: cfg.timeoutMs, maxRetries: cfg.maxRetries }),
} satisfies Record<string, (cfg: EndpointConfig, model: string) => ChatModel>;
export type EndpointProvider = keyof typeof ENDPOINT_PROVIDERS;

type EmbedderMaker<P extends EmbeddingConfig['provider']> = (cfg: Extract<EmbeddingConfig, { provider: P }>, endpoint?: EndpointConfig) => Promise<Embedder>;

/** Embedder providers. */
export const EMBEDDER_PROVIDERS: { [P in EmbeddingConfig['provider']]: EmbedderMaker<P> } = {
  hashing: async (cfg) => new HashingEmbedder(cfg.dimensions ?? 384),
  openai: async (cfg, endpoint) => {
    const baseURL = cfg.baseURL ?? endpoint?.baseURL;
    if (!baseURL) throw new Error('The OpenAI embedding provider needs an endpoint URL.');
    const e = new OpenAIEmbedder({ baseURL, apiKey: cfg.apiKey ?? endpoint?.apiKey, model: cfg.model, dimensions: cfg.dimensions });
    if (!cfg.dimensions) await e.probe();
    return e;
  },
  // Loaded lazily: ONNX Runtime is heavy and optional.
  onnx: async (cfg) => (await import('./embeddings/onnxEmbedder')).createOnnxEmbedder(cfg.modelDir, cfg.wasmDir ? { wasmDir: cfg.wasmDir } : {}),
};

/** Storage kinds: where a bank keeps its history, vectors and side data (`bank/storage/`). */
export const STORAGE_KINDS = {
  file: (): StorageOption => 'file',
  postgres: (_folder: string, pg: NonNullable<MemoryR1Config['bank']['postgres']>): StorageOption => sharedBankStorage(pg.url, pg.bankId, pg.poolSize),
} satisfies Record<string, (folder: string, pg: NonNullable<MemoryR1Config['bank']['postgres']>) => StorageOption>;

/** One chat model per distinct model name: roles that name the same model share one client. */
export function createModels(cfg: EndpointConfig): EngineModels {
  const provider = ENDPOINT_PROVIDERS[cfg.provider ?? 'openai'];
  if (!provider) throw new Error(`Unknown endpoint provider "${cfg.provider}": known are ${Object.keys(ENDPOINT_PROVIDERS).join(', ')}.`);
  const made = new Map<string, ChatModel>();
  const make = (model: string) => {
    let m = made.get(model);
    if (!m) made.set(model, (m = provider(cfg, model)));
    return m;
  };
  return { extractor: make(cfg.models.extractor), manager: make(cfg.models.manager), answerer: make(cfg.models.answer) };
}

export async function createEmbedder(cfg: EmbeddingConfig, endpoint?: EndpointConfig): Promise<Embedder> {
  const make = EMBEDDER_PROVIDERS[cfg.provider] as EmbedderMaker<typeof cfg.provider> | undefined;
  if (!make) throw new Error(`Unknown embedder provider "${cfg.provider}": known are ${Object.keys(EMBEDDER_PROVIDERS).join(', ')}.`);
  return make(cfg as never, endpoint);
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

/**
 * Finds (and with `apply`, removes) secrets older versions stored in the bank `cfg` describes, through its
 * store (BankStorage.scrub), without opening the bank: close it first.
 */
export async function scrubBank(cfg: MemoryR1Config, opts: ScrubOptions): Promise<ScrubReport> {
  const pg = cfg.bank.postgres;
  const storage = await createStorage(cfg.bank.folder, pg ? STORAGE_KINDS.postgres(cfg.bank.folder, pg) : STORAGE_KINDS.file(), '');
  try {
    return await storage.scrub(opts);
  } finally {
    await storage.close();
  }
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
    storage: pg ? STORAGE_KINDS.postgres(cfg.bank.folder, pg) : STORAGE_KINDS.file(),
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
