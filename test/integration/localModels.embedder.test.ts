import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEmbedder, type OnnxEmbedder } from '../../src/core/embeddings/onnxEmbedder';
import { cosine, ensureTestModels, REPO_ROOT, SETUP_TIMEOUT_MS } from './localModelsSetup';

interface Reference {
  method: string;
  sentences: string[];
  embeddings: number[][];
}

describe('ONNX embedder (all-MiniLM-L6-v2, onnxruntime-node)', () => {
  let embedder: OnnxEmbedder;
  let dir: string;

  beforeAll(async () => {
    dir = ensureTestModels().embedderDir;
    embedder = await createOnnxEmbedder(dir, { threads: 1 });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await embedder?.close();
  });

  it('has 384 dimensions, a stable id and unit-length vectors', async () => {
    expect(embedder.dimensions).toBe(384);
    expect(embedder.id).toBe('onnx:all-MiniLM-L6-v2:384:mean-l2:256');
    const [v] = await embedder.embed(['unit length?']);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(384);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });

  it('matches the PyTorch reference (transformers + mean pooling) with cosine ≥ 0.99', async () => {
    const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
    expect(ref.sentences.length).toBeGreaterThanOrEqual(6);
    expect(ref.sentences.some((s) => s === '')).toBe(true);
    expect(embedder.countTokens(ref.sentences).some((n) => n === 256)).toBe(true); // one is long enough to be cut
    const ours = await embedder.embed(ref.sentences);
    ref.sentences.forEach((s, i) => {
      const c = cosine(ours[i], ref.embeddings[i]);
      expect(c, `cosine for ${JSON.stringify(s.slice(0, 40))}`).toBeGreaterThanOrEqual(0.99);
      expect(c).toBeGreaterThan(0.9999); // fp32 export of the same weights: equal up to rounding
    });
  });

  it('puts paraphrases closer than unrelated sentences', async () => {
    const triples: [string, string, string][] = [
      ['How do I reset my password?', 'What are the steps to change my login password?', 'The weather in Paris is sunny today.'],
      ['The tests fail because the database is not running.', 'Test failures are caused by the stopped database server.', 'We adopted a cat from the shelter last week.'],
      ['We use PostgreSQL for the memory bank.', 'The memory bank is stored in a Postgres database.', 'The concert starts at eight in the evening.'],
      ['A man is playing a guitar on stage.', 'Someone performs music with a guitar in front of an audience.', 'The stock market fell sharply on Monday.'],
      ['Run npm ci before building the extension.', 'Install the npm dependencies with npm ci, then build.', 'Bananas are rich in potassium.'],
    ];
    const flat = triples.flat();
    const v = await embedder.embed(flat);
    for (let t = 0; t < triples.length; t++) {
      const [a, p, u] = [v[3 * t], v[3 * t + 1], v[3 * t + 2]];
      const close = cosine(a, p);
      const far = cosine(a, u);
      expect(close, `paraphrase vs unrelated for "${triples[t][0]}"`).toBeGreaterThan(far + 0.2);
    }
  });

  it('gives the same vector for a text alone and inside a padded, reordered batch', async () => {
    const texts = ['short', 'a much longer sentence that forces padding of the short ones in its batch', '', 'medium length text here'];
    const alone = await Promise.all(texts.map(async (t) => (await embedder.embed([t]))[0]));
    const small = await createOnnxEmbedder(dir, { batchSize: 3, threads: 1 });
    try {
      const batched = await small.embed(texts);
      texts.forEach((_, i) => expect(cosine(alone[i], batched[i])).toBeGreaterThan(0.99999));
    } finally {
      await small.close();
    }
  });

  it('stops between batches when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop now'));
    await expect(embedder.embed(['one', 'two'], ac.signal)).rejects.toThrow('stop now');
  });

  it('names the missing files when the folder is incomplete', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-missing-'));
    fs.writeFileSync(path.join(empty, 'tokenizer.json'), '{}');
    try {
      await expect(createOnnxEmbedder(empty)).rejects.toThrow(/incomplete: missing model\.onnx\. Run `bash scripts\/setup-models\.sh`/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('loads onnxruntime only when an embedder is created', () => {
    // Bundle the module as the CLI would, then watch native addon loads in a fresh Node process.
    // Inside the repository, so that the bundle's bare imports resolve to node_modules.
    fs.mkdirSync(path.join(REPO_ROOT, '.cache'), { recursive: true });
    const out = fs.mkdtempSync(path.join(REPO_ROOT, '.cache', 'onnx-lazy-'));
    try {
      const bundle = path.join(out, 'onnxEmbedder.mjs');
      execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'esbuild'), [
        path.join(REPO_ROOT, 'src/core/embeddings/onnxEmbedder.ts'),
        '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${bundle}`, '--log-level=warning',
      ]);
      const probe = `
        const loaded = [];
        const dlopen = process.dlopen;
        process.dlopen = function (m, file, ...rest) { loaded.push(file); return dlopen.call(this, m, file, ...rest); };
        const mod = await import(${JSON.stringify(bundle)});
        const before = loaded.filter((f) => f.includes('onnxruntime')).length;
        const e = await mod.createOnnxEmbedder(${JSON.stringify(dir)}, { threads: 1 });
        const after = loaded.filter((f) => f.includes('onnxruntime')).length;
        await e.close();
        console.log(JSON.stringify({ before, after }));`;
      const stdout = execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'node'), ['--input-type=module', '-e', probe], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
      const { before, after } = JSON.parse(stdout.trim().split('\n').pop()!) as { before: number; after: number };
      expect(before).toBe(0);
      expect(after).toBeGreaterThan(0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('ONNX embedder on the WebAssembly runtime (onnxruntime-web, what the .vsix ships)', () => {
  let wasm: OnnxEmbedder;
  let native: OnnxEmbedder;
  let dir: string;

  beforeAll(async () => {
    dir = ensureTestModels().embedderDir;
    [wasm, native] = await Promise.all([createOnnxEmbedder(dir, { runtime: 'wasm' }), createOnnxEmbedder(dir, { runtime: 'native', threads: 1 })]);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await wasm?.close();
    await native?.close();
  });

  it('runs on WebAssembly, under the same id as the native runtime', () => {
    expect(wasm.runtime).toBe('wasm');
    expect(native.runtime).toBe('native');
    expect(wasm.id).toBe(native.id);
  });

  it('matches the PyTorch reference and the native runtime (cosine > 0.9999)', async () => {
    const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
    const [fromWasm, fromNative] = await Promise.all([wasm.embed(ref.sentences), native.embed(ref.sentences)]);
    ref.sentences.forEach((s, i) => {
      expect(cosine(fromWasm[i], ref.embeddings[i]), `reference, ${JSON.stringify(s.slice(0, 40))}`).toBeGreaterThan(0.9999);
      expect(cosine(fromWasm[i], Array.from(fromNative[i])), `native, ${JSON.stringify(s.slice(0, 40))}`).toBeGreaterThan(0.9999);
    });
  });
});
