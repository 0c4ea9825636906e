// The engine's privacy boundary: every text that enters MemoryEngine or MemoryBank passes through one
// `PrivacyBoundary` before it is stored, recorded in a trajectory, logged or sent to an endpoint.
// Findings are kept as counts per kind, never the secret.
import { redactSecrets } from './redact';

/** Secrets found, per kind (`postgres-url-password: 2`). */
export type RedactionCounts = Record<string, number>;

/**
 * How a bank treats secrets. `'on'` (the default) redacts; only the exact value `'off'` stores raw
 * text, so a missing, misspelt or `undefined` option never turns redaction off.
 */
export type RedactionMode = 'on' | 'off';

export function addCounts(into: RedactionCounts, add: RedactionCounts | undefined): RedactionCounts {
  if (add) for (const [k, n] of Object.entries(add)) into[k] = (into[k] ?? 0) + n;
  return into;
}

export function countTotal(c: RedactionCounts | undefined): number {
  return c ? Object.values(c).reduce((a, b) => a + b, 0) : 0;
}

/** `2 secrets (postgres-url-password, stripe-secret-key)`; never the secrets themselves. */
export function describeCounts(c: RedactionCounts | undefined): string {
  const total = countTotal(c);
  if (!total) return 'no secrets';
  const kinds = Object.entries(c!)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => (n > 1 ? `${k} ×${n}` : k));
  return `${total} secret${total === 1 ? '' : 's'} (${kinds.join(', ')})`;
}

export class PrivacyBoundary {
  readonly enabled: boolean;

  constructor(mode: RedactionMode | undefined = 'on') {
    this.enabled = mode !== 'off';
  }

  /** Redacts one text; findings are added to `counts` when given. */
  text(text: string, counts?: RedactionCounts): string {
    if (!this.enabled || typeof text !== 'string' || !text) return text;
    return redactText(text, counts, 0);
  }

  optional(text: string | undefined, counts?: RedactionCounts): string | undefined {
    return text === undefined ? undefined : this.text(text, counts);
  }

  /**
   * A copy of `value` with every string redacted (object keys are kept: they are field names).
   * Used for records whose shape the bank does not own: trajectories, feedback, held batches.
   */
  deep<T>(value: T, counts?: RedactionCounts): T {
    if (!this.enabled) return value;
    return redactDeep(value, (s) => this.text(s, counts)) as T;
  }
}

/** A JSON string literal (only those with an escape in them are decoded). */
const STRING_LITERAL = /"(?:[^"\\\n]|\\.)*"/g;

/**
 * Redacts the JSON string literals inside `text` once decoded, then `text`: a model's raw JSON output or a
 * logged request holds `"API_KEY=\"x\"\nNEXT"`, whose secret only shows once the escapes are undone.
 */
function redactText(text: string, counts: RedactionCounts | undefined, depth: number): string {
  let t = text;
  // String literals first, decoded: inside them a key block or an assignment shows as it was written.
  if (depth <= 3 && t.includes('"')) {
    t = t.replace(STRING_LITERAL, (literal) => {
      if (literal.length < 12) return literal;
      let decoded: string;
      try {
        decoded = JSON.parse(literal) as string;
      } catch {
        return literal;
      }
      const inner: RedactionCounts = {};
      const clean = redactText(decoded, inner, depth + 1);
      if (!countTotal(inner)) return literal;
      if (counts) addCounts(counts, inner);
      return JSON.stringify(clean);
    });
  }
  const r = redactSecrets(t);
  if (counts) for (const f of r.findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  return r.text;
}

export function redactDeep(value: unknown, redact: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact, depth + 1));
  if (ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactDeep(v, redact, depth + 1);
  return out;
}

// ---- Record shapes the bank owns: only their texts are redacted, ids and times are kept ------------------

interface SourceLike {
  kind: string;
  ref?: string;
  actor?: string;
  event?: string;
}
interface SnapshotLike {
  text: string;
  tags: string[];
}
interface RecordLike {
  before?: SnapshotLike;
  after?: SnapshotLike;
  fact?: string;
  candidates?: { text: string }[];
  reason?: string;
  source?: SourceLike;
  redactions?: RedactionCounts;
}

export function redactSource<S extends SourceLike | undefined>(p: PrivacyBoundary, s: S, counts: RedactionCounts): S {
  if (!s || !p.enabled) return s;
  return { ...s, ...(s.ref !== undefined ? { ref: p.text(s.ref, counts) } : {}), ...(s.actor !== undefined ? { actor: p.text(s.actor, counts) } : {}) };
}

export function redactSnapshot<S extends SnapshotLike | undefined>(p: PrivacyBoundary, s: S, counts: RedactionCounts): S {
  if (!s || !p.enabled) return s;
  return { ...s, text: p.text(s.text, counts), tags: Array.isArray(s.tags) ? s.tags.map((t) => p.text(t, counts)) : s.tags };
}

/** Ids the bank writes (UUIDs) and ids an import may carry: letters, digits and `._:-`, at most 64. */
export const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
/** An ISO 8601 date or date-time, as the bank writes them. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** Record fields that hold ids, times, numbers or enums: kept as they are when they have that shape. */
const RECORD_IDS = new Set(['opId', 'batchId', 'memoryId', 'undoes', 'supersededBy', 'supersedes', 'event', 'run']);
const RECORD_TIMES = new Set(['time', 'createdAt', 'eventTime', 'validTo']);
const RECORD_ENUMS: Record<string, RegExp> = { action: /^[A-Z]{2,10}$/, status: /^(?:active|superseded|deleted)$/, kind: /^[a-z]{2,12}$/ };

/**
 * A history record with every string in it redacted, whatever field it is in (a model can write a secret
 * into a reason, a guard note, an id it made up), except ids, times and enum values of their own shape,
 * which cannot hold one. `counts` gets what was found (the record's own `redactions` are kept).
 */
export function redactRecord<R extends RecordLike>(p: PrivacyBoundary, r: R, counts: RedactionCounts): R {
  if (!p.enabled) return r;
  return redactFields(p, r, counts, '', 0) as R;
}

function redactFields(p: PrivacyBoundary, v: unknown, counts: RedactionCounts, key: string, depth: number): unknown {
  if (typeof v === 'string') {
    // An id of the id shape passes unless the redactor itself would change it (a made-up id can be a token).
    if (RECORD_IDS.has(key) && RECORD_ID.test(v) && p.text(v) === v) return v;
    if (RECORD_TIMES.has(key) && ISO_TIME.test(v)) return v;
    if (RECORD_ENUMS[key]?.test(v)) return v;
    return p.text(v, counts);
  }
  if (depth > 16 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => redactFields(p, x, counts, key, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = k === 'redactions' ? x : redactFields(p, x, counts, k, depth + 1);
  return out;
}

/**
 * Redacts a model's streamed reply on its way to the user. The whole reply so far is redacted at each
 * step (a secret can depend on context lines away, as in a key block), and text is sent only up to a
 * line end or a space at least LOOKAHEAD characters back, so the context that makes a secret a secret
 * has arrived before any of it is shown. Should redaction still rewrite something already sent, the rest
 * is held back and the whole reply, redacted, follows at the end.
 */
export class RedactingStream {
  private static readonly LOOKAHEAD = 24;
  private raw = '';
  private sent = '';
  private spoiled = false;

  constructor(
    private readonly privacy: PrivacyBoundary,
    private readonly emit: (delta: string) => void,
  ) {}

  push(delta: string): void {
    if (!this.privacy.enabled) {
      if (delta) this.emit(delta);
      return;
    }
    this.raw += delta;
    this.flush(false);
  }

  end(): void {
    if (this.privacy.enabled) this.flush(true);
  }

  private flush(final: boolean): void {
    if (this.spoiled) {
      if (final) this.emit('\n\n' + this.privacy.text(this.raw));
      return;
    }
    const red = this.privacy.text(this.raw);
    if (!red.startsWith(this.sent)) {
      this.spoiled = true;
      if (final) this.emit('\n\n' + red);
      return;
    }
    let cut = red.length;
    if (!final) {
      const nl = red.lastIndexOf('\n') + 1;
      const limit = red.length - RedactingStream.LOOKAHEAD;
      const space = limit > 0 ? Math.max(red.lastIndexOf(' ', limit), red.lastIndexOf('\t', limit)) + 1 : 0;
      cut = Math.max(nl, space);
    }
    if (cut > this.sent.length) {
      this.emit(red.slice(this.sent.length, cut));
      this.sent = red.slice(0, cut);
    }
  }
}
