import { MANAGER_PROTOCOLS, type ManagerProtocol } from '../core/agents/prompts';
import * as path from 'node:path';
import type { MemoryBank } from '../core/bank/memoryBank';
import { defaultBankId } from '../core/bank/bankId';
import { sharedBankStorage } from '../core/bank/storage';
import { endpointFromEnv, openBank, openEngine, type EmbeddingConfig, type EndpointConfig, type MemoryR1Config } from '../core/config';
import type { MemoryEngine } from '../core/engine';
import { type ParsedArgs, UsageError, flag } from './args';

export const COMMON_FLAGS_HELP = `Common options:
  --bank <dir>            memory bank folder (default: ./.memory-r1, or $MEMORY_R1_BANK)
  --endpoint <url>        OpenAI-compatible base URL, e.g. http://127.0.0.1:8089/v1 ($MEMORY_R1_BASE_URL)
  --model <name>          model for all roles ($MEMORY_R1_MODEL); per role: --extractor-model, --manager-model, --answer-model
  --api-key <key>         API key ($MEMORY_R1_API_KEY; prefer the variable, flags show up in process lists)
  --timeout <seconds>     how long one model request may take before it fails (default 120; $MEMORY_R1_TIMEOUT);
                          raise it for long prompts on a slow CPU
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
    timeoutMs: requestTimeoutMs(args),
    models: {
      extractor: flag(args, 'extractor-model') ?? env?.models.extractor ?? model,
      manager: flag(args, 'manager-model') ?? env?.models.manager ?? model,
      answer: flag(args, 'answer-model') ?? env?.models.answer ?? model,
    },
  };
}

/** --timeout / $MEMORY_R1_TIMEOUT in seconds, as milliseconds; undefined leaves the client's default (120 s). */
export function requestTimeoutMs(args: ParsedArgs): number | undefined {
  const raw = flag(args, 'timeout') ?? process.env.MEMORY_R1_TIMEOUT;
  if (raw === undefined || raw === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a number of seconds above 0, not "${raw}".`);
  return Math.round(seconds * 1000);
}

export function embeddingConfig(args: ParsedArgs): EmbeddingConfig {
  const spec = flag(args, 'embedder') ?? process.env.MEMORY_R1_EMBEDDER ?? 'hashing';
  if (spec === 'hashing') return { provider: 'hashing' };
  if (spec.startsWith('openai:')) return { provider: 'openai', model: spec.slice(7) };
  if (spec.startsWith('onnx:')) return { provider: 'onnx', modelDir: path.resolve(spec.slice(5)) };
  throw new UsageError(`Unknown --embedder "${spec}": use hashing, openai:<model> or onnx:<dir>.`);
}

/** A shared postgres bank from --postgres / $MEMORY_R1_POSTGRES_URL (with --bank-id), else none: files in the folder. */
export function postgresConfig(args: ParsedArgs): MemoryR1Config['bank']['postgres'] {
  const url = flag(args, 'postgres') ?? process.env.MEMORY_R1_POSTGRES_URL;
  if (!url) return undefined;
  const p = { url, bankId: flag(args, 'bank-id') ?? process.env.MEMORY_R1_BANK_ID ?? defaultBankId(process.cwd()) };
  sharedBankStorage(p.url, p.bankId); // refuses anything but a postgres URL, now rather than at open
  return p;
}

/**
 * The run's configuration, resolved once from the flags over the environment: the CLI's only
 * assembly step. `endpoint: 'required'` refuses a run without one (commands that call a model).
 */
export function cliConfig(args: ParsedArgs, opts: { endpoint?: 'required' | 'optional' } = {}): MemoryR1Config {
  const endpoint = endpointConfig(args, opts.endpoint === 'required');
  return {
    bank: { folder: bankDir(args), postgres: postgresConfig(args), watchIntervalMs: 0 },
    endpoint,
    embedder: embeddingConfig(args),
    actor: process.env.USER,
    redaction: args.flags.has('no-redaction') ? 'off' : 'on',
    engine: { managerProtocol: managerProtocol(args) },
  };
}

/** What opening repaired, on stderr. */
function reportOpened(bank: MemoryBank): void {
  for (const m of bank.recovery.messages) process.stderr.write(`memory-r1: ${m}\n`);
}

function warnRedaction(cfg: MemoryR1Config): void {
  if (cfg.redaction === 'off') process.stderr.write('memory-r1: --no-redaction: secrets in this run are stored and sent as they are.\n');
}

/** The bank `cfg` names (core's openBank), with the CLI's notes on stderr. */
export async function openCliBank(cfg: MemoryR1Config): Promise<MemoryBank> {
  warnRedaction(cfg);
  const bank = await openBank(cfg);
  reportOpened(bank);
  return bank;
}

/** The engine `cfg` names (core's openEngine), with the CLI's notes on stderr. */
export async function openCliEngine(cfg: MemoryR1Config): Promise<MemoryEngine> {
  warnRedaction(cfg);
  const engine = await openEngine(cfg);
  reportOpened(engine.bank);
  return engine;
}
