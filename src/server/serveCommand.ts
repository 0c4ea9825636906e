import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL, MODEL_CATALOG, TRAINED_MANAGER, findCatalogAdapter, findCatalogModel, type CatalogModel } from '../core/models/catalog';
import { ensureModel, findInstalledModel, modelSearchDirs } from '../core/models/modelStore';
import { defaultThreads, startModelServer, type ModelServer } from './llamaServer';

export const SERVE_USAGE = `memory-r1 serve [--model <file.gguf | catalog id>] [--embedding-model <dir | file.gguf | catalog id | none>]
                [--host 127.0.0.1] [--port 8089] [--allow-remote] [--context-size 4096] [--sequences 4] [--threads N] [--cpu]
                [--lora <adapter.gguf>[=<name>]]...

Serves a local model over the OpenAI protocol (base URL http://HOST:PORT/v1) until Ctrl-C.
  --model             GGUF chat model. Default: ${DEFAULT_CHAT_MODEL.id} from $MODELS_DIR or .cache/models
                      (scripts/setup-models.sh) or the user cache, downloaded there on first use.
                      Catalog ids: ${MODEL_CATALOG.filter((m) => m.kind === 'chat').map((m) => m.id).join(', ')}.
  --embedding-model   enables /v1/embeddings: an ONNX sentence-transformers folder, a GGUF embedding model or
                      "${DEFAULT_EMBEDDING_MODEL.id}" (downloaded if missing). Default: ${DEFAULT_EMBEDDING_MODEL.id} if installed.
  --host, --port      where to listen (default 127.0.0.1:8089). Only loopback unless --allow-remote.
  --allow-remote      allow a non-loopback host; the server has no authentication.
  --context-size      tokens of context per sequence (default 4096).
  --sequences         prompt prefixes kept evaluated, one per system prompt in practice (default 4); a request
                      reuses the one that shares the longest prefix and evaluates only its new tokens.
                      1 = the old behaviour: one sequence, so each change of system prompt is evaluated in full.
  --input-lookup      prompt-lookup decoding: guess the next tokens from the prompt and check them in one batch
                      (same output; slower on 2 CPU cores, where it was measured; may pay off on a GPU).
  --lora              a GGUF LoRA adapter for this model, served beside it under its own model id (the file name
                      without .lora.gguf, or the =<name> given): requests naming it get base + adapter.
                      "${TRAINED_MANAGER.id}" is the manager trained by training/run_cpu.sh for ${TRAINED_MANAGER.base}.
  --threads           CPU threads (default ${defaultThreads()}: every core, up to 8; or MEMORY_R1_THREADS). --cpu: no GPU.`;

export interface ServeCommandIo {
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Stops the server like SIGINT (for tests and embedding in other programs). */
  signal?: AbortSignal;
  onListening?: (server: ModelServer) => void;
}

/** `memory-r1 serve`: returns the exit code once the server has stopped (0) or failed to start (1; 2 for usage). */
export async function runServeCommand(argv: string[], io: ServeCommandIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = io.err ?? ((l: string) => process.stderr.write(l + '\n'));
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        'embedding-model': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'allow-remote': { type: 'boolean' },
        'context-size': { type: 'string' },
        sequences: { type: 'string' },
        'input-lookup': { type: 'boolean' },
        threads: { type: 'string' },
        cpu: { type: 'boolean' },
        lora: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`${(e as Error).message}\n\n${SERVE_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(SERVE_USAGE);
    return 0;
  }
  const intOpt = (name: string, dflt: number | undefined, min: number): number | undefined => {
    const v = values[name];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${String(v)}"`);
    return n;
  };

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  io.signal?.addEventListener('abort', onSignal, { once: true });
  // `on`, not `once`: signal-exit (used by dependencies) re-raises a signal that no other listener is left to take.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let server: ModelServer | undefined;
  try {
    const port = intOpt('port', 8089, 0);
    const contextSize = intOpt('context-size', undefined, 256);
    const threads = intOpt('threads', undefined, 1);
    const sequences = intOpt('sequences', undefined, 1);
    const progress = (m: string) => out(m);
    const modelPath = await resolveModel(values.model as string | undefined, DEFAULT_CHAT_MODEL, progress, stop.signal, true);
    const embArg = values['embedding-model'] as string | undefined;
    let embeddingModelPath: string | undefined;
    if (embArg !== 'none') {
      embeddingModelPath = await resolveModel(embArg, DEFAULT_EMBEDDING_MODEL, progress, stop.signal, embArg !== undefined);
      if (!embeddingModelPath) out(`No embedding model installed: /v1/embeddings is off (--embedding-model ${DEFAULT_EMBEDDING_MODEL.id} downloads one).`);
    }
    if (stop.signal.aborted) return 0;
    const loras = ((values.lora as unknown as string[] | undefined) ?? []).map(resolveAdapter);
    out(`Loading ${modelPath}`);
    server = await startModelServer({
      modelPath: modelPath!,
      host: values.host as string | undefined,
      port,
      allowNonLoopback: values['allow-remote'] === true,
      contextSize,
      sequences,
      inputLookup: values['input-lookup'] === true,
      threads,
      gpu: values.cpu ? false : 'auto',
      embeddingModelPath,
      loras,
      onProgress: progress,
    });
    out(`Model server listening on ${server.url} (model "${server.model}"${server.adapters.map((a) => `, "${a}"`).join('')}${server.embeddingModel ? `, embeddings "${server.embeddingModel}"` : ''}). Ctrl-C stops it.`);
    io.onListening?.(server);
    if (!stop.signal.aborted) await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    out('Stopping the model server…');
    await server.close();
    out('Model server stopped.');
    return 0;
  } catch (e) {
    await server?.close().catch(() => undefined);
    err(`memory-r1 serve: ${(e as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    io.signal?.removeEventListener('abort', onSignal);
  }
}

/**
 * A path given on the command line is used as is (and must exist); a catalog id, or nothing, finds
 * the installed model and, where `download`, fetches it into the user cache.
 */
async function resolveModel(
  arg: string | undefined,
  fallback: CatalogModel,
  progress: (m: string) => void,
  signal: AbortSignal,
  download: boolean,
): Promise<string | undefined> {
  const catalog = arg === undefined ? fallback : findCatalogModel(arg);
  if (!catalog) {
    if (!fs.existsSync(arg!)) throw new Error(`No model at ${arg} (and it is not a catalog id: ${fallback.id}).`);
    return arg;
  }
  const installed = findInstalledModel(catalog, modelSearchDirs());
  if (installed || !download) return installed;
  return ensureModel(catalog, { onProgress: progress, signal });
}

/**
 * `--lora <file>[=<name>]` or a catalog adapter id. A catalog adapter ships with the package (the
 * repository or the extension) and is checked against its SHA-256 before it is used.
 */
export function resolveAdapter(arg: string): { path: string; name?: string } {
  const eq = arg.lastIndexOf('=');
  const [file, name] = eq > 0 && !/[\\/]/.test(arg.slice(eq + 1)) ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
  const catalog = findCatalogAdapter(file);
  if (!catalog) {
    if (!fs.existsSync(file)) throw new Error(`No LoRA adapter at ${file} (and it is not a catalog id: ${TRAINED_MANAGER.id}).`);
    return { path: file, name };
  }
  const found = packageRoots().map((root) => path.join(root, catalog.file)).find((p) => fs.existsSync(p));
  if (!found) throw new Error(`The adapter ${catalog.id} is not in this installation (expected ${catalog.file}); train it with bash training/run_cpu.sh.`);
  const digest = crypto.createHash('sha256').update(fs.readFileSync(found)).digest('hex');
  if (digest !== catalog.sha256) throw new Error(`${found} does not match the published SHA-256 of ${catalog.id} (${digest.slice(0, 12)}… ≠ ${catalog.sha256.slice(0, 12)}…); reinstall it or pass the file itself.`);
  return { path: found, name: name ?? catalog.id };
}

/** Folders that may hold the package's files: this file's bundle folder's parent (dist/..), and up from src/server. */
function packageRoots(): string[] {
  const roots: string[] = [];
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) roots.push(dir);
  return roots;
}
