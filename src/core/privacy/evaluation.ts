// Scores the redactor against a labelled corpus (used by the unit test and bench/redaction.ts).
import { redactSecrets, type RedactionFinding } from './redact';

export interface LabelledExample {
  text: string;
  /** Exact substrings of `text` that are secrets (empty for hard negatives). */
  secrets: string[];
  /** Expected kind per secret, parallel to `secrets` (optional). */
  kinds?: string[];
  note?: string;
}

export interface KindScore {
  truePositives: number;
  falseNegatives: number;
  falsePositives: number;
  /** True positives whose covering finding carried the expected kind. */
  labelledAsExpected: number;
}

export interface RedactionScore {
  secrets: number;
  truePositives: number;
  falseNegatives: number;
  /** Findings that overlap no labelled secret. */
  falsePositives: number;
  findings: number;
  precision: number;
  recall: number;
  /** Share of detected secrets reported under their expected kind. */
  kindAccuracy: number;
  perKind: Map<string, KindScore>;
  missed: Array<{ note?: string; secret: string; kind?: string; redacted: string }>;
  spurious: Array<{ note?: string; kind: string; text: string }>;
  /** Labelled secrets that still appear verbatim in the redacted text. */
  leaked: Array<{ note?: string; secret: string }>;
}

export function parseCorpus(jsonl: string): LabelledExample[] {
  return jsonl
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, n }) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new Error(`corpus line ${n}: invalid JSON (${(err as Error).message})`);
      }
      const e = value as LabelledExample;
      if (typeof e.text !== 'string' || !Array.isArray(e.secrets)) throw new Error(`corpus line ${n}: needs "text" (string) and "secrets" (array)`);
      for (const s of e.secrets) if (typeof s !== 'string' || !e.text.includes(s)) throw new Error(`corpus line ${n}: secret ${JSON.stringify(s)} is not a substring of text`);
      return e;
    });
}

function occurrences(text: string, needle: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) out.push([i, i + needle.length]);
  return out;
}

function coveringFinding(findings: RedactionFinding[], start: number, end: number): RedactionFinding | undefined {
  return findings.find((f) => f.start <= start && f.end >= end);
}

function kindScore(map: Map<string, KindScore>, kind: string): KindScore {
  let s = map.get(kind);
  if (!s) map.set(kind, (s = { truePositives: 0, falseNegatives: 0, falsePositives: 0, labelledAsExpected: 0 }));
  return s;
}

export function scoreRedaction(examples: LabelledExample[], redact = redactSecrets): RedactionScore {
  const score: RedactionScore = {
    secrets: 0, truePositives: 0, falseNegatives: 0, falsePositives: 0, findings: 0, precision: 1, recall: 1, kindAccuracy: 1,
    perKind: new Map(), missed: [], spurious: [], leaked: [],
  };
  for (const ex of examples) {
    const { text: redacted, findings } = redact(ex.text);
    score.findings += findings.length;
    const secretSpans: Array<[number, number]> = [];
    ex.secrets.forEach((secret, i) => {
      const expectedKind = ex.kinds?.[i] ?? 'unlabelled';
      const spans = occurrences(ex.text, secret);
      secretSpans.push(...spans);
      score.secrets++;
      const covers = spans.map(([s, e]) => coveringFinding(findings, s, e));
      const ks = kindScore(score.perKind, expectedKind);
      if (covers.every((c) => c !== undefined)) {
        score.truePositives++;
        ks.truePositives++;
        if (covers.every((c) => c!.kind === expectedKind)) ks.labelledAsExpected++;
      } else {
        score.falseNegatives++;
        ks.falseNegatives++;
        score.missed.push({ note: ex.note, secret, kind: expectedKind, redacted });
      }
      if (redacted.includes(secret)) score.leaked.push({ note: ex.note, secret });
    });
    for (const f of findings) {
      const overlaps = secretSpans.some(([s, e]) => f.start < e && s < f.end);
      if (!overlaps) {
        score.falsePositives++;
        kindScore(score.perKind, f.kind).falsePositives++;
        score.spurious.push({ note: ex.note, kind: f.kind, text: ex.text.slice(f.start, f.end) });
      }
    }
  }
  const matchedFindings = score.findings - score.falsePositives;
  score.precision = score.findings ? matchedFindings / score.findings : 1;
  score.recall = score.secrets ? score.truePositives / score.secrets : 1;
  let expected = 0;
  for (const k of score.perKind.values()) expected += k.labelledAsExpected;
  score.kindAccuracy = score.truePositives ? expected / score.truePositives : 1;
  return score;
}
