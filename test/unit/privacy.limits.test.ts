import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, clampEventText } from '../../src/core/privacy/limits';

describe('DEFAULT_LIMITS', () => {
  it('has the documented values', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxEventChars: 8000, maxMemoryChars: 2000, maxBankMemories: 200000 });
  });
});

describe('clampEventText', () => {
  it('returns short text unchanged', () => {
    expect(clampEventText('hello\nworld', 100)).toEqual({ text: 'hello\nworld', truncated: false });
    expect(clampEventText('x'.repeat(50), 50)).toEqual({ text: 'x'.repeat(50), truncated: false });
  });

  it('cuts on a line boundary near the limit and says how much was dropped', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'-'.repeat(30)}`);
    const text = lines.join('\n');
    const out = clampEventText(text, 1000);
    expect(out.truncated).toBe(true);
    expect(out.text.length).toBeLessThanOrEqual(1000);
    const [kept, marker] = out.text.split('\n… [truncated: ');
    expect(lines).toContain(kept.split('\n').at(-1)); // last kept line is whole
    const dropped = Number(/^(\d+) more chars\]$/.exec(marker)![1]);
    expect(kept.length + dropped).toBe(text.length);
  });

  it('cuts mid-line when no line break is close, without splitting a surrogate pair', () => {
    const text = '🔑'.repeat(1000);
    const out = clampEventText(text, 301);
    expect(out.truncated).toBe(true);
    expect(out.text.length).toBeLessThanOrEqual(301);
    const kept = out.text.split('\n… [truncated')[0];
    expect(kept.length % 2).toBe(0);
    expect(kept).toBe('🔑'.repeat(kept.length / 2));
  });

  it('stays within tiny limits', () => {
    const out = clampEventText('abcdefghijklmnopqrstuvwxyz'.repeat(10), 10);
    expect(out).toEqual({ text: 'abcdefghij', truncated: true });
  });

  it('rejects a non-positive limit', () => {
    expect(() => clampEventText('abc', 0)).toThrow(RangeError);
    expect(() => clampEventText('abc', Number.NaN)).toThrow(/positive/);
  });
});
