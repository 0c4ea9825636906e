// Size limits for captured events and stored memories.

export const DEFAULT_LIMITS = { maxEventChars: 8000, maxMemoryChars: 2000, maxBankMemories: 200000 };

/** Cut texts are cut back to a line boundary if one lies within this fraction of the budget from its end. */
const LINE_BOUNDARY_WINDOW = 0.25;

function truncationMarker(omittedChars: number): string {
  return `\n… [truncated: ${omittedChars} more chars]`;
}

/**
 * Keeps `text` within `max` characters (marker included). Cuts on a line boundary when one is close to the
 * limit, never splits a surrogate pair, and appends a marker saying how much was dropped.
 */
export function clampEventText(text: string, max: number): { text: string; truncated: boolean } {
  if (!Number.isFinite(max) || max < 1) throw new RangeError(`clampEventText: max must be a positive number, got ${max}`);
  max = Math.floor(max);
  if (text.length <= max) return { text, truncated: false };
  // The marker length depends on the omitted count; reserve room for the longest it can be.
  const reserve = truncationMarker(text.length).length;
  if (reserve >= max) return { text: text.slice(0, max), truncated: true };
  let cut = max - reserve;
  const newline = text.lastIndexOf('\n', cut);
  if (newline > 0 && newline >= cut * (1 - LINE_BOUNDARY_WINDOW)) {
    cut = newline;
  } else {
    const code = text.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--; // don't leave half a surrogate pair
  }
  const kept = text.slice(0, cut).replace(/[ \t]+$/, '');
  return { text: kept + truncationMarker(text.length - kept.length), truncated: true };
}
