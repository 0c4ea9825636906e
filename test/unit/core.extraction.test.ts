import { describe, expect, it } from 'vitest';
import { copiedFromPrompt } from '../../src/core/agents/extraction';
import { resolveRelativeDates } from '../../src/core/util/relativeDates';

describe('facts copied from the extraction prompt', () => {
  const event = 'Dana: Bug fixed: invoices were rounded twice. The fix is in src/billing/round.ts, rounding now happens only at display time.';

  it("drops the prompt's worked example, verbatim or reworded, when the event does not say it", () => {
    // What SmolLM2-135M produced for this event in the demo.
    expect(copiedFromPrompt('The project switched its HTTP client to undici for keep-alive support (commit a1b2c3 by Dana, issue #412).', event)).toBe(true);
    expect(copiedFromPrompt('The project switched its HTTP client from axios to undici for keep-alive support (commit a1b2c3 by Dana, issue #412).', event)).toBe(true);
  });

  it('keeps facts the event supports, also when they share words with the examples', () => {
    expect(copiedFromPrompt('Invoices are rounded only at display time (fix in src/billing/round.ts).', event)).toBe(false);
    const undiciEvent = 'commit 9f8e7d by Lee: "Move the HTTP client to undici for keep-alive"';
    expect(copiedFromPrompt('The project moved its HTTP client to undici for keep-alive (commit 9f8e7d by Lee).', undiciEvent)).toBe(false);
    expect(copiedFromPrompt('Uses pnpm', 'We use pnpm now.')).toBe(false);
  });
});

describe('relative dates in facts', () => {
  const friday = '2023-01-20T10:00:00.000Z';
  it('become dates counted from the event time, with the preposition the sentence needs', () => {
    expect(resolveRelativeDates('Jon lost his job as a banker yesterday.', friday)).toBe('Jon lost his job as a banker on 19 January 2023.');
    expect(resolveRelativeDates('Jon has danced since yesterday.', friday)).toBe('Jon has danced since 19 January 2023.');
    expect(resolveRelativeDates("Jon's crew won a local comp last year.", friday)).toBe("Jon's crew won a local comp in 2022.");
    expect(resolveRelativeDates('Gina went to Paris last Friday.', friday)).toBe('Gina went to Paris on 13 January 2023.');
    expect(resolveRelativeDates('The festival is next month.', friday)).toBe('The festival is in February 2023.');
    expect(resolveRelativeDates('Maya adopted Jasper two weeks ago.', friday)).toBe('Maya adopted Jasper around 6 January 2023.');
    expect(resolveRelativeDates('v2.1 was released today.', '2026-04-11T09:00:00Z')).toBe('v2.1 was released on 11 April 2026.');
  });
  it('leaves facts alone without an event time or without relative words', () => {
    expect(resolveRelativeDates('Jon lost his job yesterday.', undefined)).toBe('Jon lost his job yesterday.');
    expect(resolveRelativeDates('Melanie ran a race the Sunday before 25 May 2023.', friday)).toBe('Melanie ran a race the Sunday before 25 May 2023.');
    expect(resolveRelativeDates('Lists are sorted by date.', friday)).toBe('Lists are sorted by date.');
  });
});
