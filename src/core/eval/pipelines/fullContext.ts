// The whole conversation (as far as the run feeds it) in the prompt: the upper bound that memory
// systems try to reach at a fraction of the tokens. Skipped when it does not fit the context window.
import { extractAnswer } from '../scoring';
import { estimateTokens, fullContextMessages } from './prompts';
import { type DialogueEvent, type EvalPipeline, emptyIngestStats, sumUsage } from './types';

/** Tokens kept free for the instructions, the question and the answer. */
const RESERVED_TOKENS = 512;

export function transcriptOf(events: DialogueEvent[]): string {
  const parts: string[] = [];
  let session = -1;
  for (const e of events) {
    if (e.sessionIndex !== session) {
      session = e.sessionIndex;
      parts.push(`${parts.length ? '\n' : ''}=== Session ${session}${e.sessionDate ? ` (${e.sessionDate})` : ''} ===`);
    }
    parts.push(...e.lines);
  }
  return parts.join('\n');
}

export const fullContextPipeline: EvalPipeline = {
  name: 'full-context',
  description: 'full context: the whole conversation with its session dates in the prompt (skipped where it does not fit)',
  async open(env) {
    const transcript = transcriptOf(env.events);
    const needed = estimateTokens(fullContextMessages(transcript, '').map((m) => m.content).join('\n')) + RESERVED_TOKENS;
    const skipped =
      needed > env.contextTokens
        ? `conversation needs about ${needed} tokens, more than the ${env.contextTokens}-token context (--context-tokens)`
        : undefined;
    const { answerer } = env.models;
    return {
      skipped,
      async ingest() {
        return emptyIngestStats();
      },
      async answer(question) {
        const res = await answerer.complete({ messages: fullContextMessages(transcript, question), temperature: 0 });
        const calls = answerer.take();
        return {
          prediction: extractAnswer(res.text),
          raw: res.text,
          searchMs: 0,
          answerMs: calls.reduce((s, c) => s + c.ms, 0),
          usage: sumUsage(calls),
          retrieved: env.events.reduce((n, e) => n + e.lines.length, 0),
        };
      },
      async close() {},
    };
  },
};
