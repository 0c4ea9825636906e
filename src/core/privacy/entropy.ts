/** Shannon entropy of a string in bits per character (0 for empty strings). */
export function shannonEntropy(text: string): number {
  if (!text) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  const n = text.length;
  for (const c of counts.values()) {
    const p = c / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Minimum entropy (bits/char) for a value next to a weak key-like name to count as a secret. */
export const HIGH_ENTROPY_BITS = 3.5;
/** Hex-only values can reach at most 4 bits/char, so they get their own, lower bar. */
export const HIGH_ENTROPY_HEX_BITS = 3.0;

/** True when a value looks machine-generated: long enough, mixed characters and high entropy. */
export function isHighEntropySecret(value: string): boolean {
  if (value.length < 16 || value.length > 1000) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^[0-9a-f]+$/i.test(value)) return value.length >= 32 && shannonEntropy(value) >= HIGH_ENTROPY_HEX_BITS;
  return shannonEntropy(value) >= HIGH_ENTROPY_BITS;
}
