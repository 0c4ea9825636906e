import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { redactSecrets } from '../../src/core/privacy/redact';
import { parseCorpus, scoreRedaction } from '../../src/core/privacy/evaluation';

const corpus = parseCorpus(fs.readFileSync(path.join(__dirname, '../fixtures/redaction/corpus.jsonl'), 'utf8'));
const positives = corpus.filter((e) => e.secrets.length > 0);
const negatives = corpus.filter((e) => e.secrets.length === 0);

/** Hard negatives allowed to change (documented false-positive budget): 2 % of them. */
const FALSE_POSITIVE_BUDGET = Math.floor(negatives.length * 0.02);

describe('redaction corpus', () => {
  it('is large enough', () => {
    expect(positives.length).toBeGreaterThanOrEqual(150);
    expect(negatives.length).toBeGreaterThanOrEqual(100);
  });

  it('recall is 1.0 and precision at least 0.95 at secret level', () => {
    const score = scoreRedaction(corpus);
    const missed = score.missed.map((m) => `${m.kind} (${m.note}): ${m.redacted}`);
    expect(missed).toEqual([]);
    expect(score.recall).toBe(1);
    expect(score.precision).toBeGreaterThanOrEqual(0.95);
  });

  it('no labelled secret survives in the redacted text', () => {
    for (const ex of positives) {
      const out = redactSecrets(ex.text).text;
      for (const s of ex.secrets) expect(out.includes(s), `${ex.note}: ${out}`).toBe(false);
    }
  });

  it('hard negatives come back unchanged, within the false-positive budget', () => {
    const changed = negatives.filter((ex) => redactSecrets(ex.text).text !== ex.text).map((ex) => `${ex.note}: ${redactSecrets(ex.text).text}`);
    expect(changed.length, changed.join('\n')).toBeLessThanOrEqual(FALSE_POSITIVE_BUDGET);
  });

  it('rejects a malformed corpus line with its line number', () => {
    expect(() => parseCorpus('{"text": "a", "secrets": []}\nnot json')).toThrow(/line 2/);
    expect(() => parseCorpus('{"text": "abc", "secrets": ["zzz"]}')).toThrow(/not a substring/);
  });
});
