// ADD-only memory (Mem0's newer algorithm): every extracted fact is added, nothing is updated or
// deleted; answers come from hybrid retrieval (dense + BM25) over all of them.
import { answerFrom, eventSource, extractFacts, openEvalBank } from './common';
import { mem0StyleAnswerMessages } from './prompts';
import { recordDecisions } from './decisions';
import { type EvalPipeline, countOp, emptyIngestStats, sumUsage } from './types';
import { readableDate } from '../../util/text';

export const addOnlyPipeline: EvalPipeline = {
  name: 'add-only',
  description: 'ADD-only (Mem0 v3 style): extract → add every new fact → hybrid dense + BM25 retrieval → answer from the top-k',
  async open(env) {
    const bank = await openEvalBank(env);
    const { extractor, answerer } = env.models;
    return {
      async ingest(event) {
        const stats = emptyIngestStats();
        const { facts } = await extractFacts(extractor, event);
        stats.facts = facts.length;
        const fresh = [...new Set(facts)].filter((f) => !bank.findDuplicate(f));
        countOp(stats, 'NOOP', facts.length - fresh.length);
        if (fresh.length > 0) {
          await bank.applyBatch(
            fresh.map((text) => ({ type: 'ADD' as const, text })),
            { fact: fresh.join('\n'), model: 'add-only', source: eventSource(env.sample.sampleId, event), eventTime: event.eventTime },
          );
          countOp(stats, 'ADD', fresh.length);
        }
        recordDecisions(env.folder, {
          event: event.index,
          diaIds: event.diaIds,
          facts,
          ops: [...fresh.map((text) => ({ type: 'ADD', text })), ...facts.filter((f) => !fresh.includes(f)).map((text) => ({ type: 'SKIP', text }))],
        });
        const ex = extractor.take();
        stats.extractMs = ex.map((c) => c.ms);
        stats.usage = sumUsage(ex);
        return stats;
      },
      async answer(question) {
        const started = performance.now();
        const hits = await bank.search(question, { topK: env.topK });
        const searchMs = performance.now() - started;
        return answerFrom(
          answerer,
          mem0StyleAnswerMessages(
            question,
            hits.map((h) => ({ text: h.memory.text, date: readableDate(h.memory.eventTime ?? h.memory.updatedAt) })),
          ),
          searchMs,
          hits.length,
        );
      },
      close: () => bank.close(),
    };
  },
};
