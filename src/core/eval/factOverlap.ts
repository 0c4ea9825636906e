// Word-overlap measures of whether a memory text carries a fact, holds it, or is related to it. Used only to
// score benchmarks (the templated decision fixture, the mem0 failure cases) and the decision reward; the
// engine's Memory Manager does not use them (they vetoed right decisions on real project histories).

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

/** What a token is as a value: a number or version, a path or identifier, or a word (names included). */
function valueKind(t: string): 'num' | 'path' | 'word' {
  if (/^[\d.:,%]+$/.test(t)) return 'num';
  if (/^\p{L}+(-\p{L}+)+$/u.test(t)) return 'word'; // "idempotency-key", "on-call"
  if (/[\/._@:+#-]/.test(t) || /\d/.test(t)) return 'path';
  return 'word';
}

/** Words that say a value changed; a fact with one may replace a memory it shares a value with. */
const CHANGE_RE = /\b(no longer|not|never|stopped|removed|dropped|deprecated|instead|replaced|replaces|moved|migrated|switched|renamed|anymore|formerly|previously|except|unless|fixed|resolved|reverted|cancelled|canceled|postponed|delayed|upgraded|downgraded|took over|taking over|leaving|left|now|changed)\b/i;
/** The narrower set for a fact that names the old value itself ("moved from PostgreSQL 15 to 16"). */
const MOVE_RE = /\b(no longer|instead|replaced|moved|migrated|switched|upgraded|downgraded|renamed|from\b.{1,60}\bto)\b/i;

export interface SupersedeCheck {
  ok: boolean;
  /** Share of the memory's words (its subject and attribute, values left out) that the fact repeats. */
  subjectCoverage: number;
  why: string;
}

export const SUBJECT_THRESHOLD = 0.5;

/**
 * May this fact supersede this memory? Only when it speaks about the same thing and says something
 * different about it:
 * - the fact repeats at least half of the memory's words (values such as versions, dates and paths left
 *   out), and where the memory has a value the fact drops, the fact gives a new value of the same kind
 *   or says it changed ("now", "moved", "fixed", "except"); or
 * - the fact names one of the memory's values and says it moved ("from PostgreSQL 15 to 16"), however
 *   much else the memory holds.
 * "Ivan adopted a dog" does not supersede "Ivan works as a nurse"; a paraphrase is held, not a supersede.
 */
export function mayReplace(memory: string, fact: string): SupersedeCheck {
  const m = factTokens(memory);
  const f = factTokens(fact);
  const inFact = (t: string) => f.content.has(t) || f.key.has(t);
  const inMemory = (t: string) => m.content.has(t) || m.key.has(t);
  // Parts of a path or version ("src", "ts", the "1" of "1.70") are not words or values of their own.
  const partsOf = (t: FactTokens) => new Set([...t.content].filter((x) => /[\/._@:-]/.test(x)).flatMap((x) => x.split(/[\/._@:-]+/)));
  const mParts = partsOf(m);
  const fParts = partsOf(f);
  const words = [...m.content].filter((t) => valueKind(t) === 'word' && !mParts.has(t));
  const subjectCoverage = words.length ? words.filter(inFact).length / words.length : 1;
  const values = [...new Set([...m.content, ...m.key])].filter((t) => valueKind(t) !== 'word' && !mParts.has(t));
  const dropped = values.filter((t) => !inFact(t));
  const fresh = [...new Set([...f.content, ...f.key])].filter((t) => valueKind(t) !== 'word' && !fParts.has(t) && !inMemory(t));
  const changed = CHANGE_RE.test(fact);
  if (values.some((t) => inFact(t) && !fParts.has(t)) && MOVE_RE.test(fact)) return { ok: true, subjectCoverage, why: 'the fact names a value of the memory and says it changed' };
  if (subjectCoverage < SUBJECT_THRESHOLD) {
    return { ok: false, subjectCoverage, why: `the fact repeats ${Math.round(subjectCoverage * 100)}% of the memory's words: it is about something else` };
  }
  // A name the memory has and the fact drops (the owner "Sam") needs a new name in its place, too.
  const droppedNames = [...m.key].filter((t) => valueKind(t) === 'word' && !inFact(t));
  const freshNames = [...f.key].filter((t) => valueKind(t) === 'word' && !inMemory(t));
  if (droppedNames.length && !changed && !freshNames.length) {
    return { ok: false, subjectCoverage, why: `the fact gives no new name for ${droppedNames.slice(0, 3).join(', ')}` };
  }
  if (dropped.length && !changed && !fresh.some((t) => dropped.some((d) => valueKind(d) === valueKind(t)))) {
    return { ok: false, subjectCoverage, why: `the fact gives no new value for ${dropped.slice(0, 3).join(', ')}` };
  }
  return { ok: true, subjectCoverage, why: 'same subject, different value' };
}
