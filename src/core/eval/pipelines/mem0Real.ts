// The real Mem0: the mem0ai Python package (2.2.1, pinned) driven through bench/mem0_bridge.py. Same
// endpoint and model, the run's own embedder (served to Mem0 on loopback), the same turns with the
// session dates as Mem0's clock, and the same questions. Mem0 does its own extraction and memory update
// (2.2.1's add() is its V3 pipeline: one additive extraction call per event, hash de-duplication, no
// UPDATE or DELETE) and its own search; the answer uses the package's MEMORY_ANSWER_PROMPT over Mem0's
// search results. Mem0's SQLite history (history.db) stays in the bank folder, and each event's new rows are
// also written to decisions.jsonl and mem0-history.jsonl.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Mem0Bridge, type Mem0AddResult, type Mem0SearchHit, findMem0Install } from '../mem0Bridge';
import { answerFrom } from './common';
import { recordDecisions } from './decisions';
import { type EvalPipeline, countOp, emptyIngestStats } from './types';
import { readableDate } from '../../util/text';

export const mem0RealPipeline: EvalPipeline = {
  name: 'mem0',
  description: 'the real mem0ai 2.2.1 (Python, through a stdio bridge): its own extraction, update and search → answer with its MEMORY_ANSWER_PROMPT',
  async open(env) {
    if (!env.endpoint) throw new Error('the mem0 pipeline needs the endpoint (base URL) of the run');
    const install = findMem0Install();
    const folder = path.join(env.folder, 'mem0');
    fs.mkdirSync(folder, { recursive: true });
    const bridge = Mem0Bridge.start(install, folder);
    let answerPrompt: string;
    try {
      const embeddingURL = await bridge.serveEmbeddings(env.embedder);
      const opened = await bridge.request<{ version: string; answer_prompt: string }>('open', {
        folder,
        user_id: env.sample.sampleId,
        base_url: env.endpoint.baseURL,
        api_key: env.endpoint.apiKey ?? '',
        model: env.models.extractor.name,
        embedding_base_url: embeddingURL,
        embedding_model: env.embedder.id,
        embedding_dims: env.embedder.dimensions,
        max_tokens: 1024,
      });
      answerPrompt = opened.answer_prompt;
    } catch (err) {
      await bridge.close();
      throw err;
    }
    return {
      async ingest(event) {
        const stats = emptyIngestStats();
        const res = await bridge.request<Mem0AddResult>('add', {
          messages: event.lines.map((content) => ({ role: 'user', content })),
          time: event.eventTime ?? null,
          metadata: { event: event.index, dia_ids: event.diaIds.join(',') },
        });
        stats.facts = res.results.length;
        for (const r of res.results) countOp(stats, (r.event === 'NONE' ? 'NOOP' : r.event) as 'ADD');
        stats.extractMs = res.llm_calls.map((c) => c.ms);
        stats.usage = {
          promptTokens: res.llm_calls.reduce((s, c) => s + c.prompt_tokens, 0),
          completionTokens: res.llm_calls.reduce((s, c) => s + c.completion_tokens, 0),
        };
        recordDecisions(env.folder, {
          event: event.index,
          diaIds: event.diaIds,
          facts: res.results.map((r) => r.memory),
          ops: res.history.map((h) => ({
            type: h.event === 'NONE' ? 'NOOP' : h.event,
            text: h.new_memory ?? undefined,
            target: h.old_memory ?? undefined,
          })),
        });
        if (res.history.length > 0) {
          fs.appendFileSync(path.join(env.folder, 'mem0-history.jsonl'), res.history.map((h) => JSON.stringify({ ...h, event_index: event.index })).join('\n') + '\n');
        }
        return stats;
      },
      async answer(question) {
        const found = await bridge.request<{ results: Mem0SearchHit[]; ms: number }>('search', { query: question, top_k: env.topK });
        const lines = found.results.map((h) => `- ${h.created_at ? `(${readableDate(h.created_at)}) ` : ''}${h.memory}`);
        return answerFrom(
          env.models.answerer,
          [
            { role: 'system', content: answerPrompt },
            { role: 'user', content: `Memories:\n${lines.length ? lines.join('\n') : '(no memories)'}\n\nQuestion: ${question}` },
          ],
          found.ms,
          found.results.length,
        );
      },
      close: () => bridge.close(),
    };
  },
};
