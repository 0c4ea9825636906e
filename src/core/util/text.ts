import { createHash, randomUUID } from 'node:crypto';
import * as zlib from 'node:zlib';

/** Lower-case, strip punctuation, collapse whitespace: two facts equal under this are duplicates. */
export function normalizeForHash(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function textHash(text: string): string {
  return createHash('sha256').update(normalizeForHash(text)).digest('hex').slice(0, 32);
}

export function newId(): string {
  return randomUUID();
}

export const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

/**
 * "8 May 2023" for an ISO time (its calendar date as written, no time zone shift): how an answer
 * shown to a person writes a date, so the answer model copies that form rather than "2023-05-08".
 */
export function readableDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) return iso.slice(0, 10);
  return `${Number(m[3])} ${MONTH_NAMES[Number(m[2]) - 1]} ${m[1]}`;
}

/** The text on one line, cut to `max` characters with an ellipsis (labels, excerpts, toasts). */
export function clipLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

export function nowIso(): string {
  return new Date().toISOString();
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

// zlib.crc32 exists from Node 22.2 and 20.15 (VS Code's extension host); the table version covers older Node.
const nativeCrc32 = (zlib as unknown as { crc32?: (d: string | Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (zlib's); `previous` continues a checksum over data that came before. */
export function crc32(data: string | Uint8Array, previous = 0): number {
  if (nativeCrc32) return nativeCrc32(data, previous) >>> 0;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * References a text can name that must come from somewhere: issue numbers (#123), commit hashes, versions
 * (1.2.3, v5.0.0-beta.1), paths (src/a.ts, docs/guide/), handles (@name). Lower-cased, a version's "v" dropped.
 */
const REFERENCE = /#\d+|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b|\bv?\d+\.\d+(?:\.\d+)*(?:-[a-z0-9.]+)?\b|(?:\.{0,2}\/)?\b[\w.-]+\/[\w./-]*\w|@[a-z0-9][\w-]*/gi;

export function referencesIn(text: string): string[] {
  return [...new Set((text.match(REFERENCE) ?? []).map((r) => r.toLowerCase().replace(/^v(?=\d)/, '')))];
}

/** Is `ref` (from `referencesIn`) named in `sourceLower` (a lower-cased text)? A handle may appear without its "@". */
export function mentionsReference(sourceLower: string, ref: string): boolean {
  return sourceLower.includes(ref) || (ref.startsWith('@') && sourceLower.includes(ref.slice(1)));
}
