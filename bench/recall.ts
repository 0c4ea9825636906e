// Evidence recall@k of the bank's retrieval on the LoCoMo dev split (conv-26 train, conv-30 validation):
// lexical (BM25) only, dense only, and hybrid (`MemoryBank.search`).
// Usage: node scripts/run-ts.mjs bench/recall.ts [--embedder hashing|onnx:<modelDir>] [--data <locomo.json>]
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Embedder } from '../src/core/embeddings/embedder';
import { HashingEmbedder } from '../src/core/embeddings/hashingEmbedder';
import { loadLocomo } from '../src/core/eval/locomo';
import { RETRIEVAL_METHODS, buildTurnBank, evidenceRecall } from '../src/core/eval/retrievalRecall';

const KS = [10, 30, 60] as const;
/** Hybrid search in a bank whose memories carry no source event, so no neighbour expansion happens. */
const NO_NEIGHBOURS = 'hybrid, no source neighbours';

/** Embeds each distinct text once: the ablation bank holds the same texts. */
function cachingEmbedder(inner: Embedder): Embedder {
  const cache = new Map<string, Float32Array>();
  return {
    id: inner.id,
    dimensions: inner.dimensions,
    async embed(texts, signal) {
      const todo = [...new Set(texts.filter((t) => !cache.has(t)))];
      if (todo.length) (await inner.embed(todo, signal)).forEach((v, i) => cache.set(todo[i], v));
      return texts.map((t) => cache.get(t)!);
    },
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function makeEmbedder(spec: string): Promise<Embedder> {
  if (spec === 'hashing') return new HashingEmbedder(384);
  if (spec.startsWith('onnx:')) {
    const dir = spec.slice('onnx:'.length);
    if (!fs.existsSync(dir)) throw new Error(`ONNX model folder not found: ${dir}`);
    const moduleName = 'onnxEmbedder';
    // Loaded by name so the bench builds before that module exists.
    const mod = (await import(`../src/core/embeddings/${moduleName}.ts`)) as {
      createOnnxEmbedder?: (modelDir: string) => Promise<Embedder> | Embedder;
    };
    if (!mod.createOnnxEmbedder) throw new Error('src/core/embeddings/onnxEmbedder.ts does not export createOnnxEmbedder');
    return mod.createOnnxEmbedder(dir);
  }
  throw new Error(`unknown --embedder ${spec} (hashing | onnx:<modelDir>)`);
}

async function main(): Promise<void> {
  const data = arg('--data') ?? path.resolve('../shared/datasets/locomo/locomo-dev.json');
  const spec = arg('--embedder') ?? 'hashing';
  const embedder = await makeEmbedder(spec);
  const samples = loadLocomo(data);
  console.log(`Evidence recall on ${path.basename(data)}, embedder ${embedder.id}; one memory per turn, dated by session.`);
  const rows: string[][] = [];
  const header = ['method'];
  const perMethod = new Map<string, string[]>([...RETRIEVAL_METHODS, NO_NEIGHBOURS].map((m) => [m, [m]]));
  const cached = cachingEmbedder(embedder);
  for (const sample of samples) {
    const turnBank = await buildTurnBank(sample, cached);
    const unlinked = await buildTurnBank(sample, cached, { sessionSource: false });
    try {
      let questions = 0;
      for (const method of RETRIEVAL_METHODS) {
        const res = await evidenceRecall(sample, turnBank, method, KS);
        questions = res.questions;
        perMethod.get(method)!.push(...KS.map((k) => res.recall.get(k)!.toFixed(3)));
      }
      const ablation = await evidenceRecall(sample, unlinked, 'hybrid', KS);
      perMethod.get(NO_NEIGHBOURS)!.push(...KS.map((k) => ablation.recall.get(k)!.toFixed(3)));
      header.push(...KS.map((k) => `${sample.sampleId} @${k}`));
      console.log(`${sample.sampleId}: ${turnBank.diaIdOf.size} memories, ${questions} questions`);
    } finally {
      await turnBank.dispose();
      await unlinked.dispose();
    }
  }
  await (embedder as Partial<{ close(): Promise<void> }>).close?.();
  rows.push(header, ...perMethod.values());
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  console.log('');
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
