// Regression floor for the bank's retrieval on the LoCoMo dev split (hashing embedder, so it runs
// anywhere). The measured figures are in bench/README.md ("Retrieval recall"); floors sit a bit under them.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { loadLocomo } from '../../src/core/eval/locomo';
import { buildTurnBank, evidenceRecall } from '../../src/core/eval/retrievalRecall';

const DEV_SPLIT = path.resolve(__dirname, '../..', '../shared/datasets/locomo/locomo-dev.json');
const hasDev = fs.existsSync(DEV_SPLIT);
if (!hasDev) console.warn(`[retrieval.locomoRecall] SKIPPED: ${DEV_SPLIT} not found (LoCoMo is not in the repo by licence)`);

/** Hybrid and lexical recall@60 floors per conversation (measured: see bench/README.md). */
const FLOORS: Record<string, { hybrid: number; lexical: number }> = {
  'conv-26': { hybrid: 0.86, lexical: 0.72 },
  'conv-30': { hybrid: 0.90, lexical: 0.83 },
};

describe.skipIf(!hasDev)('evidence recall@60 on the LoCoMo dev split (hashing embedder)', () => {
  const samples = hasDev ? loadLocomo(DEV_SPLIT) : [];
  for (const id of Object.keys(FLOORS)) {
    it(`${id}: hybrid and lexical stay above their floors`, async () => {
      const sample = samples.find((s) => s.sampleId === id);
      expect(sample, `${id} in the dev split`).toBeDefined();
      const turnBank = await buildTurnBank(sample!, new HashingEmbedder(384));
      try {
        const hybrid = await evidenceRecall(sample!, turnBank, 'hybrid', [60]);
        const lexical = await evidenceRecall(sample!, turnBank, 'lexical', [60]);
        expect(hybrid.questions).toBeGreaterThan(50);
        expect(hybrid.recall.get(60)).toBeGreaterThanOrEqual(FLOORS[id].hybrid);
        expect(lexical.recall.get(60)).toBeGreaterThanOrEqual(FLOORS[id].lexical);
      } finally {
        await turnBank.dispose();
      }
    });
  }
});
