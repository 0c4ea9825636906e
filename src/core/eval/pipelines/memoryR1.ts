// The project's own engine, unchanged: extraction → Memory Manager per fact → Answer Agent with distillation.
import { openEngine } from '../../config';
import { openEvalBank, eventSource } from './common';
import { type EvalPipeline, type IngestStats, countOp, emptyIngestStats, eventText, sumUsage } from './types';

/** Tokens the answer prompt's instructions, the question and the answer take of the window (~550 + ~60 + 512, rounded up). */
const ANSWER_RESERVE_TOKENS = 1200;
export const answerBudget = (contextTokens: number): number => Math.max(500, contextTokens - ANSWER_RESERVE_TOKENS);

export const memoryR1Pipeline: EvalPipeline = {
  name: 'memory-r1',
  description: 'this engine: extract → Memory Manager (ADD/UPDATE/DELETE/NOOP per fact) → Answer Agent with memory distillation',
  async open(env) {
    const bank = await openEvalBank(env);
    const { extractor, manager, answerer } = env.models;
    const engine = await openEngine(
      // No held batches (nobody approves them here) and no training trajectories.
      // The answer model's window less its prompt and its answer is what memories and their sources may fill.
      { bank: { folder: env.folder }, engine: { answerTopK: env.topK, answerContextTokens: answerBudget(env.contextTokens), recordTrajectories: false, minDestructiveOps: Number.MAX_SAFE_INTEGER } },
      { bank, models: { extractor, manager, answerer } },
    );
    return {
      async ingest(event) {
        const result = await engine.ingest({
          id: `${env.sample.sampleId}-${event.index}`,
          source: eventSource(env.sample.sampleId, event),
          text: eventText(event),
          time: event.eventTime ?? new Date().toISOString(),
          eventTime: event.eventTime,
        });
        const stats: IngestStats = emptyIngestStats();
        stats.facts = result.facts.length;
        for (const op of result.operations) countOp(stats, op.type);
        const ex = extractor.take();
        const mg = manager.take();
        stats.extractMs = ex.map((c) => c.ms);
        stats.managerMs = mg.map((c) => c.ms);
        stats.usage = sumUsage([...ex, ...mg]);
        return stats;
      },
      async answer(question) {
        const started = performance.now();
        let retrievedAt = started;
        const r = await engine.answer(question, {
          onRetrieved: () => {
            retrievedAt = performance.now();
          },
        });
        const calls = answerer.take();
        return {
          prediction: r.answer,
          raw: r.raw,
          searchMs: retrievedAt - started,
          answerMs: calls.reduce((s, c) => s + c.ms, 0),
          usage: sumUsage(calls),
          retrieved: r.retrieved.length,
        };
      },
      close: () => bank.close(),
    };
  },
};
