// Redaction of what enters the bank in bulk: a manager batch (applied or held) and an import bundle.
// Ids and times are kept; every text passes the bank's privacy boundary.
import { type PrivacyBoundary, type RedactionCounts, addCounts, countTotal, redactRecord, redactSnapshot, redactSource } from '../privacy/boundary';
import type { BatchContext, PlannedOperation } from '../types';
import type { BankBundle } from './bundle';

/** A batch's operations and context with their texts redacted, and what was found (with the engine's own counts). */
export function redactBatch(p: PrivacyBoundary, ops: PlannedOperation[], ctx: BatchContext): { ops: PlannedOperation[]; ctx: BatchContext; counts: RedactionCounts | undefined } {
  const counts: RedactionCounts = { ...(ctx.redactions ?? {}) };
  const cleanOps = ops.map((o) => {
    const c: PlannedOperation = { ...o };
    if (o.text !== undefined) c.text = p.text(o.text, counts);
    if (o.reason !== undefined) c.reason = p.text(o.reason, counts);
    if (o.tags) c.tags = o.tags.map((t) => p.text(t, counts));
    return c;
  });
  const { redactions: _r, ...rest } = ctx;
  const cleanCtx: BatchContext = {
    ...rest,
    fact: p.optional(ctx.fact, counts),
    candidates: ctx.candidates?.map((c) => ({ ...c, text: p.text(c.text, counts) })),
    source: redactSource(p, ctx.source, counts),
    // The event text was counted where it entered the engine: redacted here again, not counted twice.
    origin: ctx.origin && { time: ctx.origin.time, text: p.text(ctx.origin.text) },
  };
  if (cleanCtx.origin === undefined) delete cleanCtx.origin;
  if (cleanCtx.fact === undefined) delete cleanCtx.fact;
  if (cleanCtx.candidates === undefined) delete cleanCtx.candidates;
  if (cleanCtx.source === undefined) delete cleanCtx.source;
  return { ops: cleanOps, ctx: cleanCtx, counts: countTotal(counts) ? counts : undefined };
}

/** An import's memories, history and feedback with their texts redacted (ids and times kept). */
export function redactBundle(p: PrivacyBoundary, b: BankBundle): BankBundle {
  if (!p.enabled) return b;
  return {
    ...b,
    memories: b.memories.map((m) => {
      const counts: RedactionCounts = {};
      const s = redactSnapshot(p, { text: m.text, tags: m.tags }, counts);
      return { ...m, text: s.text, tags: s.tags, source: redactSource(p, m.source, counts) };
    }),
    sources: b.sources?.map((e) => ({ ...e, text: p.text(e.text), ...(e.ref ? { ref: p.text(e.ref) } : {}), ...(e.actor ? { actor: p.text(e.actor) } : {}) })),
    history: b.history.map((r) => {
      const counts: RedactionCounts = {};
      const clean = redactRecord(p, r, counts);
      return countTotal(counts) ? { ...clean, redactions: addCounts({ ...(r.redactions ?? {}) }, counts) } : clean;
    }),
    feedback: b.feedback.map((f) => ({ ...f, ...(f.question !== undefined ? { question: p.text(f.question) } : {}), ...(f.answer !== undefined ? { answer: p.text(f.answer) } : {}) })),
  };
}
