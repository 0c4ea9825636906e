// Mem0 (v2 algorithm) as published: extract facts, retrieve the memories similar to each fact by vector
// search, one manager call for all facts of the event (ADD/UPDATE/DELETE/NONE), and answer straight from
// the retrieved memories, without the Answer Agent's distillation step.
import { MANAGER_SCHEMA, MANAGER_SYSTEM } from '../../agents/prompts';
import { parseManagerOutput } from '../../agents/managerOutput';
import type { CandidateView } from '../../types';
import { answerFrom, eventSource, extractFacts, openEvalBank } from './common';
import { type DecisionOp, recordDecisions } from './decisions';
import { batchManagerUserPrompt, mem0StyleAnswerMessages } from './prompts';
import { type EvalPipeline, countOp, emptyIngestStats, sumUsage } from './types';
import { readableDate } from '../../util/text';

/** Memories retrieved per new fact for the manager (Mem0 retrieves 5). */
const CANDIDATES_PER_FACT = 5;

export const mem0V2Pipeline: EvalPipeline = {
  name: 'mem0-v2',
  description: 'Mem0 v2 style: extract → one manager call per event over vector-retrieved memories → answer from the top-k memories (no distillation)',
  async open(env) {
    const bank = await openEvalBank(env);
    const { extractor, manager, answerer } = env.models;
    return {
      async ingest(event) {
        const stats = emptyIngestStats();
        const { facts: extracted } = await extractFacts(extractor, event);
        stats.facts = extracted.length;
        const facts: string[] = [];
        const logged: DecisionOp[] = [];
        for (const f of extracted) {
          if (bank.findDuplicate(f) || facts.includes(f)) {
            countOp(stats, 'NOOP');
            logged.push({ type: 'SKIP', text: f });
          } else facts.push(f);
        }
        if (facts.length > 0) {
          const candidates: CandidateView[] = [];
          const seen = new Set<string>();
          for (const f of facts) {
            for (const h of await bank.searchDense(f, CANDIDATES_PER_FACT)) {
              if (seen.has(h.memory.id)) continue;
              seen.add(h.memory.id);
              candidates.push({ key: String(candidates.length), memoryId: h.memory.id, text: h.memory.text });
            }
          }
          const res = await manager.complete({
            messages: [
              { role: 'system', content: MANAGER_SYSTEM },
              { role: 'user', content: batchManagerUserPrompt(facts, candidates) },
            ],
            json: { schema: MANAGER_SCHEMA, name: 'memory_operations' },
            temperature: 0,
          });
          const decision = parseManagerOutput(res.text, candidates);
          const textOf = new Map(candidates.map((c) => [c.memoryId, c.text]));
          for (const o of decision.ops) logged.push({ type: o.type, text: o.text, target: o.memoryId ? textOf.get(o.memoryId) : undefined });
          for (const r of decision.rejected) logged.push({ type: 'REJECTED', text: JSON.stringify(r.item).slice(0, 300) });
          countOp(stats, 'NOOP', decision.rejected.length);
          const changes = decision.ops.filter((o) => o.type !== 'NOOP');
          countOp(stats, 'NOOP', decision.ops.length - changes.length);
          if (changes.length > 0) {
            const records = await bank.applyBatch(changes, {
              fact: facts.join('\n'),
              candidates,
              model: res.model,
              source: eventSource(env.sample.sampleId, event),
              eventTime: event.eventTime,
            });
            for (const r of records) countOp(stats, r.action as 'ADD');
          }
        }
        recordDecisions(env.folder, { event: event.index, diaIds: event.diaIds, facts: extracted, ops: logged });
        const ex = extractor.take();
        const mg = manager.take();
        stats.extractMs = ex.map((c) => c.ms);
        stats.managerMs = mg.map((c) => c.ms);
        stats.usage = sumUsage([...ex, ...mg]);
        return stats;
      },
      async answer(question) {
        const started = performance.now();
        const hits = await bank.searchDense(question, env.topK);
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
