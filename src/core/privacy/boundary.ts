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

/** A history record with its texts redacted; `counts` gets what was found (the record's own `redactions` are kept). */
export function redactRecord<R extends RecordLike>(p: PrivacyBoundary, r: R, counts: RedactionCounts): R {
  if (!p.enabled) return r;
  const out: R = { ...r };
  if (r.before) out.before = redactSnapshot(p, r.before, counts);
  if (r.after) out.after = redactSnapshot(p, r.after, counts);
  if (r.fact !== undefined) out.fact = p.text(r.fact, counts);
  if (r.reason !== undefined) out.reason = p.text(r.reason, counts);
  if (r.candidates) out.candidates = r.candidates.map((c) => ({ ...c, text: p.text(c.text, counts) }));
  if (r.source) out.source = redactSource(p, r.source, counts);
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
