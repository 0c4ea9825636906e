import { describe, expect, it } from 'vitest';
import { pickSlot } from '../../src/server/llamaServer';

// Which context sequence a request goes to: the one holding the longest prefix of its prompt.
describe('pickSlot', () => {
  const slots = (...x: [string, number, number][]) => x.map(([name, shared, lastUsed]) => ({ name, shared, lastUsed }));
  const pick = (s: ReturnType<typeof slots>) => pickSlot(s, (x) => x.shared).slot.name;

  it('takes the sequence that shares the longest prefix with the prompt', () => {
    expect(pick(slots(['extraction', 500, 3], ['manager', 6, 4], ['answer', 6, 1]))).toBe('extraction');
    expect(pickSlot(slots(['a', 40, 1], ['b', 600, 2]), (x) => x.shared)).toEqual({ slot: { name: 'b', shared: 600, lastUsed: 2 }, shared: 600 });
  });

  it('evicts the least recently used sequence when none shares more than a chat template opening', () => {
    // 6 tokens in common is "<|im_start|>system\n": no reason to overwrite a kept system prompt.
    expect(pick(slots(['extraction', 6, 3], ['manager', 6, 4], ['answer', 6, 2], ['empty', 0, 0]))).toBe('empty');
    expect(pick(slots(['extraction', 6, 3], ['manager', 6, 4], ['answer', 6, 2]))).toBe('answer');
  });

  it('breaks a tie between equal prefixes by taking the least recently used', () => {
    expect(pick(slots(['a', 300, 5], ['b', 300, 2]))).toBe('b');
  });

  it('with one sequence (the old behaviour) always takes it', () => {
    expect(pick(slots(['only', 0, 9]))).toBe('only');
  });
});
