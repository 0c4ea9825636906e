// LoCoMo answer scoring, computed exactly as the published evaluation code does:
//  - Mem0's evaluation (evaluation/metrics/utils.py): set-based token F1 and nltk BLEU-1;
//  - the official LoCoMo scorer (task_eval/evaluation.py): stemmed token F1 with per-category rules;
//  - exact match, the Answer Agent's RL reward.
import type { LocomoCategory } from './locomo';
import { nltkWordTokenize } from './nltkTokenize';
import { porterStem } from '../util/porterStemmer';

// ---------------------------------------------------------------- Mem0

/** Mem0's `simple_tokenize`: lower-case, `.`/`,`/`!`/`?` become spaces, split on whitespace. */
export function simpleTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[.,!?]/g, ' ')
    .split(/\s+/u)
    .filter((t) => t.length > 0);
}

/** Mem0's token F1: over the *sets* of `simpleTokenize` tokens of the stripped texts; 0 when either is empty. */
export function mem0F1(prediction: string, gold: string): number {
  if (!prediction || !gold) return 0;
  const pred = new Set(simpleTokenize(prediction.trim()));
  const ref = new Set(simpleTokenize(gold.trim()));
  if (pred.size === 0 || ref.size === 0) return 0;
  let common = 0;
  for (const t of pred) if (ref.has(t)) common++;
  const precision = common / pred.size;
  const recall = common / ref.size;
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

/** Mem0's BLEU-1: nltk `sentence_bleu([word_tokenize(gold)], word_tokenize(pred), (1,0,0,0), method1)` on lower-cased, stripped text. */
export function mem0Bleu1(prediction: string, gold: string): number {
  if (!prediction || !gold) return 0;
  const hyp = nltkWordTokenize(prediction.trim().toLowerCase());
  const ref = nltkWordTokenize(gold.trim().toLowerCase());
  return sentenceBleu([ref], hyp, [1, 0, 0, 0]);
}

/**
 * nltk's `sentence_bleu(references, hypothesis, weights, smoothing_function=SmoothingFunction().method1)`:
 * clipped n-gram precisions, brevity penalty against the closest reference length, and
 * epsilon 0.1 added to zero-match precisions. 0 when no unigram matches at all.
 */
export function sentenceBleu(references: string[][], hypothesis: string[], weights: number[] = [0.25, 0.25, 0.25, 0.25]): number {
  if (references.length === 0) throw new RangeError('sentenceBleu needs at least one reference');
  const precisions: { numerator: number; denominator: number }[] = [];
  for (let n = 1; n <= weights.length; n++) precisions.push(modifiedPrecision(references, hypothesis, n));
  if (precisions[0].numerator === 0) return 0;
  const hypLen = hypothesis.length;
  const refLen = closestRefLength(references, hypLen);
  const bp = hypLen > refLen ? 1 : hypLen === 0 ? 0 : Math.exp(1 - refLen / hypLen);
  const epsilon = 0.1;
  const logs: number[] = [];
  precisions.forEach((p, i) => {
    const value = p.numerator === 0 ? (p.numerator + epsilon) / p.denominator : p.numerator / p.denominator;
    if (value > 0) logs.push(weights[i] * Math.log(value));
  });
  return bp * Math.exp(fsum(logs));
}

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  // \u0000 cannot occur inside a token, so joined n-grams stay distinct.
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0000');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function modifiedPrecision(references: string[][], hypothesis: string[], n: number): { numerator: number; denominator: number } {
  const counts = ngramCounts(hypothesis, n);
  const maxRef = new Map<string, number>();
  for (const ref of references) {
    const refCounts = ngramCounts(ref, n);
    for (const gram of counts.keys()) maxRef.set(gram, Math.max(maxRef.get(gram) ?? 0, refCounts.get(gram) ?? 0));
  }
  let numerator = 0;
  let total = 0;
  for (const [gram, count] of counts) {
    numerator += Math.min(count, maxRef.get(gram) ?? 0);
    total += count;
  }
  return { numerator, denominator: Math.max(1, total) };
}

function closestRefLength(references: string[][], hypLen: number): number {
  let best = references[0].length;
  for (const ref of references) {
    const len = ref.length;
    const d = Math.abs(len - hypLen);
    const bestD = Math.abs(best - hypLen);
    if (d < bestD || (d === bestD && len < best)) best = len;
  }
  return best;
}

/** Python's `math.fsum` (Shewchuk's exact partial sums). */
function fsum(values: number[]): number {
  const partials: number[] = [];
  for (let x of values) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  return partials.reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------- official LoCoMo scorer

/** Python's `string.punctuation`. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
/** Word characters of Python's `regex` module, for `\b`. */
const WORD_CHAR = String.raw`[\p{L}\p{N}\p{M}_]`;
const LOCOMO_ARTICLES = new RegExp(String.raw`(?<!${WORD_CHAR})(?:a|an|the|and)(?!${WORD_CHAR})`, 'gu');

/** LoCoMo's `normalize_answer`: drop commas, lower-case, strip ASCII punctuation, drop a/an/the/and, collapse whitespace. */
export function locomoNormalize(text: string): string {
  const s = text.replace(/,/g, '').toLowerCase().replace(ASCII_PUNCTUATION, '').replace(LOCOMO_ARTICLES, ' ');
  return s.split(/\s+/u).filter((t) => t.length > 0).join(' ');
}

function stemmedTokens(text: string): string[] {
  const norm = locomoNormalize(text);
  return norm ? norm.split(' ').map(porterStem) : [];
}

/** LoCoMo's `f1_score`: token F1 over Porter-stemmed normalised tokens with multiset (Counter) overlap. */
export function locomoTokenF1(prediction: string, gold: string): number {
  const pred = stemmedTokens(prediction);
  const ref = stemmedTokens(gold);
  const refCounts = new Map<string, number>();
  for (const t of ref) refCounts.set(t, (refCounts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = refCounts.get(t) ?? 0;
    if (c > 0) {
      same++;
      refCounts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / ref.length;
  return (2 * precision * recall) / (precision + recall);
}

/** LoCoMo's multi-answer `f1`: mean over comma-separated gold parts of the best F1 against any comma-separated predicted part. */
export function locomoMultiAnswerF1(prediction: string, gold: string): number {
  const preds = prediction.split(',').map((p) => p.trim());
  const golds = gold.split(',').map((g) => g.trim());
  let sum = 0;
  for (const g of golds) sum += Math.max(...preds.map((p) => locomoTokenF1(p, g)));
  return sum / golds.length;
}

/**
 * The official LoCoMo score of one answer (`eval_question_answering`):
 * 1 multi-hop → multi-answer F1; 3 open-domain → F1 against the gold text before `;`;
 * 2, 4 → F1; 5 adversarial → 1 when the prediction says "no information available" or "not mentioned".
 */
export function locomoF1(prediction: string, gold: string, category: LocomoCategory): number {
  switch (category) {
    case 1:
      return locomoMultiAnswerF1(prediction, gold);
    case 3:
      return locomoTokenF1(prediction, gold.split(';')[0].trim());
    case 2:
    case 4:
      return locomoTokenF1(prediction, gold);
    case 5: {
      const lower = prediction.toLowerCase();
      return lower.includes('no information available') || lower.includes('not mentioned') ? 1 : 0;
    }
    default:
      throw new RangeError(`unknown LoCoMo category ${String(category)}`);
  }
}

// ---------------------------------------------------------------- exact match (RL reward)

const PUNCTUATION_ANY = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~\p{P}]/gu;
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** Lower-case, strip punctuation (ASCII and Unicode), drop a/an/the, collapse whitespace. */
export function normalizeForExactMatch(text: string): string {
  return text
    .toLowerCase()
    .replace(PUNCTUATION_ANY, ' ')
    .replace(ARTICLES, ' ')
    .split(/\s+/u)
    .filter((t) => t.length > 0)
    .join(' ');
}

/** 1 when prediction and gold are equal after `normalizeForExactMatch`, else 0: the Answer Agent's reward. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeForExactMatch(prediction) === normalizeForExactMatch(gold) ? 1 : 0;
}

const BOLD_ANSWER_MARKER = /\*\*\s*answer\s*(?::\s*\*\*|\*\*\s*:)/giu;
const PLAIN_ANSWER_MARKER = /(?<![\p{L}\p{N}_])answer\s*:/giu;

/**
 * The final answer in a model output: the text after the last `**Answer:**` (or `**Answer**:`), else after
 * the last `Answer:`, else the whole output; `<think>` blocks removed, whitespace and stray `**` trimmed.
 */
export function extractAnswer(modelOutput: string): string {
  const text = modelOutput.replace(/<think>[\s\S]*?(?:<\/think>|$)/gi, ' ');
  const after = lastMarkerEnd(text, BOLD_ANSWER_MARKER) ?? lastMarkerEnd(text, PLAIN_ANSWER_MARKER) ?? 0;
  return text
    .slice(after)
    .trim()
    .replace(/^\*\*\s*|\s*\*\*$/g, '')
    .trim();
}

function lastMarkerEnd(text: string, marker: RegExp): number | undefined {
  let end: number | undefined;
  marker.lastIndex = 0;
  for (let m = marker.exec(text); m; m = marker.exec(text)) end = m.index + m[0].length;
  return end;
}

// ---------------------------------------------------------------- aggregation

/** One scored question: its category and any named scores (f1, bleu1, judge, ...). */
export interface ScoredQuestion {
  category: LocomoCategory;
  scores: Record<string, number>;
}

export interface ScoreSummary {
  /** Questions in the group. */
  count: number;
  /** Mean of each score over the questions that have it (NaN-free). */
  mean: Record<string, number>;
}

export interface ScoreAggregate {
  overall: ScoreSummary;
  byCategory: Partial<Record<LocomoCategory, ScoreSummary>>;
}

/** Per-category and overall means; the overall mean weighs every question equally, as Mem0 and Memory-R1 report. */
export function aggregate(results: readonly ScoredQuestion[]): ScoreAggregate {
  const byCategory: Partial<Record<LocomoCategory, ScoreSummary>> = {};
  const groups = new Map<LocomoCategory, ScoredQuestion[]>();
  for (const r of results) {
    const list = groups.get(r.category) ?? [];
    list.push(r);
    groups.set(r.category, list);
  }
  for (const category of [...groups.keys()].sort((a, b) => a - b)) byCategory[category] = summarize(groups.get(category)!);
  return { overall: summarize(results), byCategory };
}

function summarize(results: readonly ScoredQuestion[]): ScoreSummary {
  const sums = new Map<string, { total: number; n: number }>();
  for (const r of results) {
    for (const [name, value] of Object.entries(r.scores)) {
      if (!Number.isFinite(value)) continue;
      const s = sums.get(name) ?? { total: 0, n: 0 };
      s.total += value;
      s.n++;
      sums.set(name, s);
    }
  }
  const mean: Record<string, number> = {};
  for (const [name, s] of sums) mean[name] = s.total / s.n;
  return { count: results.length, mean };
}

/** The p-th percentile (0..100) with linear interpolation between ranks (numpy's default); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
