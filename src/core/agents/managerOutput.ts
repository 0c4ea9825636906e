import type { CandidateView, PlannedOperation } from '../types';
import { extractJson } from '../util/jsonExtract';
import { normalizeForHash } from '../util/text';
import { parseKind, type MemoryKind } from '../kinds';

export interface ManagerDecision {
  /** Validated operations, safe to apply: every id is one of the candidates. */
  ops: PlannedOperation[];
  /** Items refused, with the reason (logged in the result, never applied). */
  rejected: { item: unknown; reason: string }[];
  /** True when the whole output was unusable (nothing parsed). */
  unparseable: boolean;
}

const EVENTS: Record<string, PlannedOperation['type']> = {
  ADD: 'ADD',
  UPDATE: 'UPDATE',
  DELETE: 'DELETE',
  NONE: 'NOOP',
  NOOP: 'NOOP',
  'NO CHANGE': 'NOOP',
};

/**
 * Turns the manager model's raw output into operations. Ids are the small integer keys shown to the
 * model; anything that does not map to a candidate, a second operation on the same memory, wrong
 * types or empty texts are rejected item by item. Never throws.
 */
export function parseManagerOutput(raw: string, candidates: CandidateView[], maxTextChars = 2000): ManagerDecision {
  const rejected: ManagerDecision['rejected'] = [];
  const json = extractJson(raw);
  const items = Array.isArray(json)
    ? json
    : json && typeof json === 'object'
      ? ((json as Record<string, unknown>).memory ?? (json as Record<string, unknown>).operations ?? (json as Record<string, unknown>).memories)
      : undefined;
  if (!Array.isArray(items)) return { ops: [], rejected: [{ item: truncate(raw), reason: 'no JSON list of operations' }], unparseable: true };
  const byKey = new Map(candidates.map((c) => [c.key, c]));
  const touched = new Set<string>();
  const addedTexts = new Set<string>();
  const ops: PlannedOperation[] = [];
  for (const item of items.slice(0, 200)) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      rejected.push({ item: truncate(item), reason: 'not an object' });
      continue;
    }
    const it = item as Record<string, unknown>;
    const type = typeof it.event === 'string' ? EVENTS[it.event.trim().toUpperCase()] : undefined;
    if (!type) {
      rejected.push({ item: truncate(it), reason: `unknown event ${JSON.stringify(truncate(it.event))}` });
      continue;
    }
    const rawText = typeof it.text === 'string' ? it.text.trim() : undefined;
    // A template placeholder copied from the prompt ("<memory text>") is no text at all.
    const text = rawText && /^<[^<>]*>$/.test(rawText) ? '' : rawText;
    const reason = typeof it.reason === 'string' ? it.reason.slice(0, 500) : undefined;
    const key = typeof it.id === 'string' || typeof it.id === 'number' ? String(it.id).trim() : undefined;
    if (type === 'ADD') {
      if (!text) {
        rejected.push({ item: truncate(it), reason: 'ADD without text' });
        continue;
      }
      if (text.length > maxTextChars) {
        rejected.push({ item: truncate(it), reason: `text longer than ${maxTextChars} characters` });
        continue;
      }
      const norm = normalizeForHash(text);
      // Models often echo an existing memory as ADD: that is no change.
      const echo = candidates.find((c) => normalizeForHash(c.text) === norm);
      if (echo || addedTexts.has(norm)) {
        if (echo && !touched.has(echo.memoryId)) {
          touched.add(echo.memoryId);
          ops.push({ type: 'NOOP', memoryId: echo.memoryId, reason: 'already in memory' });
        }
        continue;
      }
      addedTexts.add(norm);
      ops.push({ type: 'ADD', text, reason });
      continue;
    }
    const cand = key !== undefined ? byKey.get(key) : undefined;
    if (!cand) {
      rejected.push({ item: truncate(it), reason: `id ${JSON.stringify(truncate(it.id))} is not one of the candidate memories` });
      continue;
    }
    if (touched.has(cand.memoryId)) {
      rejected.push({ item: truncate(it), reason: `second operation on memory ${key}` });
      continue;
    }
    if (type === 'UPDATE') {
      if (!text) {
        rejected.push({ item: truncate(it), reason: 'UPDATE without text' });
        continue;
      }
      if (text.length > maxTextChars) {
        rejected.push({ item: truncate(it), reason: `text longer than ${maxTextChars} characters` });
        continue;
      }
      touched.add(cand.memoryId);
      if (normalizeForHash(text) === normalizeForHash(cand.text)) ops.push({ type: 'NOOP', memoryId: cand.memoryId, reason: reason ?? 'same as before' });
      else ops.push({ type: 'UPDATE', memoryId: cand.memoryId, text, reason });
      continue;
    }
    touched.add(cand.memoryId);
    ops.push({ type, memoryId: cand.memoryId, reason });
  }
  return { ops, rejected, unparseable: false };
}

/** Facts from the extractor's output; tolerant of shapes small models produce. Never throws. */
/** Why an extractor reply cannot be read as facts (not JSON, no "facts" list), or undefined when it can. */
export function factsProblem(raw: string): string | undefined {
  const json = extractJson(raw);
  if (json === undefined) return completeFactsBeforeCut(raw) ? undefined : raw.trim() ? 'the reply is not JSON' : 'the reply is empty';
  const list = Array.isArray(json) ? json : json && typeof json === 'object' ? (json as Record<string, unknown>).facts : undefined;
  return Array.isArray(list) || (!hasFactsKey(json) && completeFactsBeforeCut(raw)) ? undefined : 'the reply has no "facts" list';
}

export function parseFacts(raw: string, maxFacts = 20, maxChars = 2000): string[] {
  return parseFactItems(raw, maxFacts, maxChars).map((f) => f.text);
}

/**
 * A small model stuck in a loop repeats a clause within one fact ("…, the cake is in the kitchen, the cake is in
 * the kitchen, …"), and each cut-off variant becomes another fact. The fact is kept up to the first repeat, so
 * the variants become one fact.
 */
export function withoutLoop(fact: string): string {
  const parts = fact.split(/(?<=[,;])\s+/);
  if (parts.length < 3) return fact;
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const p of parts) {
    const key = normalizeForHash(p.replace(/[,;.]+$/, ''));
    if (key && seen.has(key)) break;
    if (key) seen.add(key);
    kept.push(p);
  }
  if (kept.length === parts.length) return fact;
  return kept.join(' ').replace(/[,;]\s*$/, '.');
}

/** A whole JSON value with a "facts" key is an answer (maybe a wrong one), not a list cut off. */
const hasFactsKey = (json: unknown): boolean => !!json && typeof json === 'object' && !Array.isArray(json) && 'facts' in json;

/** A fact and the kind extraction gave it (absent when the model wrote a bare string or an unknown kind). */
export interface FactItem {
  text: string;
  kind?: MemoryKind;
}

/** Extraction's facts with their kinds: `{"facts": [{"text", "kind"}]}`, bare strings, or `{"fact"}` objects. Never throws. */
export function parseFactItems(raw: string, maxFacts = 20, maxChars = 2000): FactItem[] {
  const json = extractJson(raw);
  let list: unknown = Array.isArray(json) ? json : json && typeof json === 'object' ? (json as Record<string, unknown>).facts : undefined;
  // A reply cut mid-list may still hold a whole inner object that reads as JSON: the list before the cut counts.
  if (!Array.isArray(list) && !hasFactsKey(json)) list = completeFactsBeforeCut(raw);
  if (!Array.isArray(list)) return [];
  const items = (list as unknown[]).map((f): FactItem | undefined => {
    if (typeof f === 'string') return { text: f };
    if (!f || typeof f !== 'object') return undefined;
    const o = f as { text?: unknown; fact?: unknown; kind?: unknown };
    const text = typeof o.text === 'string' ? o.text : typeof o.fact === 'string' ? o.fact : undefined;
    const kind = parseKind(o.kind);
    return text === undefined ? undefined : { text, ...(kind ? { kind } : {}) };
  });
  const seen = new Set<string>();
  const out: FactItem[] = [];
  for (const f of items) {
    const t = f && withoutLoop(f.text.trim());
    if (!t || t.length > maxChars) continue;
    const n = normalizeForHash(t);
    if (!n || seen.has(n)) continue;
    seen.add(n);
    out.push({ ...f!, text: t });
    if (out.length >= maxFacts) break;
  }
  return out;
}

const JSON_STRING = '"(?:[^"\\\\\\u0000-\\u001f]|\\\\.)*"';
/** One list item followed by `,` or `]`: a string literal, or a flat object of string fields. */
const CUT_LIST_ITEM = new RegExp(`\\s*(${JSON_STRING}|\\{\\s*${JSON_STRING}\\s*:\\s*${JSON_STRING}(?:\\s*,\\s*${JSON_STRING}\\s*:\\s*${JSON_STRING})*\\s*\\})\\s*([,\\]])`, 'y');

/**
 * The facts that were complete when the output was cut off: small models often repeat a fact until
 * max_tokens ends the JSON mid-list. Only string literals (or flat objects) closed and followed by `,` or
 * `]` count, so a fact cut in the middle is never kept.
 */
function completeFactsBeforeCut(raw: string): unknown[] | undefined {
  if (typeof raw !== 'string') return undefined;
  const open = /"facts"\s*:\s*\[/.exec(raw.slice(0, 10_000));
  if (!open) return undefined;
  const facts: unknown[] = [];
  // Sticky and shared: each call sets where it starts.
  const item = CUT_LIST_ITEM;
  item.lastIndex = open.index + open[0].length;
  for (let m = item.exec(raw); m; m = item.exec(raw)) {
    try {
      facts.push(JSON.parse(m[1]));
    } catch {
      break;
    }
    if (m[2] === ']' || facts.length >= 200) break;
  }
  return facts;
}

/** Splits the answer agent's output into the selected memory keys and the answer. Never throws. */
export function parseAnswerOutput(raw: string, validKeys: Set<string>): { answer: string; selectedKeys: string[] } {
  const text = typeof raw === 'string' ? raw.replace(/<think>[\s\S]*?(<\/think>|$)/gi, '').trim() : '';
  // Only a marker at the start of a line counts, so "the answer: ..." inside prose does not.
  const answerMatch = /^[ \t>#*_-]*answer[ \t*_]*:[ \t*_]*/gim;
  let lastIdx = -1;
  let lastLen = 0;
  for (let m = answerMatch.exec(text); m; m = answerMatch.exec(text)) {
    lastIdx = m.index;
    lastLen = m[0].length;
  }
  let answer = (lastIdx >= 0 ? text.slice(lastIdx + lastLen) : text.replace(/\*{0,2}selected memories:?\*{0,2}:?.*$/im, '')).trim();
  const labelled = /selected memories\s*:?\s*\*{0,2}\s*:?\s*([^\n]*)/i.exec(text);
  let selected = labelled?.[1];
  // Small models sometimes drop the label and write the ids alone on the first line ("[1]" or "[2], [5]").
  const bareIds = labelled ? null : /^\s*((?:\[\d+\][ \t,;]*)+)(?:\n|$)/.exec(text);
  if (bareIds) {
    selected = bareIds[1];
    if (lastIdx < 0) answer = text.slice(bareIds[0].length).trim();
  }
  const selectedKeys: string[] = [];
  if (selected) {
    for (const m of selected.matchAll(/\d+/g)) {
      if (validKeys.has(m[0]) && !selectedKeys.includes(m[0])) selectedKeys.push(m[0]);
    }
  }
  return { answer, selectedKeys };
}

function truncate(x: unknown): unknown {
  if (typeof x === 'string') return x.length > 300 ? x.slice(0, 300) + '…' : x;
  if (x && typeof x === 'object') {
    const s = JSON.stringify(x);
    return s.length > 300 ? s.slice(0, 300) + '…' : x;
  }
  return x;
}
