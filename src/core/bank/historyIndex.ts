// The history as the bank reads it: every record in order, by memory, by operation id, and which
// operations were undone. Built while folding the history, or (a bank opened from its snapshot) on the
// first read that needs it: the records before the snapshot are read then, those after it were kept.
import type { StoredRecord } from './historyLog';

export class HistoryIndex {
  readonly records: StoredRecord[] = [];
  private readonly byMemory = new Map<string, StoredRecord[]>();
  private readonly byOpId = new Map<string, StoredRecord>();
  /** opId -> the UNDO record's opId that compensated it. */
  private readonly undoneBy = new Map<string, string>();

  has(opId: string): boolean {
    return this.byOpId.has(opId);
  }

  add(r: StoredRecord): void {
    this.records.push(r);
    this.byOpId.set(r.opId, r);
    if (r.action === 'UNDO' && r.undoes) this.undoneBy.set(r.undoes, r.opId);
    if (r.memoryId) {
      let list = this.byMemory.get(r.memoryId);
      if (!list) this.byMemory.set(r.memoryId, (list = []));
      list.push(r);
    }
  }

  record(opId: string): StoredRecord | undefined {
    return this.byOpId.get(opId);
  }

  recordsOf(memoryId: string): readonly StoredRecord[] {
    return this.byMemory.get(memoryId) ?? [];
  }

  isUndone(opId: string): boolean {
    return this.undoneBy.has(opId);
  }
}
