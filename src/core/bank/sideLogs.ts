// The bank's side logs: chat feedback, training trajectories, the evidence ledger and the batches held back
// by the destructive-run guard. They sit beside the history, not in it: nothing here changes a memory
// except approving a held batch, which goes through the bank's own atomic write (`apply`).
import type { Feedback } from '../api';
import { BankError } from '../errors';
import { type PrivacyBoundary, type RedactionCounts, addCounts, countTotal } from '../privacy/boundary';
import type { BatchContext, HistoryRecord, PlannedOperation } from '../types';
import { newId, nowIso } from '../util/text';
import { redactBatch } from './redaction';
import type { BankStorage } from './storage';

/** A batch held back by the destructive-run guard until the user approves it. */
export interface PendingBatch {
  id: string;
  ops: PlannedOperation[];
  ctx: BatchContext;
  reason: string;
  time: string;
}

export interface SideLogsHost {
  readonly storage: BankStorage;
  readonly privacy: PrivacyBoundary;
  /** Applies operations as one atomic batch (MemoryBank.applyBatch). */
  apply(ops: PlannedOperation[], ctx: BatchContext): Promise<HistoryRecord[]>;
  /** Tells the bank's listeners that something changed. */
  changed(records: HistoryRecord[]): void;
}

export class SideLogs {
  private feedbackCache: Feedback[] | undefined;

  constructor(private readonly host: SideLogsHost) {}

  async recordFeedback(f: Feedback): Promise<void> {
    if (!f || typeof f.answerId !== 'string' || (f.kind !== 'helpful' && f.kind !== 'unhelpful')) {
      throw new BankError('INVALID_INPUT', 'Feedback needs an answer id and a kind.');
    }
    const p = this.host.privacy;
    const entry: Feedback = { ...f, question: p.optional(f.question), answer: p.optional(f.answer), time: f.time ?? nowIso() };
    if (entry.question === undefined) delete entry.question;
    if (entry.answer === undefined) delete entry.answer;
    await this.host.storage.withLock((tx) => tx.appendSide('feedback', entry));
    this.feedbackCache?.push(entry);
  }

  feedback(): Feedback[] {
    if (!this.feedbackCache) this.feedbackCache = this.host.storage.sideLog<Feedback>('feedback');
    return [...this.feedbackCache];
  }

  async recordTrajectory(entry: Record<string, unknown>): Promise<void> {
    const counts: RedactionCounts = {};
    const clean = this.host.privacy.deep(entry, counts);
    const prior = (entry.redactions ?? undefined) as RedactionCounts | undefined;
    if (countTotal(counts) || prior) clean.redactions = addCounts({ ...(prior ?? {}) }, counts);
    await this.host.storage.withLock((tx) => tx.appendSide('trajectories', { time: nowIso(), ...clean }));
  }

  trajectories(): Record<string, unknown>[] {
    return this.host.storage.sideLog<Record<string, unknown>>('trajectories');
  }

  /**
   * Appends entries of the evidence ledger (src/core/evidence/ledger.ts) under one lock. Paths and manifest
   * values pass the privacy boundary like any text: a dependency URL can carry a token.
   */
  async appendEvidence(entries: Record<string, unknown>[]): Promise<void> {
    if (!entries.length) return;
    const clean = entries.map((e) => this.host.privacy.deep(e));
    await this.host.storage.withLock(async (tx) => {
      for (const e of clean) await tx.appendSide('evidence', e);
    });
    // The panel and the tools show flags: a change of them is a change of the bank for its listeners.
    this.host.changed([]);
  }

  evidence<T>(): T[] {
    return this.host.storage.sideLog<T>('evidence');
  }

  async holdBatch(rawOps: PlannedOperation[], rawCtx: BatchContext, reason: string): Promise<PendingBatch> {
    const { ops, ctx, counts } = redactBatch(this.host.privacy, rawOps, rawCtx);
    const batch: PendingBatch = { id: newId(), ops, ctx: { ...ctx, redactions: countTotal(counts) ? counts : undefined }, reason: this.host.privacy.text(reason), time: nowIso() };
    await this.host.storage.withLock(async (tx) => {
      const all = (await tx.readDoc<PendingBatch[]>('pending')) ?? [];
      all.push(batch);
      await tx.writeDoc('pending', all);
    });
    this.host.changed([]);
    return batch;
  }

  pendingBatches(): PendingBatch[] {
    const all = this.host.storage.sideDoc<PendingBatch[]>('pending');
    return Array.isArray(all) ? all : [];
  }

  /**
   * Approves (applies) or rejects a held batch. The batch is claimed under the lock first, so two
   * windows approving at once apply it once; if applying fails, it goes back to the pending list.
   */
  async resolvePending(id: string, approve: boolean): Promise<HistoryRecord[]> {
    const storage = this.host.storage;
    const batch = await storage.withLock(async (tx) => {
      const all = (await tx.readDoc<PendingBatch[]>('pending')) ?? [];
      const found = all.find((b) => b.id === id);
      if (found) await tx.writeDoc('pending', all.filter((b) => b.id !== id));
      return found;
    });
    if (!batch) throw new BankError('NOT_FOUND', 'That held batch no longer exists.');
    let recs: HistoryRecord[] = [];
    if (approve) {
      try {
        recs = await this.host.apply(batch.ops, batch.ctx);
      } catch (err) {
        await storage.withLock(async (tx) => {
          const all = (await tx.readDoc<PendingBatch[]>('pending')) ?? [];
          await tx.writeDoc('pending', [...all, batch]);
        });
        this.host.changed([]);
        throw err;
      }
    }
    this.host.changed(recs);
    return recs;
  }
}
