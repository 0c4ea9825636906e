import type { ChatModel } from '../llm/chatModel';
import type { TokenUsage } from '../types';
import { EXTRACTION_SCHEMA, EXTRACTION_SYSTEM, KIND_SCHEMA, extractionMessages, kindMessages } from './prompts';
import { parseKind } from '../kinds';
import { extractJson } from '../util/jsonExtract';
import { factsProblem, parseFactItems } from './managerOutput';
import type { MemoryKind } from '../kinds';
import { mentionsReference, referencesIn } from '../util/text';
import { resolveRelativeDates } from '../util/relativeDates';

/**
 * One extraction call: the event's text in, its facts out. Shared by the engine and the evaluation
 * baselines so every pipeline extracts the same way.
 */
export async function extractFactsFromText(
  model: ChatModel,
  text: string,
  opts: { eventTime?: string; maxTokens?: number; signal?: AbortSignal } = {},
): Promise<{ facts: string[]; kinds: (MemoryKind | undefined)[]; usage: TokenUsage; raw: string; problem?: string }> {
  const res = await model.complete({
    messages: extractionMessages(text, opts.eventTime),
    json: { schema: EXTRACTION_SCHEMA, name: 'facts' },
    temperature: 0,
    maxTokens: opts.maxTokens,
    signal: opts.signal,
  });
  const items = parseFactItems(res.text)
    .filter((f) => !copiedFromPrompt(f.text, text))
    .map((f) => ({ ...f, text: groundReferences(f.text, text) }))
    .filter((f): f is { text: string; kind?: MemoryKind } => !!f.text)
    // "yesterday" in a fact means nothing a month later: dates counted from the event's time.
    .map((f) => ({ ...f, text: resolveRelativeDates(f.text, opts.eventTime) }));
  const problem = factsProblem(res.text);
  return { facts: items.map((f) => f.text), kinds: items.map((f) => f.kind), usage: res.usage, raw: res.text, ...(problem ? { problem } : {}) };
}

const words = (text: string): Set<string> => new Set(text.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []);
const PROMPT_WORDS = words(EXTRACTION_SYSTEM);

/**
 * Small models copy the prompt's worked examples, verbatim or reworded; such facts were never in
 * the event. A fact counts as copied when it is in the prompt and not in the event, or when nearly
 * all its words come from the prompt and most of them are missing from the event.
 */
export function copiedFromPrompt(fact: string, eventText: string): boolean {
  if (EXTRACTION_SYSTEM.includes(fact)) return !eventText.includes(fact);
  const factWords = [...words(fact)];
  if (factWords.length < 3) return false;
  const event = words(eventText);
  const fromPrompt = factWords.filter((w) => PROMPT_WORDS.has(w)).length / factWords.length;
  const fromEvent = factWords.filter((w) => event.has(w)).length / factWords.length;
  return fromPrompt >= 0.8 && fromEvent < 0.5;
}

/**
 * Nothing that is not in the event: a reference the event does not name (an issue number, a hash, a version,
 * a path, a handle a small model made up) is cut with the parenthetical that carries it; a fact whose own
 * sentence rests on one is dropped.
 */
export function groundReferences(fact: string, eventText: string): string | undefined {
  const source = eventText.toLowerCase();
  const invented = (s: string) => referencesIn(s).some((r) => !mentionsReference(source, r));
  if (!invented(fact)) return fact;
  const cut = fact
    .replace(/\s*[([][^()[\]]*[)\]]/g, (group) => (invented(group) ? '' : group))
    .replace(/\s+([.,;])/g, '$1')
    .trim();
  return invented(cut) || !/[\p{L}]{3}/u.test(cut) ? undefined : cut;
}

/**
 * The kind of one fact given on its own (`/remember`, an agent's tool call without a kind). Never throws for
 * the model's sake: an error or an answer that cannot be read leaves the fact unlabelled. Cancellation stops it.
 */
export async function classifyKind(model: ChatModel, fact: string, signal?: AbortSignal): Promise<MemoryKind | undefined> {
  try {
    const res = await model.complete({ messages: kindMessages(fact), json: { schema: KIND_SCHEMA, name: 'kind' }, temperature: 0, maxTokens: 20, signal });
    const out = extractJson(res.text) as { kind?: unknown } | undefined;
    return parseKind(out?.kind);
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}
