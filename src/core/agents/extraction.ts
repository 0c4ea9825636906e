import type { ChatModel } from '../llm/chatModel';
import type { TokenUsage } from '../types';
import { EXTRACTION_SCHEMA, EXTRACTION_SYSTEM, extractionMessages } from './prompts';
import { parseFacts } from './managerOutput';

/**
 * One extraction call: the event's text in, its facts out. Shared by the engine and the evaluation
 * baselines so every pipeline extracts the same way.
 */
export async function extractFactsFromText(
  model: ChatModel,
  text: string,
  opts: { eventTime?: string; maxTokens?: number; signal?: AbortSignal } = {},
): Promise<{ facts: string[]; usage: TokenUsage; raw: string }> {
  const res = await model.complete({
    messages: extractionMessages(text, opts.eventTime),
    json: { schema: EXTRACTION_SCHEMA, name: 'facts' },
    temperature: 0,
    maxTokens: opts.maxTokens,
    signal: opts.signal,
  });
  // Small models copy the prompt's worked examples; such facts were never in the event.
  const facts = parseFacts(res.text).filter((f) => !EXTRACTION_SYSTEM.includes(f) || text.includes(f));
  return { facts, usage: res.usage, raw: res.text };
}
