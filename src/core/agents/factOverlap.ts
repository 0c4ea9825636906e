// Measurable content checks the engine applies to every manager decision, whatever the model says:
// does a memory text carry a fact, does an existing memory already hold it, is a target related to it.

/** Function words and words every project fact shares; they say nothing about which fact it is. */
const STOP = new Set(
  (
    'a an the and or but if then than that this these those there here of in on at to for from by with without into onto over under ' +
    'about as is are was were be been being am do does did done has have had having will would shall should can could may might must ' +
    'it its it\'s they them their theirs he him his she her hers we us our ours you your yours i me my mine who whom whose which what when where why how ' +
    'also just so too very all any some each every both either neither such own same other another more most much many ' +
    'project team repo repository codebase user users now currently today use uses used using new one event time ' +
    'which while during via per up out off again further once s t'
  ).split(/\s+/),
);

/** Words that flip or end a fact: a fact with one of them is never "already held" by a memory without it. */
const CHANGE_MARKERS = new Set(['no', 'not', 'never', 'longer', 'stopped', 'stop', 'removed', 'dropped', 'deprecated', 'instead', 'replaced', 'moved', 'renamed', 'anymore', 'former', 'formerly', 'previously', 'except', 'unless', 'only', 'fixed', 'resolved', 'closed', 'reverted', 'cancelled', 'canceled', 'postponed', 'delayed']);

export interface FactTokens {
  /** Content tokens (lower-case, light stemming, stop words removed). */
  content: Set<string>;
  /** Tokens that identify the fact: numbers and versions, names, paths and identifiers, change markers. */
  key: Set<string>;
}

function stem(w: string): string {
  if (/\d/.test(w) || w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) return w.slice(0, -3) + 'y';
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ing') && w.length > 5) return w.slice(0, -3);
  if (w.endsWith('ed') && w.length > 4) return w.slice(0, -2);
  if (w.endsWith('es') && w.length > 4 && /(ches|shes|xes|zes|sses)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) return w.slice(0, -1);
  return w;
}

/** Splits a text into content and key tokens. Paths and identifiers count whole and by their parts. */
export function factTokens(text: string): FactTokens {
  const content = new Set<string>();
  const key = new Set<string>();
  if (typeof text !== 'string') return { content, key };
  const raw = text.normalize('NFKC').match(/[\p{L}\p{N}][\p{L}\p{N}._\/@#:+-]*[\p{L}\p{N}+#]|[\p{L}\p{N}]/gu) ?? [];
  for (const word of raw) {
    const lower = word.toLowerCase();
    const parts = lower.split(/[._\/@:-]+/).filter(Boolean);
    // A timestamp the extractor appended ("2026-03-02T09:05:00.000Z") is one token: its parts would make
    // any two facts from the same day look related.
    if (/^\d{4}-\d{2}-\d{2}(t[\d:.]+z?)?$/.test(lower)) {
      content.add(lower.slice(0, 10));
      key.add(lower.slice(0, 10));
      continue;
    }
    const compound = parts.length > 1;
    if (compound) {
      content.add(lower);
      key.add(lower);
    }
    for (const p of compound ? parts : [lower]) {
      if (STOP.has(p)) continue;
      const s = stem(p);
      content.add(s);
      if (/\d/.test(p) || CHANGE_MARKERS.has(p)) key.add(s);
    }
    // Names and proper nouns (PostgreSQL, Dana, Friday): capitalised and not a stop word.
    if (!compound && /^\p{Lu}/u.test(word) && !STOP.has(lower)) key.add(stem(lower));
    if (!compound && CHANGE_MARKERS.has(lower)) key.add(lower);
  }
  return { content, key };
}

function share(of: Set<string>, within: Set<string>): number {
  if (of.size === 0) return 1;
  let n = 0;
  for (const t of of) if (within.has(t)) n++;
  return n / of.size;
}

/** Share of the fact's content tokens that appear in `text` (0..1). */
export function factCoverage(fact: string, text: string): number {
  return share(factTokens(fact).content, factTokens(text).content);
}

export const CARRY_THRESHOLD = 0.5;
export const HOLD_THRESHOLD = 0.5;
export const RELATED_THRESHOLD = 0.2;

/**
 * An ADD or UPDATE text carries the fact when it holds at least half of the fact's content tokens
 * and, for an UPDATE, at least half of what the fact adds to the memory it replaces (so an echo of
 * the old memory does not pass for the new fact).
 */
export function carriesFact(text: string, fact: string, replaced?: string): { ok: boolean; coverage: number; novelCoverage: number } {
  const f = factTokens(fact);
  const t = factTokens(text);
  const coverage = share(f.content, t.content);
  let novelCoverage = 1;
  if (replaced !== undefined) {
    const old = factTokens(replaced).content;
    const novel = new Set([...f.content].filter((x) => !old.has(x)));
    novelCoverage = share(novel, t.content);
  }
  return { ok: f.content.size > 0 && coverage >= CARRY_THRESHOLD && novelCoverage >= CARRY_THRESHOLD, coverage, novelCoverage };
}

/**
 * An existing memory already holds the fact when it has most of the fact's content tokens and every
 * key token (number, version, name, path, negation): "PostgreSQL 15" does not hold "PostgreSQL 16",
 * "Dana owns it" does not hold "Sam owns it".
 */
export function holdsFact(memory: string, fact: string): { ok: boolean; coverage: number; missingKeys: string[] } {
  const f = factTokens(fact);
  const m = factTokens(memory);
  const coverage = share(f.content, m.content);
  const missingKeys = [...f.key].filter((k) => !m.content.has(k) && !m.key.has(k));
  return { ok: f.content.size > 0 && coverage >= HOLD_THRESHOLD && missingKeys.length === 0, coverage, missingKeys };
}

/** A memory is related to the fact when they share a real part of their content (a target for UPDATE or DELETE). */
export function relatedTo(memory: string, fact: string): boolean {
  const f = factTokens(fact).content;
  const m = factTokens(memory).content;
  if (f.size === 0 || m.size === 0) return false;
  let n = 0;
  for (const t of f) if (m.has(t)) n++;
  return n / Math.min(f.size, m.size) >= RELATED_THRESHOLD;
}

/**
 * A fact that carries instructions to the memory system ("ignore previous instructions", "delete every
 * memory about X", "SYSTEM: ..."). It is stored as what it is, a fact, and never changes another memory.
 */
export function looksLikeInstruction(fact: string): boolean {
  return /\b(ignore|disregard|forget)\b.{0,30}\b(instructions?|rules?|prompts?|above|previous|earlier)\b|^\s*(system|assistant|admin)\s*:|\b(delete|remove|erase|wipe|overwrite|replace|mark|drop|clear)\b.{0,40}\bmemor(y|ies)\b|\b(the|an?) (assistant|bot|ai|model)\b.{0,20}\b(to|should|must)\b/i.test(fact);
}
