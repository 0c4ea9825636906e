import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's place in test/integration/. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where scripts/setup-models.sh installs: $MODELS_DIR (one copy shared by several checkouts) or .cache/models. */
export const MODELS_DIR = process.env.MODELS_DIR ? path.resolve(process.env.MODELS_DIR) : path.join(REPO_ROOT, '.cache', 'models');
/** SmolLM2-135M: the server's protocol tests, where speed matters and what the model writes does not. */
export const CHAT_MODEL_PATH = path.join(MODELS_DIR, 'smollm2-135m-instruct', 'SmolLM2-135M-Instruct.Q4_1.gguf');
/** Qwen2.5-Coder-0.5B-Instruct: the tests that need a model that does the pipeline's work. */
export const QWEN_05B_PATH = path.join(MODELS_DIR, 'qwen2.5-coder-0.5b-instruct', 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf');
export const EMBEDDER_DIR = path.join(MODELS_DIR, 'all-MiniLM-L6-v2');

/**
 * Makes sure the local test models are installed by running scripts/setup-models.sh (a no-op
 * taking milliseconds when they are; minutes on a fresh machine). Tests never skip for want of
 * models: a failed setup fails the test run.
 */
export function ensureTestModels(): { chatModelPath: string; qwenPath: string; embedderDir: string } {
  // No argument: the "test" set (Qwen 0.5B, SmolLM2, MiniLM).
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'setup-models.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: REPO_ROOT,
    env: { ...process.env, MODELS_DIR },
  });
  for (const f of [CHAT_MODEL_PATH, QWEN_05B_PATH, path.join(EMBEDDER_DIR, 'model.onnx'), path.join(EMBEDDER_DIR, 'reference.json')]) {
    if (!fs.existsSync(f)) throw new Error(`scripts/setup-models.sh finished but ${f} is missing.`);
  }
  return { chatModelPath: CHAT_MODEL_PATH, qwenPath: QWEN_05B_PATH, embedderDir: EMBEDDER_DIR };
}

/** Setup on a cold machine downloads wheels and PyTorch: give beforeAll this long. */
export const SETUP_TIMEOUT_MS = 20 * 60_000;

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/**
 * Starts the local OpenAI-compatible server on SmolLM2-135M (chat; `chat: 'qwen'` for
 * Qwen2.5-Coder-0.5B) and all-MiniLM-L6-v2 (/v1/embeddings) on a free loopback port, installing the
 * models first if needed. For pipeline tests: point `OpenAIChatModel`/`OpenAIEmbedder` at
 * `server.url` with `server.model` / `server.embeddingModel`, and `await server.close()` in afterAll.
 */
export async function startTestModelServer(
  overrides: Partial<import('../../src/server/llamaServer').ModelServerOptions> & { chat?: 'smollm2' | 'qwen' } = {},
): Promise<import('../../src/server/llamaServer').ModelServer> {
  const { chatModelPath, qwenPath, embedderDir } = ensureTestModels();
  const { startModelServer } = await import('../../src/server/llamaServer');
  const { chat, ...opts } = overrides;
  const modelPath = chat === 'qwen' ? qwenPath : chatModelPath;
  return startModelServer({ modelPath, embeddingModelPath: embedderDir, port: 0, gpu: false, contextSize: 4096, ...opts });
}
