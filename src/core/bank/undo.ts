// Undo: what a compensating write must contain to revert one operation, or everything one batch, one capture
// event or one run wrote. Pure planning over the bank's folded state; MemoryBank stages and writes the plan.
// The one place for the supersede pairing rule: an UPDATE and the SUPERSEDE it wrote in the same batch are
// one operation to the user (undone together, counted once).
import { BankError } from '../errors';
import type { HistoryRecord, Memory, MemorySnapshot } from '../types';
import type { StoredRecord } from './historyLog';
import { publicRecord, sameSnapshot, snap } from './stage';

/** What undo planning reads of the bank. */
export interface UndoHost {
  readonly records: readonly StoredRecord[];
  record(opId: string): StoredRecord | undefined;
  memory(id: string): Memory | undefined;
  recordsOf(memoryId: string): readonly StoredRecord[];
  isUndone(opId: string): boolean;
}

/** One memory's way back: from its state now, through each record to undo (newest first), to `restored`. */
export interface UndoPlan {
  now: Memory;
  steps: { t: StoredRecord; from: MemorySnapshot; to: MemorySnapshot }[];
  restored: MemorySnapshot;
}

/** What `MemoryBank.undoBatch` did. */
export interface UndoBatchResult {
  /** The UNDO records written (one per reverted record). */
  records: HistoryRecord[];
  /** Operations reverted as the user counts them: an UPDATE and the SUPERSEDE it wrote count once. */
  operations: number;
  /** Memories left as they are because they changed after the batch. */
  skipped: { opId: string; memoryId: string; reason: string }[];
}

/** The other half of a supersede: the SUPERSEDE of an UPDATE (or the UPDATE of a SUPERSEDE) in the same batch. */
export function supersedePartner(host: UndoHost, r: StoredRecord): StoredRecord | undefined {
  const partnerId = r.after?.supersededBy ?? r.after?.supersedes;
  if (!partnerId) return undefined;
  return host.recordsOf(partnerId).find((p) => p.batchId === r.batchId && p.opId !== r.opId && !host.isUndone(p.opId));
}

/** A SUPERSEDE whose replacing memory is among `ids`: the user counts it with that UPDATE, not on its own. */
export function pairedSupersede(r: HistoryRecord, ids: ReadonlySet<string>): boolean {
  return r.action === 'SUPERSEDE' && !!r.after?.supersededBy && ids.has(r.after.supersededBy);
}

/** Operations among `records` as the user counts them. */
export function countOperations(records: readonly HistoryRecord[]): number {
  const changes = records.filter((r) => r.action !== 'NOOP' && r.action !== 'UNDO' && r.after);
  const ids = new Set(changes.map((r) => r.memoryId));
  return changes.filter((r) => !pairedSupersede(r, ids)).length;
}

/** The records of a batch, or of every batch one run or one capture event wrote (`key` is any of those ids). */
export function groupRecords(host: UndoHost, key: string): StoredRecord[] {
  return host.records.filter((r) => r.batchId === key || r.run === key || (r.source?.event === key && r.action !== 'UNDO'));
}

/** The newest operation that can still be undone, if any. */
export function lastUndoable(host: UndoHost): StoredRecord | undefined {
  for (let i = host.records.length - 1; i >= 0; i--) {
    const r = host.records[i];
    if (r.action === 'NOOP' || r.action === 'UNDO' || host.isUndone(r.opId) || !r.after) continue;
    const cur = host.memory(r.memoryId);
    if (cur && sameSnapshot(snap(cur), r.after)) return r;
  }
  return undefined;
}

/**
 * What `undo` without an id reverts: everything the run (one `ingest`, one agent session) or the capture
 * event of the newest undoable operation wrote, else its batch.
 */
export function lastUndoableGroup(host: UndoHost): { key: string; kind: 'run' | 'event' | 'batch'; record: HistoryRecord } | undefined {
  const rec = lastUndoable(host);
  if (!rec) return undefined;
  const record = publicRecord(rec);
  if (rec.run) return { key: rec.run, kind: 'run', record };
  if (rec.source?.event) return { key: rec.source.event, kind: 'event', record };
  return { key: rec.batchId, kind: 'batch', record };
}

/** Plans the undo of one operation (with the other half of its supersede); throws when it cannot be undone. */
export function planUndoOne(host: UndoHost, opId: string): UndoPlan[] {
  const target = host.record(opId);
  if (!target) throw new BankError('NOT_FOUND', `No operation ${opId} in the history.`);
  if (target.action === 'NOOP') throw new BankError('INVALID_INPUT', 'A NOOP changed nothing, so there is nothing to undo.');
  if (host.isUndone(opId)) throw new BankError('CONFLICT', 'This operation was already undone.');
  const cur = host.memory(target.memoryId);
  if (!cur || !target.after || !sameSnapshot(snap(cur), target.after)) {
    throw new BankError('CONFLICT', 'The memory changed after this operation; undo the later operations first.');
  }
  const targets = [target];
  const partner = supersedePartner(host, target);
  if (partner) {
    const pcur = host.memory(partner.memoryId);
    if (!pcur || !partner.after || !sameSnapshot(snap(pcur), partner.after)) {
      throw new BankError('CONFLICT', 'The memory that superseded this one (or the one it superseded) changed since; undo the later operations first.');
    }
    targets.push(partner);
  }
  return targets.map((t) => {
    const now = host.memory(t.memoryId)!;
    const restored: MemorySnapshot = t.before ?? { ...t.after!, status: 'deleted' };
    return { now, steps: [{ t, from: snap(now), to: restored }], restored };
  });
}

/**
 * Plans the undo of a group (batch, event or run): each memory it touched goes back to its state before the
 * group. A memory changed since is left as it is and listed in `skipped`; throws when nothing can be reverted.
 */
export function planUndoGroup(host: UndoHost, key: string): { plans: UndoPlan[]; skipped: UndoBatchResult['skipped']; operations: number } {
  const inGroup = groupRecords(host, key);
  if (!inGroup.length) throw new BankError('NOT_FOUND', `No batch ${key} in the history.`);
  // Per memory, the group's records that changed it and are not undone yet, in order.
  const byMemory = new Map<string, StoredRecord[]>();
  for (const r of inGroup) {
    if (r.action === 'NOOP' || r.action === 'UNDO' || !r.after || host.isUndone(r.opId)) continue;
    let list = byMemory.get(r.memoryId);
    if (!list) byMemory.set(r.memoryId, (list = []));
    list.push(r);
  }
  if (!byMemory.size) throw new BankError('CONFLICT', 'This batch was already undone (or changed nothing).');
  const plans: UndoPlan[] = [];
  const skipped: UndoBatchResult['skipped'] = [];
  for (const [memoryId, recs] of byMemory) {
    const now = host.memory(memoryId);
    const last = recs[recs.length - 1];
    if (!now || !sameSnapshot(snap(now), last.after!)) {
      skipped.push({ opId: last.opId, memoryId, reason: 'the memory changed after this batch' });
      continue;
    }
    // Newest first, each UNDO compensating one record: the history then marks every record undone.
    const steps: UndoPlan['steps'] = [];
    let cur = snap(now);
    for (const t of [...recs].reverse()) {
      const to: MemorySnapshot = t.before ?? { ...t.after!, status: 'deleted' };
      steps.push({ t, from: cur, to });
      cur = to;
    }
    plans.push({ now, steps, restored: cur });
  }
  if (!plans.length) throw new BankError('CONFLICT', 'Every memory of this batch changed since; undo the later operations first.');
  const reverted = new Set(plans.map((p) => p.now.id));
  const operations = plans.reduce((n, p) => n + p.steps.filter((st) => !pairedSupersede(st.t, reverted)).length, 0);
  return { plans, skipped, operations };
}
