import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Embedder, normalize } from './embedder';

/** Types of the lazily loaded modules; `import type` keeps them out of the bundle's startup path. */
type Ort = typeof import('onnxruntime-node');
type OrtSession = import('onnxruntime-node').InferenceSession;
type HfTokenizer = import('@huggingface/tokenizers').Tokenizer;

export interface OnnxEmbedderOptions {
  /** Longest input in tokens, special tokens included; longer texts are cut (sentence-transformers: 256). */
  maxTokens?: number;
  /** Texts per forward pass. */
  batchSize?: number;
  /** Threads inside one operator; default: cores − 1, at least 1, at most 4 (measured: on a busy 2-core machine 1 thread embeds 1.6× faster than 2). */
  threads?: number;
  /**
   * `native`: onnxruntime-node only. `wasm`: onnxruntime-web's WebAssembly build only (what the
   * packaged extension ships: no native binaries). `auto` (default): native, else WebAssembly.
   */
  runtime?: 'auto' | 'native' | 'wasm';
  /** Folder holding onnxruntime-web's `ort-wasm-*.wasm`/`.mjs` when they are not beside its module (a bundle). */
  wasmDir?: string;
}

export interface OnnxEmbedder extends Embedder {
  /** Which ONNX Runtime build runs the model. */
  readonly runtime: 'native' | 'wasm';
  /** Token counts as the model sees them (after truncation), for usage reports. */
  countTokens(texts: string[]): number[];
  close(): Promise<void>;
}

/** The files a sentence-transformers model exported to ONNX needs. */
export const ONNX_EMBEDDER_FILES = ['model.onnx', 'tokenizer.json'] as const;

/**
 * A sentence embedder running a BERT-style ONNX model in process (onnxruntime-node), the way
 * sentence-transformers runs all-MiniLM-L6-v2: WordPiece tokens (at most `maxTokens`), the
 * encoder's last hidden state, mean pooling over real tokens, L2 normalisation.
 *
 * `modelDir` holds `model.onnx` (inputs input_ids, attention_mask and optionally token_type_ids;
 * output last_hidden_state [batch, seq, dim] or a pooled [batch, dim]) and `tokenizer.json`
 * (`tokenizer_config.json` optional). The native runtime is loaded only when this is called.
 */
/** How close a memory must be to a fact to count as related, per known model (see Embedder.relatedness). */
const RELATEDNESS: Record<string, number> = { 'all-MiniLM-L6-v2': 0.65 };

export async function createOnnxEmbedder(modelDir: string, opts: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
  const dir = path.resolve(modelDir);
  const missing = ONNX_EMBEDDER_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length) {
    throw new Error(
      `The ONNX embedding model in ${dir} is incomplete: missing ${missing.join(', ')}. ` +
        'Run `bash scripts/setup-models.sh` in a checkout of Project Memory, or `memory-r1 serve`, which downloads all-MiniLM-L6-v2 on first use.',
    );
  }
  const maxTokens = opts.maxTokens ?? 256;
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  if (maxTokens < 3) throw new Error(`maxTokens must be at least 3, got ${maxTokens}.`);

  const [{ ort, runtime }, { Tokenizer }] = await Promise.all([loadRuntime(opts), import('@huggingface/tokenizers')]);
  const tokenizerJson = readJson(path.join(dir, 'tokenizer.json'));
  const tokenizerConfigPath = path.join(dir, 'tokenizer_config.json');
  const tokenizerConfig = fs.existsSync(tokenizerConfigPath) ? readJson(tokenizerConfigPath) : {};
  const tokenizer: HfTokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);

  const threads = opts.threads ?? Math.max(1, Math.min(4, os.availableParallelism() - 1));
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(
      path.join(dir, 'model.onnx'),
      runtime === 'native' ? { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' } : { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
    );
  } catch (err) {
    throw new Error(`Cannot load ${path.join(dir, 'model.onnx')} with onnxruntime: ${(err as Error).message}`);
  }
  for (const name of ['input_ids', 'attention_mask']) {
    if (!session.inputNames.includes(name)) {
      throw new Error(`${path.join(dir, 'model.onnx')} has no input "${name}" (inputs: ${session.inputNames.join(', ')}); it is not a BERT-style encoder.`);
    }
  }
  const wantsTokenTypes = session.inputNames.includes('token_type_ids');
  const outputName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];

  const encode = (text: string): number[] => {
    const ids = tokenizer.encode(text, { add_special_tokens: true }).ids;
    // Keep [CLS] … and the final [SEP], as the Rust tokenizer's truncation does.
    return ids.length <= maxTokens ? ids : [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]];
  };

  const runBatch = async (batch: number[][]): Promise<Float32Array[]> => {
    const seq = Math.max(...batch.map((ids) => ids.length));
    const n = batch.length;
    const ids = new BigInt64Array(n * seq);
    const mask = new BigInt64Array(n * seq);
    batch.forEach((row, b) => {
      for (let t = 0; t < row.length; t++) {
        ids[b * seq + t] = BigInt(row[t]);
        mask[b * seq + t] = 1n;
      }
    });
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [n, seq]),
      attention_mask: new ort.Tensor('int64', mask, [n, seq]),
    };
    if (wantsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(n * seq), [n, seq]);
    const out = (await session.run(feeds))[outputName];
    const data = out.data as Float32Array;
    const dims = out.dims;
    const vectors: Float32Array[] = [];
    if (dims.length === 2) {
      const dim = dims[1];
      for (let b = 0; b < n; b++) vectors.push(normalize(data.slice(b * dim, (b + 1) * dim)));
      return vectors;
    }
    const dim = dims[2];
    for (let b = 0; b < n; b++) {
      const v = new Float32Array(dim);
      const len = batch[b].length; // padding sits after the real tokens
      for (let t = 0; t < len; t++) {
        const base = (b * seq + t) * dim;
        for (let d = 0; d < dim; d++) v[d] += data[base + d];
      }
      for (let d = 0; d < dim; d++) v[d] /= len;
      vectors.push(normalize(v));
    }
    return vectors;
  };

  const probe = await runBatch([encode('dimension probe')]);
  const dimensions = probe[0].length;
  const modelName = path.basename(dir);
  let closed = false;

  return {
    // The same id on both runtimes: their vectors agree to float precision, so a bank moves freely.
    id: `onnx:${modelName}:${dimensions}:mean-l2:${maxTokens}`,
    dimensions,
    // all-MiniLM-L6-v2: on the bank-quality dev streams, supersedes the labels call right had a fact-memory
    // cosine of 0.60 or more (most above 0.9) and wrong ones 0.62 or less; 0.65 keeps the clear ones.
    ...(RELATEDNESS[modelName] !== undefined ? { relatedness: RELATEDNESS[modelName] } : {}),
    runtime,
    countTokens: (texts) => texts.map((t) => encode(t).length),
    async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
      if (closed) throw new Error('This ONNX embedder was closed.');
      const encoded = texts.map((t, i) => {
        if (typeof t !== 'string') throw new TypeError(`embed() needs strings; item ${i} is ${typeof t}.`);
        return encode(t);
      });
      // Similar lengths share a batch, so little compute goes to padding; the order is restored after.
      const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length);
      const result = new Array<Float32Array>(texts.length);
      for (let start = 0; start < order.length; start += batchSize) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('Embedding aborted', 'AbortError');
        const idx = order.slice(start, start + batchSize);
        const vecs = await runBatch(idx.map((i) => encoded[i]));
        idx.forEach((i, k) => (result[i] = vecs[k]));
      }
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}

function readJson(file: string): object {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as object;
  } catch (err) {
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
}

/**
 * onnxruntime-node when it loads (fast native code, but per-platform binaries), else onnxruntime-web's
 * WebAssembly build, which runs anywhere Node does and is what the packaged extension carries.
 */
async function loadRuntime(opts: OnnxEmbedderOptions): Promise<{ ort: Ort; runtime: 'native' | 'wasm' }> {
  const want = opts.runtime ?? 'auto';
  let nativeError: unknown;
  if (want !== 'wasm') {
    try {
      return { ort: (await import('onnxruntime-node')) as Ort, runtime: 'native' };
    } catch (err) {
      if (want === 'native') throw err;
      nativeError = err;
    }
  }
  try {
    const web = (await import('onnxruntime-web')) as unknown as Ort & { env: { wasm: { numThreads?: number; wasmPaths?: string } } };
    // One thread: the threaded build would start web workers, which a bundled extension cannot locate.
    web.env.wasm.numThreads = 1;
    // A file URL prefix (it loads `<prefix>ort-wasm-simd-threaded.mjs`), which works on Windows paths too.
    if (opts.wasmDir) web.env.wasm.wasmPaths = pathToFileURL(path.resolve(opts.wasmDir)).href.replace(/\/?$/, '/');
    return { ort: web, runtime: 'wasm' };
  } catch (err) {
    const why = nativeError ? ` (native runtime: ${(nativeError as Error).message})` : '';
    throw new Error(`No ONNX Runtime could be loaded: ${(err as Error).message}${why}`);
  }
}
