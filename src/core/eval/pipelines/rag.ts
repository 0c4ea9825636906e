// Naive RAG over the raw dialogue: every turn is indexed as is, with its session date; the answer
// model sees the top-k turns by embedding similarity. No extraction, no manager.
import { answerFrom, eventSource, openEvalBank } from './common';
import { ragAnswerMessages } from './prompts';
import { type EvalPipeline, countOp, emptyIngestStats } from './types';
import { readableDate } from '../../util/text';

export const ragPipeline: EvalPipeline = {
  name: 'rag',
  description: 'naive RAG: each raw turn indexed with its date → top-k turns by embedding similarity → answer',
  async open(env) {
    const bank = await openEvalBank(env);
    const { answerer } = env.models;
    return {
      async ingest(event) {
        const stats = emptyIngestStats();
        const turns = event.lines.filter((l) => l.trim().length > 0);
        if (turns.length > 0) {
          await bank.applyBatch(
            turns.map((text) => ({ type: 'ADD' as const, text })),
            { model: 'rag', source: eventSource(env.sample.sampleId, event), eventTime: event.eventTime },
          );
          countOp(stats, 'ADD', turns.length);
        }
        return stats;
      },
      async answer(question) {
        const started = performance.now();
        const hits = await bank.searchDense(question, env.topK);
        const searchMs = performance.now() - started;
        return answerFrom(
          answerer,
          ragAnswerMessages(
            question,
            hits.map((h) => ({ text: h.memory.text, date: h.memory.eventTime && readableDate(h.memory.eventTime) })),
          ),
          searchMs,
          hits.length,
        );
      },
      close: () => bank.close(),
    };
  },
};
