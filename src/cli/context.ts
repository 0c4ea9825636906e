import { MANAGER_PROTOCOLS, type ManagerProtocol } from '../core/agents/prompts';
import * as path from 'node:path';
import { MemoryBank } from '../core/bank/memoryBank';
import { defaultBankId } from '../core/bank/bankId';
import { sharedBankStorage, type StorageOption } from '../core/bank/storage';
import { createEmbedder, createModels, endpointFromEnv, type EmbeddingConfig, type EndpointConfig } from '../core/config';
import { MemoryEngine } from '../core/engine';
import type { Embedder } from '../core/embeddings/embedder';
import { type ParsedArgs, UsageError, flag } from './args';

export const COMMON_FLAGS_HELP = `Common options:
  --bank <dir>            memory bank folder (default: ./.memory-r1, or $MEMORY_R1_BANK)
  --endpoint <url>        OpenAI-compatible base URL, e.g. http://127.0.0.1:8089/v1 ($MEMORY_R1_BASE_URL)
  --model <name>          model for all roles ($MEMORY_R1_MODEL); per role: --extractor-model, --manager-model, --answer-model
  --api-key <key>         API key ($MEMORY_R1_API_KEY; prefer the variable, flags show up in process lists)
  --embedder <spec>       hashing (default) | openai:<model> | onnx:<model dir>
  --postgres <url>        keep the bank in a shared PostgreSQL + pgvector database ($MEMORY_R1_POSTGRES_URL;
                          put the password in ~/.pgpass or $PGPASSWORD rather than the URL)
  --bank-id <id>          which bank in that database ($MEMORY_R1_BANK_ID; default: the git origin of the
                          current folder, e.g. github.com/org/repo, else the folder's name)
  --no-redaction          store and send raw text: secrets are NOT redacted (default: redacted, see README)
  --manager-protocol <p>  per-fact (default: one decision per fact, constrained to the shown ids) | paper
                          (Memory-R1 App. C.1's list of operations) ($MEMORY_R1_MANAGER_PROTOCOL)`;

/** The Memory Manager protocol from --manager-protocol / $MEMORY_R1_MANAGER_PROTOCOL. */
export function managerProtocol(args: ParsedArgs): ManagerProtocol {
  const p = flag(args, 'manager-protocol') ?? process.env.MEMORY_R1_MANAGER_PROTOCOL ?? 'per-fact';
  if (!(MANAGER_PROTOCOLS as readonly string[]).includes(p)) throw new UsageError(`Unknown --manager-protocol "${p}": use ${MANAGER_PROTOCOLS.join(' or ')}.`);
  return p as ManagerProtocol;
}

export function bankDir(args: ParsedArgs): string {
  return path.resolve(flag(args, 'bank') ?? process.env.MEMORY_R1_BANK ?? '.memory-r1');
}

export function endpointConfig(args: ParsedArgs, required: boolean): EndpointConfig | undefined {
  const env = endpointFromEnv();
  const baseURL = flag(args, 'endpoint') ?? env?.baseURL;
  if (!baseURL) {
    if (required) throw new UsageError('No model endpoint: pass --endpoint <url> or set MEMORY_R1_BASE_URL (start one with `memory-r1 serve`).');
    return undefined;
  }
  const model = flag(args, 'model') ?? process.env.MEMORY_R1_MODEL ?? 'default';
  return {
    baseURL,
    apiKey: flag(args, 'api-key') ?? env?.apiKey,
    models: {
      extractor: flag(args, 'extractor-model') ?? env?.models.extractor ?? model,
      manager: flag(args, 'manager-model') ?? env?.models.manager ?? model,
      answer: flag(args, 'answer-model') ?? env?.models.answer ?? model,
    },
  };
}

export function embeddingConfig(args: ParsedArgs): EmbeddingConfig {
  const spec = flag(args, 'embedder') ?? process.env.MEMORY_R1_EMBEDDER ?? 'hashing';
  if (spec === 'hashing') return { provider: 'hashing' };
  if (spec.startsWith('openai:')) return { provider: 'openai', model: spec.slice(7) };
  if (spec.startsWith('onnx:')) return { provider: 'onnx', modelDir: path.resolve(spec.slice(5)) };
  throw new UsageError(`Unknown --embedder "${spec}": use hashing, openai:<model> or onnx:<dir>.`);
}

/** Files in the bank folder, or a shared postgres bank when --postgres / $MEMORY_R1_POSTGRES_URL is set. */
export function storageOption(args: ParsedArgs): StorageOption {
  const url = flag(args, 'postgres') ?? process.env.MEMORY_R1_POSTGRES_URL;
  if (!url) return 'file';
  return sharedBankStorage(url, flag(args, 'bank-id') ?? process.env.MEMORY_R1_BANK_ID ?? defaultBankId(process.cwd()));
}

/** `watchIntervalMs`: a long-running command (`mcp`) polls for other processes' writes; one-shot commands do not. */
export async function openBank(args: ParsedArgs, endpoint?: EndpointConfig, opts: { watchIntervalMs?: number } = {}): Promise<MemoryBank> {
  const embedder: Embedder = await createEmbedder(embeddingConfig(args), endpoint);
  const redaction = args.flags.has('no-redaction') ? 'off' : 'on';
  if (redaction === 'off') process.stderr.write('memory-r1: --no-redaction: secrets in this run are stored and sent as they are.\n');
  const bank = await MemoryBank.open(bankDir(args), { embedder, watchIntervalMs: opts.watchIntervalMs ?? 0, actor: process.env.USER, storage: storageOption(args), redaction });
  for (const m of bank.recovery.messages) process.stderr.write(`memory-r1: ${m}\n`);
  return bank;
}

export async function openEngine(args: ParsedArgs): Promise<MemoryEngine> {
  const endpoint = endpointConfig(args, true)!;
  const bank = await openBank(args, endpoint);
  return new MemoryEngine({ bank, ...createModels(endpoint), options: { managerProtocol: managerProtocol(args) } });
}
