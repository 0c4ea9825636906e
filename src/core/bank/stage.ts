// One atomic write's staging area, and the snapshot helpers the bank's folding and writing share.
import type { HistoryAction, HistoryRecord, Memory, MemorySnapshot, MemoryStatus } from '../types';
import { newId } from '../util/text';
import type { StoredRecord } from './historyLog';

/** What a Stage needs of the bank: the current memories and record allocation. */
export interface StageHost {
  get(id: string): Memory | undefined;
  allocate(partial: Partial<StoredRecord>, batchId: string): StoredRecord;
}

/** Records staged for one atomic batch, checked against state as it will be after earlier entries. */
export class Stage {
  readonly entries: { record: StoredRecord; vector?: Float32Array }[] = [];
  private readonly batchId = newId();
  private readonly overlay = new Map<string, Memory>();

  constructor(private readonly bank: StageHost) {}

  current(id: string): Memory | undefined {
    return this.overlay.get(id) ?? this.bank.get(id);
  }

  add(partial: Partial<StoredRecord> & { action: HistoryAction; memoryId: string }, vector?: Float32Array): void {
    const rec = this.bank.allocate(stripUndefined(partial), this.batchId);
    this.entries.push({ record: rec, vector });
    if (rec.after) {
      const prev = this.current(rec.memoryId);
      this.overlay.set(rec.memoryId, {
        id: rec.memoryId,
        ...rec.after,
        tags: [...rec.after.tags],
        createdAt: prev?.createdAt ?? rec.time,
        updatedAt: rec.time,
        source: prev?.source ?? rec.source ?? { kind: 'manual' },
      });
    }
  }

  /** Imported history keeps its ids, times and content; only the sequence number is ours. */
  addImported(r: HistoryRecord): void {
    const { seq: _seq, ...rest } = r;
    const rec = this.bank.allocate(stripUndefined(rest as Partial<StoredRecord>), this.batchId);
    rec.batchId = r.batchId;
    rec.opId = r.opId;
    rec.time = r.time;
    this.entries.push({ record: rec });
  }

  /** Change in active memories: each touched memory's final status against its current one (an import's history + IMPORT record count once). */
  activeDelta(): number {
    const finalStatus = new Map<string, MemoryStatus>();
    for (const e of this.entries) if (e.record.after && e.record.memoryId) finalStatus.set(e.record.memoryId, e.record.after.status);
    let d = 0;
    for (const [id, status] of finalStatus) d += Number(status === 'active') - Number(this.bank.get(id)?.status === 'active');
    return d;
  }
}

/** List order: pinned first, then newest first, then by id. */
export function listOrderCompare(a: Memory, b: Memory): number {
  return Number(b.pinned) - Number(a.pinned) || (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Keeps the sorted list current after one change: O(n) memmove instead of an O(n log n) re-sort. */
export function placeInOrder(order: Memory[], prev: Memory | undefined, next: Memory): void {
  if (prev) {
    const at = order.indexOf(prev);
    if (at >= 0) order.splice(at, 1);
  }
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (listOrderCompare(order[mid], next) < 0) lo = mid + 1;
    else hi = mid;
  }
  order.splice(lo, 0, next);
}

export function snap(m: Memory | MemorySnapshot): MemorySnapshot {
  const s: MemorySnapshot = { text: m.text, status: m.status, tags: [...m.tags], pinned: m.pinned };
  if (m.eventTime) s.eventTime = m.eventTime;
  if (m.kind) s.kind = m.kind;
  if (m.validTo) s.validTo = m.validTo;
  if (m.supersededBy) s.supersededBy = m.supersededBy;
  if (m.supersedes) s.supersedes = m.supersedes;
  return s;
}

export function sameSnapshot(a: MemorySnapshot, b: MemorySnapshot): boolean {
  return a.text === b.text && a.status === b.status && a.pinned === b.pinned && a.tags.join('\u0000') === b.tags.join('\u0000') && a.kind === b.kind;
}

export function publicRecord(r: StoredRecord): HistoryRecord {
  return r;
}

function stripUndefined<T extends object>(o: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
