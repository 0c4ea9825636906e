// Keeping memories true to the code: cite what a memory names in the workspace, re-check it when files
// change (no model call unless something changed), flag what no longer holds, and let the manager decide
// what a flagged memory becomes, through the normal operations. Also: which memories would expire.
import type { MemoryBank } from '../bank/memoryBank';
import type { AnswerOptions, AnswerResult } from '../api';
import type { MemoryEngine } from '../engine';
import type { HistoryRecord, Memory } from '../types';
import { newId, nowIso } from '../util/text';
import { CachedReader, type Evidence, type EvidenceChange, findEvidence, inspectEvidence } from './evidence';
import { EvidenceLedger, type LedgerEntry } from './ledger';
import type { WorkspaceReader } from './workspace';

export interface CheckOptions {
  /** Only memories citing these paths (a save, a rename, a delete). Absent: every cited memory (a commit, a branch switch, a window start). */
  paths?: Iterable<string>;
  /** Old path -> new path, so a change says where a file went. */
  renames?: ReadonlyMap<string, string>;
  /** What made the change, when known (a commit's subject): the manager reads it with the change. */
  context?: string;
  /** The most memories checked in one call; the next call goes on where this one stopped. */
  limit?: number;
  now?: Date;
}

export interface CheckReport {
  /** Memories cited for the first time (or again after an edit). */
  cited: number;
  checked: number;
  /** `gone`: every change says only that what the memory cites is gone (no new state known). */
  flagged: { memoryId: string; changes: string[]; gone: boolean }[];
  /** Flags lifted because the evidence holds again (a file restored). */
  cleared: string[];
  /** Files read. */
  reads: number;
  /** Memories left for the next call (the limit). */
  remaining: number;
}

export interface ReviewOutcome {
  memoryId: string;
  changes: string[];
  decision: 'kept' | 'updated' | 'retired' | 'held' | 'failed';
  /** The memory that replaced it, for an update. */
  replacedBy?: string;
  text?: string;
  error?: string;
}

/** What the manager is told: the changes (renames said as moves) and, when known, the commit that made them. */
export function changeFact(changes: string[], context?: string): string {
  return `${changes.join('; ')}.${context ? `\nCommit: ${context}` : ''}`;
}

/**
 * One line per change: a file that is gone or moved says so once, without the names and settings it held
 * (they went with it).
 */
function tidyChanges(found: { e: Evidence; change: EvidenceChange }[]): EvidenceChange[] {
  const filesChanged = new Set(found.filter((f) => f.e.kind === 'file').map((f) => (f.e as { path: string }).path));
  const out: EvidenceChange[] = [];
  for (const f of found) {
    if (f.e.kind !== 'file' && 'path' in f.e && filesChanged.has(f.e.path)) continue;
    if (!out.some((c) => c.text === f.change.text)) out.push(f.change);
  }
  return out;
}

export class FreshnessChecker {
  readonly ledger: EvidenceLedger;
  private cursor = 0;

  constructor(
    readonly bank: MemoryBank,
    ledger?: EvidenceLedger,
  ) {
    this.ledger = ledger ?? new EvidenceLedger(bank);
  }

  /** Cites active memories whose evidence was never looked for (or whose text changed since). */
  async cite(ws: WorkspaceReader, opts: { limit?: number; now?: Date } = {}): Promise<number> {
    this.ledger.refresh();
    const reader = new CachedReader(ws);
    const time = (opts.now ?? new Date()).toISOString();
    const entries: LedgerEntry[] = [];
    for (const m of this.active()) {
      if (this.ledger.isCited(m)) continue;
      entries.push(this.ledger.cite(m, findEvidence(m.text, m.source, reader), time));
      if (opts.limit && entries.length >= opts.limit) break;
    }
    await this.ledger.write(entries);
    return entries.length;
  }

  /**
   * Re-checks the evidence of the affected memories against the workspace as it is now. Flags a memory
   * whose evidence changed (once per change), lifts a flag whose evidence holds again, and notes when an
   * unchanged memory was last confirmed (for expiry). Reads only the files the evidence names.
   */
  async check(ws: WorkspaceReader, opts: CheckOptions = {}): Promise<CheckReport> {
    const cited = await this.cite(ws, { now: opts.now });
    const reader = new CachedReader(ws);
    let ids: string[];
    let remaining = 0;
    if (opts.paths) ids = [...this.ledger.citing(opts.paths)];
    else {
      const all = this.ledger.cited();
      // Bounded work per event: one pass over all cited memories in slices of `limit`; `remaining` says
      // how many this pass has left, and the next call goes on from there.
      if (opts.limit && all.length > opts.limit) {
        const start = this.cursor < all.length ? this.cursor : 0;
        ids = all.slice(start, start + opts.limit);
        this.cursor = start + ids.length;
        remaining = all.length - this.cursor;
        if (!remaining) this.cursor = 0;
      } else {
        ids = all;
        this.cursor = 0;
      }
    }
    const entries: LedgerEntry[] = [];
    const flagged: CheckReport['flagged'] = [];
    const cleared: string[] = [];
    const holding: string[] = [];
    const time = (opts.now ?? new Date()).toISOString();
    let checked = 0;
    for (const id of ids) {
      const m = this.bank.get(id);
      const s = this.ledger.state(id);
      if (!m || m.status !== 'active' || !s) continue;
      checked++;
      const found = tidyChanges(
        s.evidence.map((e) => ({ e, change: describeChange(e, inspectEvidence(e, reader), opts.renames) })).filter((f): f is { e: Evidence; change: EvidenceChange } => !!f.change),
      );
      if (found.length) {
        const changes = found.map((c) => c.text);
        if (s.review && sameList(s.review.changes, changes)) continue;
        const gone = found.every((c) => c.gone);
        entries.push({ t: 'flag', memoryId: id, changes, time, ...(opts.context ? { context: opts.context } : {}), ...(gone ? { gone } : {}) });
        flagged.push({ memoryId: id, changes, gone });
      } else if (s.review) {
        entries.push({ t: 'clear', memoryId: id, how: 'its evidence holds again', time });
        cleared.push(id);
      } else holding.push(id);
    }
    entries.push(...this.ledger.seen(holding, 'validated', opts.now));
    await this.ledger.write(entries);
    return { cited, checked, flagged, cleared, reads: reader.reads, remaining };
  }

  /**
   * Asks the manager about each flagged memory, with what changed as the fact: keep it (its evidence is
   * cited again as it is now), rewrite it (the old one is kept as history) or retire it. Every operation
   * goes through the engine: history, undo, the caps on retirements and approval.
   */
  async review(
    engine: MemoryEngine,
    ws: WorkspaceReader,
    opts: { ids?: string[]; signal?: AbortSignal; onProgress?: (done: number, total: number, last?: ReviewOutcome) => void; run?: string } = {},
  ): Promise<ReviewOutcome[]> {
    this.ledger.refresh();
    const todo = this.ledger.flagged().filter((f) => !opts.ids || opts.ids.includes(f.memory.id));
    const run = opts.run ?? newId();
    const out: ReviewOutcome[] = [];
    for (const { memory, review } of todo) {
      if (opts.signal?.aborted) break;
      let outcome: ReviewOutcome;
      try {
        const res = await engine.reviewMemory(memory.id, changeFact(review.changes, review.context), { signal: opts.signal, run, gone: !!review.gone });
        outcome =
          res.decision === 'UNREADABLE'
            ? { memoryId: memory.id, changes: review.changes, decision: 'failed', error: "the manager's answer could not be read; the memory stays flagged" }
            : await this.settle(memory, review.changes, res.records, res.held, ws);
      } catch (err) {
        if (opts.signal?.aborted) break;
        outcome = { memoryId: memory.id, changes: review.changes, decision: 'failed', error: (err as Error).message };
      }
      out.push(outcome);
      opts.onProgress?.(out.length, todo.length, outcome);
    }
    return out;
  }

  private async settle(memory: Memory, changes: string[], records: HistoryRecord[], held: boolean, ws: WorkspaceReader): Promise<ReviewOutcome> {
    const base = { memoryId: memory.id, changes };
    if (held) return { ...base, decision: 'held' };
    const now = this.bank.get(memory.id);
    const time = nowIso();
    if (now?.status === 'active') {
      await this.keep(now.id, ws, 'kept by the manager');
      return { ...base, decision: 'kept' };
    }
    const replacedBy = now?.supersededBy ?? records.find((r) => r.action === 'UPDATE' || r.action === 'ADD')?.memoryId;
    await this.ledger.write([{ t: 'clear', memoryId: memory.id, how: replacedBy ? 'rewritten by the manager' : 'retired by the manager', time }]);
    if (replacedBy) await this.cite(ws);
    return { ...base, decision: replacedBy ? 'updated' : 'retired', ...(replacedBy ? { replacedBy, text: this.bank.get(replacedBy)?.text } : {}) };
  }

  /**
   * A flagged memory that still holds (the manager's or the user's judgment): what the workspace says now
   * becomes its evidence, so the same change does not flag it again, and the flag is lifted.
   */
  async keep(memoryId: string, ws: WorkspaceReader, how = 'kept by hand'): Promise<void> {
    const m = this.bank.get(memoryId);
    if (!m || m.status !== 'active') return;
    const time = nowIso();
    await this.ledger.write([this.ledger.cite(m, findEvidence(m.text, m.source, ws), time), { t: 'clear', memoryId, how, time }]);
  }

  /** Active, unpinned memories neither changed, confirmed by a check nor used in an answer for `days` days. */
  expiring(days: number, now = new Date()): Memory[] {
    this.ledger.refresh();
    const limit = now.getTime() - days * 24 * 3600 * 1000;
    return this.active().filter((m) => {
      if (m.pinned) return false;
      const s = this.ledger.state(m.id);
      const last = Math.max(...[m.updatedAt, s?.validatedAt, s?.usedAt].filter((t): t is string => !!t).map((t) => Date.parse(t)));
      return last < limit;
    });
  }

  /**
   * Retires the expiring memories in one batch (one undo brings them all back); `only` limits it to those the
   * user picked from the list, `reason` says who retired them.
   */
  async expire(days: number, opts: { now?: Date; only?: ReadonlySet<string>; reason?: string } = {}): Promise<HistoryRecord[]> {
    const due = this.expiring(days, opts.now).filter((m) => !opts.only || opts.only.has(m.id));
    if (!due.length) return [];
    const reason = opts.reason ?? `expired: neither changed, confirmed nor used for ${days} days`;
    return this.bank.applyBatch(
      due.map((m) => ({ type: 'DELETE' as const, memoryId: m.id, reason })),
      { source: { kind: 'manual' }, guard: 'expiry', run: newId() },
    );
  }

  private active(): Memory[] {
    return this.bank.list({ status: 'active', limit: Number.MAX_SAFE_INTEGER }).items;
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A missing file that was renamed is said as a move, so the manager can rewrite the memory with the new path. */
function describeChange(e: Evidence, change: EvidenceChange | undefined, renames: ReadonlyMap<string, string> | undefined): EvidenceChange | undefined {
  if (!change || !renames || (e.kind !== 'file' && e.kind !== 'symbol')) return change;
  for (const [from, to] of renames) {
    if (e.path === from) return { text: `${from} was renamed to ${to}`, gone: false };
    if (e.path.startsWith(`${from}/`)) return { text: `${e.path} moved to ${to}${e.path.slice(from.length)}`, gone: false };
  }
  return change;
}

const checkers = new WeakMap<MemoryBank, FreshnessChecker>();

/** The one checker (and ledger) of an open bank, shared by the panel, the tools and the window's checks. */
export function freshnessFor(bank: MemoryBank): FreshnessChecker {
  let c = checkers.get(bank);
  if (!c) checkers.set(bank, (c = new FreshnessChecker(bank)));
  return c;
}

/** How a flagged memory is marked wherever it is shown to a person or an agent. */
export function reviewNote(checker: FreshnessChecker, m: Memory): string | undefined {
  const r = m.status === 'active' ? checker.ledger.review(m.id) : undefined;
  return r ? `needs review: ${r.changes.join('; ')}` : undefined;
}

/**
 * An answer that knows which memories' cited files changed (the answer model sees them marked) and notes
 * the memories it used, so expiry counts them as used.
 */
export async function answerWithFreshness(engine: MemoryEngine, question: string, opts: AnswerOptions = {}): Promise<AnswerResult & { needsReview: Map<string, string> }> {
  const checker = freshnessFor(engine.bank);
  checker.ledger.refresh();
  const res = await engine.answer(question, { ...opts, memoryNote: (m) => reviewNote(checker, m) });
  const needsReview = new Map<string, string>();
  for (const m of res.citations) {
    const note = reviewNote(checker, m);
    if (note) needsReview.set(m.id, note);
  }
  // Best effort: a read-only bank folder still answers.
  await checker.ledger.write(checker.ledger.seen(res.citations.map((m) => m.id), 'used')).catch(() => undefined);
  return { ...res, needsReview };
}
