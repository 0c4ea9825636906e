// The consolidation pass: the Memory Manager reads the bank the way it reads a new fact. Each active memory,
// oldest first, is put to the manager against the older memories related to it: a duplicate is retired (the
// older one, with its history, stays), an older memory it replaces is superseded by it (kept as history). The
// plan is shown before anything changes; applying it is one batch of one run, so one undo reverts the pass.
import type { MemoryEngine } from './engine';
import type { HistoryRecord, Memory, PlannedOperation } from './types';
import { newId } from './util/text';

export interface ConsolidationStep {
  kind: 'duplicate' | 'replaced';
  /** The memory that would be retired (the newer duplicate, or the older memory that was replaced). */
  retire: Memory;
  /** The memory that stays: the older original, or the newer one that replaces it. */
  keep: Memory;
  op: PlannedOperation;
}

export interface ConsolidationPlan {
  steps: ConsolidationStep[];
  /** Memories put to the manager; those whose answer could not be read are left as they are. */
  examined: number;
  unreadable: number;
  /** Stopped by cancellation before every memory was examined. */
  cancelled: boolean;
}

export async function planConsolidation(
  engine: MemoryEngine,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<ConsolidationPlan> {
  const bank = engine.bank;
  const when = (m: Memory) => m.eventTime ?? m.createdAt;
  const active = bank
    .list({ status: 'active', limit: Number.MAX_SAFE_INTEGER })
    .items.filter((m) => !m.pinned)
    .sort((a, b) => when(a).localeCompare(when(b)) || a.createdAt.localeCompare(b.createdAt));
  const planned = new Set<string>();
  const steps: ConsolidationStep[] = [];
  let examined = 0;
  let unreadable = 0;
  for (const m of active) {
    if (opts.signal?.aborted) return { steps, examined, unreadable, cancelled: true };
    if (planned.has(m.id)) continue;
    const d = await engine.consolidationDecision(m.id, planned, opts.signal);
    examined++;
    opts.onProgress?.(examined, active.length);
    if (d.verdict === 'unreadable') unreadable++;
    const other = d.target ? bank.get(d.target) : undefined;
    // A pinned memory is the user's: it is never retired by the pass.
    if (!other || other.pinned) continue;
    if (d.verdict === 'duplicate') {
      planned.add(m.id);
      steps.push({ kind: 'duplicate', retire: m, keep: other, op: { type: 'DELETE', memoryId: m.id, reason: `consolidation: the same as memory ${other.id}` } });
    } else if (d.verdict === 'replaces') {
      planned.add(other.id);
      // An UPDATE to the text an active memory already holds supersedes into that memory (no copy is made).
      steps.push({ kind: 'replaced', retire: other, keep: m, op: { type: 'UPDATE', memoryId: other.id, text: m.text, reason: `consolidation: replaced by memory ${m.id}` } });
    }
  }
  return { steps, examined, unreadable, cancelled: false };
}

/** Applies the chosen steps as one batch of one run: one undo brings every retired memory back. */
export async function applyConsolidation(engine: MemoryEngine, steps: ConsolidationStep[]): Promise<HistoryRecord[]> {
  const live = steps.filter((s) => engine.bank.get(s.retire.id)?.status === 'active' && engine.bank.get(s.keep.id)?.status === 'active');
  if (!live.length) return [];
  return engine.bank.applyBatch(
    live.map((s) => s.op),
    { source: { kind: 'manual' }, guard: 'consolidation', run: newId(), model: 'consolidation' },
  );
}
