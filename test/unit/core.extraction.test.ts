import { describe, expect, it } from 'vitest';
import { copiedFromPrompt } from '../../src/core/agents/extraction';

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
