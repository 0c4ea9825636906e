// What the Answer Agent reads: the retrieved memories, current ones first and superseded ones marked, each
// with an excerpt of the event it came from, all within a token budget. A fact drops details a question
// may ask for (the kind of class, the dish, the exact words); its source keeps them, and its date lets
// "yesterday" be counted from the right day.
import type { Memory, SearchHit } from '../types';
import { type SourceEvent, describeSource } from '../provenance';
import { tokenize } from '../retrieval/tokenize';
import { readableDate } from '../util/text';

export interface AnswerMemoryView {
  /** The id the model cites ("1", "2", ...). */
  key: string;
  text: string;
  date?: string;
  note?: string;
  /** An excerpt of the memory's source event, or the key of the memory whose excerpt is the same event. */
  source?: { label: string; excerpt: string } | { sameAs: string };
}

export interface AnswerContextOptions {
  /** Tokens for memories and excerpts together (the answer model's window less the prompt and the answer). */
  budgetTokens: number;
  /** Characters of one source excerpt at most. */
  maxExcerptChars: number;
  /** Source events shown at most (those of the best-ranked memories; the rest are listed as facts). */
  maxExcerpts: number;
  sourceOf(memory: Memory): SourceEvent | undefined;
  /** A note about a memory (the caller's: freshness flags), already redacted. */
  noteOf?(memory: Memory): string | undefined;
  redact(text: string): string;
}

/** ~3.5 characters a token for English and code, on the safe side for a budget. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 3.5);

/**
 * The view in the order the model reads it and the hits in the same order (citation keys index into it).
 * Memories that do not fit the budget are left out; an excerpt that does not fit is left out first.
 */
export function buildAnswerContext(question: string, hits: SearchHit[], opts: AnswerContextOptions): { view: AnswerMemoryView[]; hits: SearchHit[] } {
  // Current memories first (by rank), then superseded ones: the model meets what is true now first.
  const ordered = [...hits.filter((h) => h.memory.status !== 'superseded'), ...hits.filter((h) => h.memory.status === 'superseded')];
  const excerptOf = new Map<string, string>();
  const asked = new Set(tokenize(question));
  let used = 0;
  const view: AnswerMemoryView[] = [];
  const kept: SearchHit[] = [];
  // First the memories themselves, as many as the budget holds...
  for (const h of ordered) {
    const m = h.memory;
    const item: AnswerMemoryView = { key: String(kept.length + 1), text: opts.redact(m.text), date: readableDate(m.eventTime ?? m.createdAt) };
    const cost = estimateTokens(item.text) + 16;
    if (used + cost > opts.budgetTokens) break;
    used += cost;
    view.push(item);
    kept.push(h);
  }
  // ...with which one replaced which, by the ids the model sees: "superseded on 16 March 2026 by [1]".
  const keyOf = new Map(kept.map((h, i) => [h.memory.id, String(i + 1)]));
  for (const [i, item] of view.entries()) {
    const m = kept[i]!.memory;
    const status =
      m.status === 'superseded'
        ? `superseded${m.validTo ? ` on ${readableDate(m.validTo)}` : ''}${m.supersededBy && keyOf.has(m.supersededBy) ? ` by [${keyOf.get(m.supersededBy)}]` : ''}`
        : m.supersedes && keyOf.has(m.supersedes)
          ? `current, replaces [${keyOf.get(m.supersedes)}]`
          : undefined;
    const note = [status, opts.noteOf?.(m)].filter(Boolean).join('; ');
    if (note) item.note = note;
  }
  // ...then the sources of the best-placed ones with what is left: an excerpt never pushes a memory out.
  // An event that wrote a memory since superseded states what is no longer true ("we store invoices in
  // PostgreSQL 15"): a small model answers from it over the memory that replaced it, so such events are not
  // shown, for the superseded memory or for current ones from the same event.
  const staleEvents = new Set(kept.filter((h) => h.memory.status === 'superseded').map((h) => opts.sourceOf(h.memory)?.event));
  for (const [i, item] of view.entries()) {
    const m = kept[i]!.memory;
    const src = opts.sourceOf(m);
    if (!src || staleEvents.has(src.event)) continue;
    const seen = excerptOf.get(src.event);
    if (seen) {
      item.source = { sameAs: seen };
      used += 8;
      continue;
    }
    if (excerptOf.size >= opts.maxExcerpts) continue;
    const excerpt = opts.redact(excerptFor(src.text, asked, m.text, opts.maxExcerptChars));
    const label = describeSource(src, { readableDate: true });
    const extra = estimateTokens(excerpt + label) + 6;
    if (used + extra > opts.budgetTokens) continue;
    used += extra;
    item.source = { label, excerpt };
    excerptOf.set(src.event, item.key);
  }
  return { view, hits: kept };
}

/**
 * The event text, or when longer than `max`, its lines that share the most words with the question and the
 * memory, in their original order (a dialogue slice's turns, a commit body's paragraphs).
 */
export function excerptFor(text: string, asked: Set<string>, memoryText: string, max: number): string {
  const clean = text.trim();
  if (clean.length <= max) return clean;
  const wanted = new Set([...asked, ...tokenize(memoryText)]);
  const lines = clean.split(/\n+/).map((l, i) => ({ l: l.trim(), i })).filter((x) => x.l);
  const scored = lines.map((x) => ({ ...x, score: tokenize(x.l).filter((w) => wanted.has(w)).length }));
  const pick: typeof scored = [];
  let size = 0;
  for (const x of [...scored].sort((a, b) => b.score - a.score || a.i - b.i)) {
    if (size + x.l.length + 1 > max) continue;
    pick.push(x);
    size += x.l.length + 1;
  }
  if (!pick.length) return clean.slice(0, max - 1) + '…';
  return pick
    .sort((a, b) => a.i - b.i)
    .map((x) => x.l)
    .join('\n');
}
