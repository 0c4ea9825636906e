// Evidence recall of the memory bank's retrieval on LoCoMo: one memory per dialogue turn (dated with
// its session), the non-adversarial questions as queries, their evidence turns as the targets.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MemoryBank } from '../bank/memoryBank';
import type { Embedder } from '../embeddings/embedder';
import type { SearchHit } from '../types';
import { type LocomoSample, nonAdversarial, turnText } from './locomo';
import { openBank } from '../config';

/** A bank holding one sample's turns, and which dialogue id each memory came from. */
export interface TurnBank {
  bank: MemoryBank;
  diaIdOf: Map<string, string>;
  /** Removes the bank's temporary folder. */
  dispose(): Promise<void>;
}

export type RetrievalMethod = 'lexical' | 'dense' | 'hybrid';
export const RETRIEVAL_METHODS: readonly RetrievalMethod[] = ['lexical', 'dense', 'hybrid'];

/**
 * Builds a fresh bank (in a temporary folder) with one memory per turn; the memory's eventTime is its
 * session date and its source the session (one conversation = one source event). `sessionSource: false`
 * leaves the source ref out, so search has no source neighbours to expand to (for ablation).
 */
export async function buildTurnBank(sample: LocomoSample, embedder: Embedder, opts: { sessionSource?: boolean } = {}): Promise<TurnBank> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), `recall-${sample.sampleId}-`));
  const bank = await openBank({ bank: { folder, watchIntervalMs: 0, limits: { maxMemoryChars: 20_000 } } }, { embedder });
  const diaIdOf = new Map<string, string>();
  try {
    for (const session of sample.sessions) {
      const turns = session.turns.filter((t) => turnText(t).trim().length > 0);
      if (!turns.length) continue;
      const recs = await bank.applyBatch(
        turns.map((t) => ({ type: 'ADD' as const, text: turnText(t) })),
        {
          source: opts.sessionSource === false ? { kind: 'dialogue' } : { kind: 'dialogue', ref: `${sample.sampleId}/session_${session.index}` },
          eventTime: session.isoDate,
        },
      );
      recs.forEach((r, i) => diaIdOf.set(r.memoryId, turns[i].diaId));
    }
  } catch (err) {
    await bank.close();
    fs.rmSync(folder, { recursive: true, force: true });
    throw err;
  }
  return {
    bank,
    diaIdOf,
    async dispose() {
      await bank.close();
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}

export function runMethod(bank: MemoryBank, method: RetrievalMethod, query: string, topK: number): Promise<SearchHit[]> {
  if (method === 'lexical') return Promise.resolve(bank.searchLexical(query, topK));
  if (method === 'dense') return bank.searchDense(query, topK);
  return bank.search(query, { topK });
}

/** Mean over questions of the share of a question's evidence turns found in the top k; questions without evidence are skipped. */
export async function evidenceRecall(
  sample: LocomoSample,
  turnBank: TurnBank,
  method: RetrievalMethod,
  ks: readonly number[],
): Promise<{ recall: Map<number, number>; questions: number }> {
  const maxK = Math.max(...ks);
  const sums = new Map<number, number>(ks.map((k) => [k, 0]));
  let questions = 0;
  for (const qa of sample.qa.filter(nonAdversarial)) {
    const gold = new Set(qa.evidence);
    if (!gold.size) continue;
    questions++;
    const hits = await runMethod(turnBank.bank, method, qa.question, maxK);
    const ranked = hits.map((h) => turnBank.diaIdOf.get(h.memory.id));
    for (const k of ks) {
      const found = new Set(ranked.slice(0, k).filter((id): id is string => !!id && gold.has(id)));
      sums.set(k, sums.get(k)! + found.size / gold.size);
    }
  }
  return { recall: new Map(ks.map((k) => [k, questions ? sums.get(k)! / questions : 0])), questions };
}
