// How well the trainer's cheap outcome signal agrees with the paper's reward. The CPU trainer rewards a
// per-fact decision by the bank it leaves (is the fact kept, was anything true destroyed); the paper's
// reward lets a frozen answer agent answer the linked questions from that bank and scores exact match.
// This applies the same decisions to LoCoMo conv-26 training steps and reports both, with their cost.
//
//   node dist/cli.js build-training-data --data ../shared/datasets/locomo/locomo-dev.json --train conv-26 --out .cache/training-data
//   node dist/cli.js serve --model <qwen2.5-coder-0.5b gguf> --port 8115 --embedding-model none &
//   node scripts/run-ts.mjs bench/reward-agreement.ts --data .cache/training-data --endpoint http://127.0.0.1:8115/v1 \
//     --model qwen2.5-coder-0.5b-instruct-q4_k_m [--limit 12]
import * as path from 'node:path';
import { HashingEmbedder } from '../src/core/embeddings/hashingEmbedder';
import { OpenAIChatModel } from '../src/core/llm/openaiChatModel';
import { loadTrainingData } from '../src/core/training/dataset';
import { RewardEngine } from '../src/core/training/reward';
import { flag } from './argv';


async function main(): Promise<void> {
  const dataDir = flag('data');
  const endpoint = flag('endpoint');
  const model = flag('model');
  if (!dataDir || !endpoint || !model) {
    console.error('usage: bench/reward-agreement.ts --data <training data> --endpoint <url> --model <answer model> [--limit N]');
    process.exit(2);
  }
  const limit = Number(flag('limit') ?? 12);
  const data = loadTrainingData(path.resolve(dataDir));
  const answerer = new OpenAIChatModel({ baseURL: endpoint, model, timeoutMs: 600_000, maxRetries: 1 });
  const engine = new RewardEngine({ embedder: new HashingEmbedder(384), answerer, data, concurrency: 1, answerTopK: data.meta.answerTopK });
  // Steps whose fact has a related memory shown, spread over the conversation.
  const all = [...data.manager.values()].filter((m) => m.example.candidates.length > 0 && m.example.questions.length > 0);
  const picked = Array.from({ length: Math.min(limit, all.length) }, (_, i) => all[Math.floor((i * all.length) / Math.min(limit, all.length))]);
  const decisions = [
    { label: 'NEW (keep the fact)', completion: JSON.stringify({ decision: 'NEW', id: 'none' }) },
    { label: 'SAME on memory 0 (drop the fact)', completion: JSON.stringify({ decision: 'SAME', id: '0' }) },
  ];
  const rows: { id: string; decision: string; kept: boolean; em: number; ms: number }[] = [];
  try {
    for (const { example } of picked) {
      for (const d of decisions) {
        const t0 = performance.now();
        const [r] = await engine.rewardBatch([{ kind: 'manager', id: example.id, completion: d.completion, protocol: 'per-fact' }]);
        rows.push({ id: example.id, decision: d.label, kept: r.kept ?? false, em: r.reward, ms: performance.now() - t0 });
        process.stderr.write(`${example.id} ${d.label}: kept ${r.kept} EM ${r.reward.toFixed(2)} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
    }
  } finally {
    await engine.close();
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const kept = rows.filter((r) => r.kept);
  const lost = rows.filter((r) => !r.kept);
  const pairs = picked.map(({ example }) => rows.filter((r) => r.id === example.id));
  const emPrefersKeep = pairs.filter(([keep, drop]) => keep.em > drop.em).length;
  const emTies = pairs.filter(([keep, drop]) => keep.em === drop.em).length;
  console.log(`\nReward agreement on ${picked.length} LoCoMo conv-26 steps × ${decisions.length} decisions (answer model ${model})\n`);
  console.log('| signal | fact kept | fact dropped |');
  console.log('|---|---:|---:|');
  console.log(`| decisions | ${kept.length} | ${lost.length} |`);
  console.log(`| mean EM of the linked questions | ${mean(kept.map((r) => r.em)).toFixed(3)} | ${mean(lost.map((r) => r.em)).toFixed(3)} |`);
  console.log(`\nPer step, EM rewards keeping the fact over dropping it in ${emPrefersKeep} of ${pairs.length}, ties (no signal) in ${emTies}, the reverse in ${pairs.length - emPrefersKeep - emTies}.`);
  console.log(`An EM reward cost ${(mean(rows.map((r) => r.ms)) / 1000).toFixed(1)} s on average (the bank-state reward: milliseconds).`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
