import type {
  BankChange,
  Disposable,
  Feedback,
  ListQuery,
  ListResult,
  ManualAddOptions,
} from '../api';
import type {
  BatchContext,
  HistoryAction,
  HistoryRecord,
  Memory,
  MemorySnapshot,
  MemoryStatus,
  PlannedOperation,
  SearchHit,
  SearchOptions,
  SourceRef,
} from '../types';
import type { Embedder } from '../embeddings/embedder';
import { BankError } from '../errors';
import { yieldToEventLoop } from '../util/steps';
import { kindMatches, type MemoryKind } from '../kinds';
import { newId, nowIso, textHash } from '../util/text';
import type { StoredRecord } from './historyLog';
import type { VectorEntry } from './vectorLog';
import { SearchIndex } from './searchIndex';
import { HistoryIndex } from './historyIndex';
import { type FoldedState, readMatchingSnapshot, writeCheckedSnapshot } from './snapshot';
import { Stage, listOrderCompare, placeInOrder, publicRecord, sameSnapshot, snap } from './stage';
import { type PendingBatch, SideLogs } from './sideLogs';
import { DEFAULT_SOURCE_LIMITS, type SourceEvent, type SourceLimits, SourceStore } from './sources';
import { type UndoBatchResult, type UndoHost, type UndoPlan, countOperations, groupRecords, lastUndoable, lastUndoableGroup, planUndoGroup, planUndoOne } from './undo';
import { createStorage, type BankStorage, type StorageOption, type StorageTx } from './storage';
import { type BankBundle, parseBundle } from './bundle';
import { redactBatch, redactBundle } from './redaction';
import { makeBundle, renderMarkdown } from './export';
import { DEFAULT_LIMITS as PRIVACY_LIMITS } from '../privacy/limits';
import { PrivacyBoundary, addCounts, countTotal, redactRecord, redactSource, type RedactionCounts, type RedactionMode } from '../privacy/boundary';

/** A source without the capture event's id (bookkeeping for the history, not part of a memory). */
function withoutEvent(s: SourceRef | undefined): SourceRef | undefined {
  if (!s?.event) return s;
  const { event: _event, ...rest } = s;
  return rest;
}

const sourceKey = (s: SourceRef): string => `${s.kind}\u0000${s.ref ?? ''}`;

/** Records (or vectors) applied between turns of the event loop while a bank opens. */
const LOAD_SLICE = 1000;
/** Below this many history records a bank opens fast from its history alone and keeps no snapshot. */
const SNAPSHOT_MIN_RECORDS = 2000;
/** A snapshot this many records behind the history at open is written again. */
const SNAPSHOT_STALE_RECORDS = 500;

export type { BankBundle } from './bundle';

export interface BankLimits {
  maxMemoryChars: number;
  maxMemories: number;
}

export interface MemoryBankOptions {
  embedder: Embedder;
  /** Who writes (user name); stored in the source of manual records. */
  actor?: string;
  limits?: Partial<BankLimits>;
  /** Poll the history file for other processes' writes (ms; 0 disables). */
  watchIntervalMs?: number;
  /** Where the bank lives: files in the folder (default), or a postgres database shared by a team. */
  storage?: StorageOption;
  /**
   * Keep a snapshot of the folded state (bank/snapshot.ts) once the history holds this many records
   * (default 2000; 0 always, Infinity never). The file store only.
   */
  snapshotMinRecords?: number;
  /** Caps on the source events kept for provenance (bank/sources.ts). */
  sourceLimits?: Partial<SourceLimits>;
  /**
   * Secrets in every text that enters the bank are redacted (`'on'`, the default). Only the exact value
   * `'off'` stores raw text: the documented per-bank opt-out (`memory-r1 --no-redaction`).
   */
  redaction?: RedactionMode;
}

/** What opening the bank found and repaired; shown to the user when not empty. */
export interface RecoveryReport {
  corruptRecords: number;
  tornBytes: number;
  missingVectors: number;
  messages: string[];
}

export type { UndoBatchResult } from './undo';
export type { PendingBatch } from './sideLogs';

const DEFAULT_BANK_LIMITS: BankLimits = { maxMemoryChars: PRIVACY_LIMITS.maxMemoryChars, maxMemories: PRIVACY_LIMITS.maxBankMemories };

/**
 * One workspace's memory bank. The history log is the source of truth: every change is appended
 * (and fsynced) there first, then applied to the in-memory state in one synchronous step, so readers
 * never see half a batch. Vectors live in an append-only slot file; search runs on an in-memory
 * contiguous Float32Array plus an incremental BM25 index.
 */
export class MemoryBank {
  private memories = new Map<string, Memory>();
  private vectorCursor = 0;
  /** The history by memory and operation; built on first use when the bank opened from its snapshot. */
  private historyIndex: HistoryIndex | undefined = new HistoryIndex();
  /** Records folded while `historyIndex` is not built (those after the snapshot), and their ids. */
  private laterRecords: StoredRecord[] = [];
  private laterIds = new Set<string>();
  /** The history cursor the snapshot used at open covers (0: opened from the history alone). */
  private snapshotOffset = 0;
  /** The cursor of the snapshot on disk known to match this bank's history, if any. */
  private savedSnapshotAt: number | undefined;
  /** Damage found in the history before the snapshot (reported on every open, as without one). */
  private prefixDamage: FoldedState['damage'] = { corruptLines: 0, corruptRecords: 0, reasons: [], rejoined: 0 };
  /** Memory id → the capture event that wrote its current text. */
  private eventOf = new Map<string, string>();
  private activeCount = 0;
  /** All memories in list order (pinned first, newest first); rebuilt lazily after a change. */
  private listOrder: Memory[] | undefined;
  private hashToId = new Map<string, string>();
  /** Each memory's text hash, computed once per text (open hashes 100k texts otherwise twice). */
  private hashOf = new Map<string, string>();
  private readonly index: SearchIndex;
  /** "kind\0ref" → the first capture event that wrote records for that source (see BatchContext.exclusive). */
  private eventBySource = new Map<string, string>();
  private offset = 0;
  private nextSeq = 1;
  private listeners = new Set<(e: BankChange) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly storage: BankStorage;
  private readonly limits: BankLimits;
  private watchTimer: NodeJS.Timeout | undefined;
  /** Feedback, trajectories and batches held for approval: beside the history, not in it (bank/sideLogs.ts). */
  readonly side: SideLogs;
  /** The capture events memories came from (provenance), beside the history (bank/sources.ts). */
  readonly sources: SourceStore;
  readonly recovery: RecoveryReport = { corruptRecords: 0, tornBytes: 0, missingVectors: 0, messages: [] };
  /** The privacy boundary every text entering this bank (and its engine) passes. */
  readonly privacy: PrivacyBoundary;

  private constructor(
    readonly folder: string,
    private readonly opts: MemoryBankOptions,
    storage: BankStorage,
  ) {
    this.storage = storage;
    this.index = new SearchIndex(opts.embedder.dimensions, !!opts.embedder.lexical);
    this.limits = { ...DEFAULT_BANK_LIMITS, ...opts.limits };
    this.privacy = new PrivacyBoundary(opts.redaction);
    this.side = new SideLogs({ storage, privacy: this.privacy, apply: (ops, ctx) => this.applyBatch(ops, ctx), changed: (records) => this.emit({ records }) });
    this.sources = new SourceStore({ storage, privacy: this.privacy, citedEvents: () => this.citedEvents() }, { ...DEFAULT_SOURCE_LIMITS, ...opts.sourceLimits });
  }

  /**
   * Opens (creating if needed) the bank in `folder`, or with `opts.storage` the postgres bank
   * `{ kind: 'postgres', url, bankId }` (then `folder` is only a label).
   */
  static async open(folder: string, opts: MemoryBankOptions): Promise<MemoryBank> {
    const storage = await createStorage(folder, opts.storage, `vectors-${safeName(opts.embedder.id)}.bin`);
    const bank = new MemoryBank(folder, opts, storage);
    try {
      await storage.init({ embedder: opts.embedder.id, dimensions: opts.embedder.dimensions });
      await bank.load();
    } catch (err) {
      await storage.close().catch(() => undefined);
      throw err;
    }
    const interval = opts.watchIntervalMs ?? 1000;
    if (interval > 0) bank.startWatching(interval);
    return bank;
  }

  get size(): number {
    return this.memories.size;
  }

  /** How the last open built the state: from the saved snapshot (and the records after it), or the whole history. */
  get openedFrom(): 'snapshot' | 'history' {
    return this.snapshotOffset > 0 ? 'snapshot' : 'history';
  }

  get embedder(): Embedder {
    return this.opts.embedder;
  }

  /** Which store holds the bank, and where (a folder, or the database URL without password). */
  get storageInfo(): { kind: 'file' | 'postgres'; location: string } {
    return { kind: this.storage.kind, location: this.storage.location };
  }

  // ---------------------------------------------------------------- reading

  get(id: string): Memory | undefined {
    const m = this.memories.get(id);
    return m && { ...m, tags: [...m.tags] };
  }

  /** Finds an active memory whose normalized text equals `text`. */
  findDuplicate(text: string): Memory | undefined {
    const id = this.hashToId.get(textHash(this.privacy.text(text)));
    return id ? this.get(id) : undefined;
  }

  list(q: ListQuery = {}): ListResult {
    const counts: Record<MemoryStatus, number> = { active: 0, superseded: 0, deleted: 0 };
    const needle = q.text?.toLowerCase().trim();
    const status = q.status ?? 'active';
    const matches: Memory[] = [];
    // Sorting 100k memories on every call costs ~100 ms; the order only changes with a write.
    this.listOrder ??= [...this.memories.values()].sort(listOrderCompare);
    for (const m of this.listOrder) {
      counts[m.status]++;
      if (status !== 'all' && m.status !== status) continue;
      if (q.pinned !== undefined && m.pinned !== q.pinned) continue;
      if (q.tag && !m.tags.includes(q.tag)) continue;
      if (q.sourceKind && m.source.kind !== q.sourceKind) continue;
      if (!kindMatches(m.kind, q.kinds)) continue;
      if (needle && !m.text.toLowerCase().includes(needle) && !m.tags.some((t) => t.toLowerCase().includes(needle))) continue;
      matches.push(m);
    }
    const offset = Math.max(0, q.offset ?? 0);
    const limit = Math.max(0, q.limit ?? matches.length);
    return { items: matches.slice(offset, offset + limit).map((m) => ({ ...m, tags: [...m.tags] })), total: matches.length, counts };
  }

  history(memoryId?: string): HistoryRecord[] {
    const recs = memoryId === undefined ? this.history_.records : this.history_.recordsOf(memoryId);
    return recs.map(publicRecord);
  }

  /** The capture event that wrote this memory's current text (records carry it; the memory's source does not). */
  sourceEvent(memoryId: string): string | undefined {
    return this.eventOf.get(memoryId);
  }

  /**
   * Where a memory came from: the kept capture events of its records (the one that wrote its text first,
   * then those that restated it), oldest first. Empty for manual memories and events dropped by the cap.
   */
  sourcesOf(memoryId: string): SourceEvent[] {
    const events = new Set<string>();
    const current = this.eventOf.get(memoryId);
    if (current) events.add(current);
    for (const r of this.history(memoryId)) if (r.source?.event) events.add(r.source.event);
    return [...events].map((e) => this.sources.get(e)).filter((s): s is SourceEvent => !!s);
  }

  /** The source event that wrote a memory's current text, if kept (one lookup: the Answer Agent's excerpts). */
  sourceOf(memoryId: string): SourceEvent | undefined {
    return this.sources.get(this.eventOf.get(memoryId));
  }

  private citedEvents(): Set<string> {
    const cited = new Set<string>();
    for (const [id, e] of this.eventOf) if (this.memories.get(id)?.status !== 'deleted') cited.add(e);
    return cited;
  }

  record(opId: string): HistoryRecord | undefined {
    const r = this.history_.record(opId);
    return r && publicRecord(r);
  }

  async search(query: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    const topK = opts.topK ?? 10;
    query = this.privacy.text(query);
    if (!query.trim() || this.memories.size === 0 || topK <= 0) return [];
    const [qv] = await this.opts.embedder.embed([query], opts.signal);
    const tagSet = opts.tags?.length ? new Set(opts.tags) : undefined;
    const accept = (id: string): boolean => {
      const m = this.memories.get(id);
      if (!m) return false;
      if (!opts.includeInactive && m.status !== 'active' && !(opts.includeSuperseded && m.status === 'superseded')) return false;
      return (!tagSet || m.tags.some((t) => tagSet.has(t))) && kindMatches(m.kind, opts.kinds);
    };
    return this.index.search(query, qv, topK, accept).map((f) => ({ memory: this.get(f.id)!, score: f.score }));
  }

  /** Dense-only search, exposed for benchmarks and for the manager's candidate retrieval. */
  async searchDense(query: string, topK: number, signal?: AbortSignal): Promise<SearchHit[]> {
    const [qv] = await this.opts.embedder.embed([this.privacy.text(query)], signal);
    return this.index
      .searchDense(qv, topK, (id) => this.memories.get(id)?.status === 'active')
      .map((h) => ({ memory: this.get(h.id)!, score: h.score }));
  }

  /** BM25-only search over active memories, exposed for benchmarks. */
  searchLexical(query: string, topK: number): SearchHit[] {
    query = this.privacy.text(query);
    return this.index
      .searchLexical(query, topK, (id) => this.memories.get(id)?.status === 'active')
      .map((h) => ({ memory: this.get(h.id)!, score: h.score }));
  }

  onDidChange(listener: (e: BankChange) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  // ---------------------------------------------------------------- writing

  /** Applies the manager's operations as one atomic batch. Ids must name existing memories. */
  async applyBatch(rawOps: PlannedOperation[], rawCtx: BatchContext): Promise<HistoryRecord[]> {
    // An event's text is kept once: the other facts of the event do not redact it again.
    if (rawCtx.origin && this.sources.has(rawCtx.source?.event ?? '')) rawCtx = { ...rawCtx, origin: undefined };
    const { ops, ctx, counts } = redactBatch(this.privacy, rawOps, rawCtx);
    for (const op of ops) {
      if ((op.type === 'ADD' || op.type === 'UPDATE') && !op.text?.trim()) {
        throw new BankError('INVALID_INPUT', `${op.type} needs a non-empty text.`);
      }
      if (op.type !== 'ADD' && !op.memoryId && op.type !== 'NOOP') throw new BankError('INVALID_INPUT', `${op.type} needs a memory id.`);
      this.checkText(op.text);
    }
    const origin = ctx.origin && ctx.source?.event ? this.sources.prepare({ ...ctx.source, event: ctx.source.event, time: ctx.origin.time, text: ctx.origin.text }) : undefined;
    return this.write(async () => {
      const texts = ops.filter((o) => o.type === 'ADD' || o.type === 'UPDATE').map((o) => o.text!.trim());
      const vecs = await this.opts.embedder.embed(texts);
      return (stage) => {
        // Under the lock, caught up with other processes: a claim by another window is visible here.
        const claimedBy = ctx.exclusive && ctx.source?.ref && ctx.source.event ? this.eventBySource.get(sourceKey(ctx.source)) : undefined;
        if (claimedBy && claimedBy !== ctx.source!.event) {
          throw new BankError('DUPLICATE', `This ${ctx.source!.kind} (${ctx.source!.ref}) was already captured, by another window on this workspace.`);
        }
        let vi = 0;
        const seen = new Set<string>();
        // One text is stored once: an ADD of a text an active memory (or this batch) already holds is a NOOP on it.
        const holder = new Map<string, string>();
        const holderOf = (text: string): string | undefined => {
          const h = textHash(text);
          const id = holder.get(h) ?? this.hashToId.get(h);
          return id && stage.current(id)?.status === 'active' ? id : undefined;
        };
        for (const op of ops) {
          if (op.memoryId) {
            if (seen.has(op.memoryId)) throw new BankError('INVALID_INPUT', `Two operations in one batch touch memory ${op.memoryId}.`);
            seen.add(op.memoryId);
          }
          const base = { fact: ctx.fact, candidates: ctx.candidates, model: ctx.model, source: ctx.source, reason: op.reason, redactions: op === ops[0] ? counts : undefined, guard: ctx.guard, run: ctx.run };
          if (op.type === 'ADD') {
            const vec = vecs[vi++];
            const same = holderOf(op.text!);
            if (same) {
              stage.add({ ...base, action: 'NOOP', memoryId: same, reason: `already held by memory ${same}` });
              continue;
            }
            const id = newId();
            stage.add({ ...base, action: 'ADD', memoryId: id, after: { text: op.text!.trim(), status: 'active', tags: op.tags ?? [], pinned: false, eventTime: ctx.eventTime, ...(op.kind ? { kind: op.kind } : {}) } }, vec);
            holder.set(textHash(op.text!), id);
            continue;
          }
          if (op.type === 'NOOP') {
            stage.add({ ...base, action: 'NOOP', memoryId: op.memoryId ?? '' });
            continue;
          }
          const cur = stage.current(op.memoryId!);
          if (!cur) throw new BankError('CONFLICT', `Memory ${op.memoryId} does not exist.`);
          if (cur.status !== 'active') throw new BankError('CONFLICT', `Memory ${op.memoryId} is ${cur.status}; it changed since the manager saw it.`);
          if (op.type === 'UPDATE') {
            // An update supersedes: the old memory stays (searchable, with the time it stopped being
            // true) and a new memory holds the new text; both records share the batch, undo reverts both.
            const vec = vecs[vi++];
            const validTo = ctx.eventTime ?? nowIso();
            const same = holderOf(op.text!);
            if (same === cur.id) {
              stage.add({ ...base, action: 'NOOP', memoryId: cur.id, reason: 'the update repeats the memory' });
              continue;
            }
            if (same) {
              // The new text is already another active memory: the old one is superseded by that one, not copied.
              stage.add({ ...base, action: 'SUPERSEDE', memoryId: cur.id, before: snap(cur), after: { ...snap(cur), status: 'superseded', validTo, supersededBy: same } });
              continue;
            }
            const id = newId();
            holder.set(textHash(op.text!), id);
            stage.add({ ...base, action: 'SUPERSEDE', memoryId: cur.id, before: snap(cur), after: { ...snap(cur), status: 'superseded', validTo, supersededBy: id } });
            const after: MemorySnapshot = { text: op.text!.trim(), status: 'active', tags: op.tags ?? cur.tags, pinned: cur.pinned, supersedes: cur.id };
            const kind = op.kind ?? cur.kind;
            if (kind) after.kind = kind;
            const eventTime = ctx.eventTime ?? (cur.eventTime ? validTo : undefined);
            if (eventTime) after.eventTime = eventTime;
            stage.add({ ...base, action: 'UPDATE', memoryId: id, after }, vec);
          } else {
            stage.add({ ...base, action: 'DELETE', memoryId: cur.id, before: snap(cur), after: { ...snap(cur), status: 'deleted' } });
          }
        }
      };
    }, origin);
  }

  async addManual(text: string, opts: ManualAddOptions = {}): Promise<HistoryRecord> {
    const counts: RedactionCounts = {};
    const clean = this.privacy.text(text.trim(), counts);
    const tags = opts.tags?.map((t) => this.privacy.text(t, counts));
    const source = redactSource(this.privacy, opts.source, counts);
    if (!clean) throw new BankError('INVALID_INPUT', 'A memory needs some text.');
    this.checkText(clean);
    const [rec] = await this.write(async () => {
      const [vec] = await this.opts.embedder.embed([clean]);
      return (stage) => {
        stage.add(
          {
            action: 'ADD',
            memoryId: newId(),
            source: source ?? { kind: 'manual', actor: this.opts.actor },
            reason: 'added by hand',
            after: { text: clean, status: 'active', tags: tags ?? [], pinned: !!opts.pinned, ...(opts.kind ? { kind: opts.kind } : {}) },
            redactions: countTotal(counts) ? counts : undefined,
          },
          vec,
        );
      };
    });
    return rec;
  }

  async edit(id: string, text: string): Promise<HistoryRecord> {
    const counts: RedactionCounts = {};
    const clean = this.privacy.text(text.trim(), counts);
    if (!clean) throw new BankError('INVALID_INPUT', 'A memory cannot be empty; delete it instead.');
    this.checkText(clean);
    return this.changeOne(id, 'EDIT', (m) => ({ ...snap(m), text: clean }), 'edited by hand', true, counts);
  }

  delete(id: string, reason = 'deleted by hand'): Promise<HistoryRecord> {
    reason = this.privacy.text(reason);
    return this.changeOne(id, 'DELETE', (m) => {
      if (m.status === 'deleted') throw new BankError('CONFLICT', 'This memory is already deleted.');
      return { ...snap(m), status: 'deleted' };
    }, reason);
  }

  restore(id: string): Promise<HistoryRecord> {
    return this.changeOne(id, 'RESTORE', (m) => {
      if (m.status === 'active') throw new BankError('CONFLICT', 'This memory is already active.');
      const { validTo: _v, supersededBy: _s, ...rest } = snap(m);
      return { ...rest, status: 'active' };
    }, 'restored by hand');
  }

  setPinned(id: string, pinned: boolean): Promise<HistoryRecord> {
    return this.changeOne(id, pinned ? 'PIN' : 'UNPIN', (m) => ({ ...snap(m), pinned }), pinned ? 'pinned' : 'unpinned');
  }

  /** Relabels a memory by hand (extraction's label was wrong, or an older memory had none). */
  setKind(id: string, kind: MemoryKind | undefined): Promise<HistoryRecord> {
    return this.changeOne(id, 'EDIT', (m) => {
      const { kind: _k, ...rest } = snap(m);
      return kind ? { ...rest, kind } : rest;
    }, kind ? `kind set to ${kind}` : 'kind cleared', false);
  }

  setTags(id: string, tags: string[]): Promise<HistoryRecord> {
    const counts: RedactionCounts = {};
    const clean = [...new Set(tags.map((t) => this.privacy.text(t.trim(), counts)).filter(Boolean))];
    return this.changeOne(id, 'EDIT', (m) => ({ ...snap(m), tags: clean }), 'tags edited', false, counts);
  }

  /**
   * Reverts one operation by appending a compensating record (with the other half of a supersede).
   * Refused when the memory changed since, so an undo never silently discards a later change.
   */
  async undo(opId: string, source?: SourceRef): Promise<HistoryRecord[]> {
    // Who asked for the undo (an agent's tool call names itself); by default the bank's user.
    const by: SourceRef = source ? redactSource(this.privacy, source, {}) : { kind: 'manual', actor: this.opts.actor };
    return this.write(async () => this.stageUndo(planUndoOne(this.undoHost, opId), by));
  }

  /**
   * Reverts every operation of one batch (a manager run, "clear", an import), or of every batch one
   * capture event or one run wrote (`batchId` may be a batch id, an event id or a run id), in one
   * atomic write: each memory touched goes back to its state before. A memory changed since is left as
   * it is and reported in `skipped`; when no memory can be reverted, nothing is written and the call fails.
   */
  async undoBatch(batchId: string): Promise<UndoBatchResult> {
    let planned: ReturnType<typeof planUndoGroup> | undefined;
    const records = await this.write(async () => {
      planned = planUndoGroup(this.undoHost, batchId);
      return this.stageUndo(planned.plans, { kind: 'manual', actor: this.opts.actor });
    });
    return { records, skipped: planned!.skipped, operations: planned!.operations };
  }

  /** Operations in a batch (or event, or run) that changed memories, as the user counts them; the panel offers `undoBatch` where there is more than one. */
  batchOperations(batchId: string): number {
    return countOperations(groupRecords(this.undoHost, batchId));
  }

  /** What `undo` without an id reverts: the last run's, capture event's or batch's operations. */
  lastUndoableGroup(): { key: string; kind: 'run' | 'event' | 'batch'; record: HistoryRecord } | undefined {
    return lastUndoableGroup(this.undoHost);
  }

  /** The newest operation that can still be undone, if any. */
  lastUndoable(): HistoryRecord | undefined {
    const r = lastUndoable(this.undoHost);
    return r && publicRecord(r);
  }

  /** What undo planning reads of this bank. */
  private get undoHost(): UndoHost {
    const h = this.history_;
    return {
      records: h.records,
      record: (opId) => h.record(opId),
      memory: (id) => this.memories.get(id),
      recordsOf: (id) => h.recordsOf(id),
      isUndone: (opId) => h.isUndone(opId),
    };
  }

  /**
   * The history index, built now if the bank opened from its snapshot: the records before it are read
   * from the store at once (seconds at 100k records; only history, undo and import need them).
   */
  private get history_(): HistoryIndex {
    if (this.historyIndex) return this.historyIndex;
    const idx = new HistoryIndex();
    const before = this.storage.snapshots!.readRecordsBefore(this.snapshotOffset);
    for (const r of before.records) {
      if (idx.has(r.opId)) continue;
      this.shareTexts(r, r.memoryId ? this.memories.get(r.memoryId) : undefined);
      idx.add(r);
    }
    for (const r of this.laterRecords) if (!idx.has(r.opId)) idx.add(r);
    this.historyIndex = idx;
    this.laterRecords = [];
    this.laterIds.clear();
    return idx;
  }

  /**
   * The compensating records of an undo plan: embeds restored texts outside the lock, then stages one UNDO
   * per reverted record, re-checked under the lock (another window may have changed a memory meanwhile).
   */
  private async stageUndo(plans: UndoPlan[], by: SourceRef): Promise<(stage: Stage) => void> {
    const changed = plans.filter((p) => p.restored.text !== p.now.text);
    const vecs = await this.opts.embedder.embed(changed.map((p) => p.restored.text));
    const vecOf = new Map(changed.map((p, i) => [p.now.id, vecs[i]]));
    return (stage) => {
      for (const p of plans) {
        const cur = stage.current(p.now.id);
        if (!cur || !sameSnapshot(snap(cur), p.steps[0].from)) throw new BankError('CONFLICT', 'A memory changed while undoing it; try again.');
        p.steps.forEach((st, i) => {
          stage.add(
            { action: 'UNDO', memoryId: p.now.id, before: st.from, after: st.to, undoes: st.t.opId, reason: `undo ${st.t.action}`, source: by },
            i === p.steps.length - 1 ? vecOf.get(p.now.id) : undefined,
          );
        });
      }
    };
  }

  /** Soft-deletes every active memory in one batch; undoable per memory, history kept. */
  async clear(): Promise<number> {
    const recs = await this.write(async () => (stage) => {
      for (const m of this.memories.values()) {
        if (m.status !== 'active') continue;
        stage.add({ action: 'DELETE', memoryId: m.id, before: snap(m), after: { ...snap(m), status: 'deleted' }, reason: 'bank cleared', source: { kind: 'manual', actor: this.opts.actor } });
      }
    });
    return recs.length;
  }

  /**
   * Re-embeds every memory with the current embedder and rebuilds the search indexes. New vectors
   * are appended (old slots stay, unused), so a cancelled rebuild leaves a working bank.
   */
  async rebuildIndex(opts: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal; batchSize?: number } = {}): Promise<number> {
    const all = [...this.memories.values()];
    const batch = opts.batchSize ?? 64;
    for (let i = 0; i < all.length; i += batch) {
      opts.signal?.throwIfAborted();
      const chunk = all.slice(i, i + batch);
      const vecs = await this.opts.embedder.embed(chunk.map((m) => m.text), opts.signal);
      const entries = chunk.map((m, j) => ({ memoryId: m.id, textHash: textHash(m.text), vector: vecs[j] }));
      await this.appendVectors(entries);
      opts.onProgress?.(Math.min(i + batch, all.length), all.length);
    }
    this.index.rebuildLexical(this.memories.values());
    this.emit({ records: [] });
    return all.length;
  }

  // ---------------------------------------------------------------- export / import

  /** The whole bank with its history, feedback and evidence, as `importBundle` reads it again. */
  exportBundle(): BankBundle {
    return makeBundle(this.opts.embedder.id, this.memories.values(), this.history(), this.side.feedback(), this.side.evidence<Record<string, unknown>>(), this.sources.all());
  }

  /** A readable list of the memories by status, and the history. */
  toMarkdown(): string {
    return renderMarkdown([...this.memories.values()], this.history_.records);
  }

  /**
   * Imports a bundle made by `exportBundle`. The whole input is validated first; a malformed file is
   * refused with the reason and the bank is not touched. `replace` soft-deletes current memories
   * first (undoable); memories whose id already exists are skipped in `merge`.
   */
  async importBundle(data: unknown, mode: 'merge' | 'replace'): Promise<{ imported: number; skipped: number; dropped: string[] }> {
    const bundle = redactBundle(this.privacy, parseBundle(data));
    for (const m of bundle.memories) this.checkText(m.text);
    for (const r of bundle.history) for (const t of [r.before?.text, r.after?.text, r.fact]) this.checkText(t);
    let imported = 0;
    let skipped = 0;
    await this.write(async () => {
      const incoming = bundle.memories.filter((m) => !this.memories.has(m.id));
      skipped = bundle.memories.length - incoming.length;
      const vecs = await this.opts.embedder.embed(incoming.map((m) => m.text));
      return (stage) => {
        if (mode === 'replace') {
          for (const m of this.memories.values()) {
            if (m.status !== 'active') continue;
            stage.add({ action: 'DELETE', memoryId: m.id, before: snap(m), after: { ...snap(m), status: 'deleted' }, reason: 'replaced by import', source: { kind: 'import' } });
          }
        }
        const ids = new Set(incoming.map((m) => m.id));
        for (const r of bundle.history) {
          if (!ids.has(r.memoryId) || this.history_.has(r.opId)) continue;
          stage.addImported(r);
        }
        incoming.forEach((m, i) => {
          stage.add({ action: 'IMPORT', memoryId: m.id, after: snap(m), source: m.source, reason: 'imported', time: m.updatedAt, createdAt: m.createdAt }, vecs[i]);
          imported++;
        });
      };
    });
    // Feedback already here (the same file imported twice) is not recorded again.
    const feedbackKey = (f: Feedback) => JSON.stringify([f.answerId, f.kind, f.time ?? '']);
    const knownFeedback = new Set(this.side.feedback().map(feedbackKey));
    for (const f of bundle.feedback) if (!knownFeedback.has(feedbackKey(f))) await this.side.recordFeedback(f);
    // What the imported memories cite (a memory already here keeps its own).
    const importedIds = new Set(bundle.memories.filter((m) => this.memories.get(m.id)?.status !== undefined).map((m) => m.id));
    const known = new Set(this.side.evidence<{ memoryId?: string }>().map((e) => e.memoryId));
    await this.side.appendEvidence((bundle.evidence ?? []).filter((e) => importedIds.has(e.memoryId as string) && !known.has(e.memoryId as string)));
    // The events the imported history cites (one already kept is not stored twice).
    const cited = new Set(bundle.history.filter((r) => importedIds.has(r.memoryId)).map((r) => r.source?.event));
    const sources = (bundle.sources ?? []).filter((e) => cited.has(e.event));
    if (sources.length) {
      await this.storage.withLock(async (tx) => {
        await this.sources.importAll(tx, sources);
        if (this.sources.overCap()) await this.sources.prune(tx);
      });
    }
    return { imported, skipped, dropped: bundle.dropped ?? [] };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    await this.queue.catch(() => undefined);
    this.listeners.clear();
    if (this.snapshotWorthy() && this.savedSnapshotAt !== this.offset) await this.saveSnapshot();
    await this.storage.close();
  }

  // ---------------------------------------------------------------- snapshot

  /** Whether this bank keeps a snapshot: a store that can, and enough history to be worth one. */
  private snapshotWorthy(): boolean {
    return !!this.storage.snapshots && this.nextSeq - 1 >= (this.opts.snapshotMinRecords ?? SNAPSHOT_MIN_RECORDS);
  }

  /** The folded state as of `this.offset`; failures leave no snapshot (it is derived). */
  private async saveSnapshot(): Promise<void> {
    const store = this.storage.snapshots;
    if (store && (await writeCheckedSnapshot(store, this.storage, this.offset, (check) => this.foldedState(check)))) this.savedSnapshotAt = this.offset;
  }

  private foldedState(check: FoldedState['check']): FoldedState {
    const memories = [...this.memories.values()];
    const position = new Map(memories.map((m, i) => [m.id, i]));
    return {
      check,
      nextSeq: this.nextSeq,
      memories,
      hashes: memories.map((m) => this.hashOf.get(m.id)!),
      hashHolders: [...this.hashToId.values()].map((id) => position.get(id)!),
      eventBySource: [...this.eventBySource],
      eventOf: [...this.eventOf],
      damage: this.prefixDamage,
      bm25: this.index.exportLexical(),
      links: this.index.exportNeighbours(),
    };
  }

  /** The snapshot on disk, if it matches this history (else undefined: the history is folded instead). */
  private async readSnapshot(): Promise<FoldedState | undefined> {
    const store = this.storage.snapshots;
    return store && this.opts.snapshotMinRecords !== Infinity ? readMatchingSnapshot(store) : undefined;
  }

  private restoreSnapshot(s: FoldedState): void {
    s.memories.forEach((m, i) => {
      this.memories.set(m.id, m);
      this.hashOf.set(m.id, s.hashes[i]);
      if (m.status === 'active') this.activeCount++;
    });
    for (const i of s.hashHolders) this.hashToId.set(s.hashes[i], s.memories[i].id);
    this.index.restore(() => this.memories.values(), s.bm25, s.links);
    this.eventBySource = new Map(s.eventBySource);
    this.eventOf = new Map(s.eventOf);
    this.nextSeq = s.nextSeq;
    this.prefixDamage = s.damage;
    this.snapshotOffset = this.savedSnapshotAt = this.offset = s.check.offset;
    this.historyIndex = undefined;
  }

  // ---------------------------------------------------------------- internals

  private checkText(text: string | undefined): void {
    if (text && text.length > this.limits.maxMemoryChars) {
      throw new BankError('LIMIT', `A memory is limited to ${this.limits.maxMemoryChars} characters; this one has ${text.length}.`);
    }
  }

  private changeOne(
    id: string,
    action: HistoryAction,
    next: (m: Memory) => MemorySnapshot,
    reason: string,
    reembed = false,
    redactions?: RedactionCounts,
  ): Promise<HistoryRecord> {
    return this.write(async () => {
      const cur = this.memories.get(id);
      if (!cur) throw new BankError('NOT_FOUND', `No memory with id ${id}.`);
      const after = next(cur);
      const [vec] = reembed && after.text !== cur.text ? await this.opts.embedder.embed([after.text]) : [undefined];
      return (stage) => {
        stage.add({ action, memoryId: id, before: snap(cur), after, reason, source: { kind: 'manual', actor: this.opts.actor }, redactions: redactions && countTotal(redactions) ? redactions : undefined }, vec);
      };
    }).then((r) => r[0]);
  }

  /**
   * Runs one write: `prepare` (outside the lock: embeddings, validation) returns a function that
   * stages records against the up-to-date state; staged records are appended under the
   * cross-process lock, fsynced, and only then applied in memory.
   */
  /** `origin`: the capture event the batch came from, kept (once) for provenance when the batch writes records. */
  private write(prepare: () => Promise<(stage: Stage) => void>, origin?: SourceEvent): Promise<HistoryRecord[]> {
    if (this.closed) return Promise.reject(new BankError('IO', 'The memory bank is closed.'));
    const run = async (): Promise<HistoryRecord[]> => {
      await this.storage.withLock((tx) => this.catchUp(tx));
      const stageFn = await prepare();
      const committed = await this.storage.withLock(async (tx) => {
        await this.catchUp(tx);
        const stage = new Stage(this);
        stageFn(stage);
        if (stage.entries.length === 0) return undefined;
        this.sealEntries(stage);
        const activeAfter = this.activeCount + stage.activeDelta();
        if (activeAfter > this.limits.maxMemories && stage.activeDelta() > 0) {
          throw new BankError('LIMIT', `The memory bank is full (${this.limits.maxMemories} memories). Delete or export old memories first.`);
        }
        // Vectors first: a vector without its record is ignored, a record without its vector is re-embedded.
        const vecEntries: VectorEntry[] = stage.entries
          .filter((e) => e.vector && e.record.after)
          .map((e) => ({ memoryId: e.record.memoryId, textHash: textHash(e.record.after!.text), vector: e.vector! }));
        // The source before the records: a record never cites an event the bank lacks (a crash between leaves an unused source).
        if (origin && (await this.sources.append(tx, origin)) && this.sources.overCap()) await this.sources.prune(tx, origin.event);
        const cursors = await tx.append(stage.entries.map((e) => e.record), vecEntries);
        return { stage, cursors };
      });
      if (!committed) return [];
      // Applied only once durable (committed): in-process readers and writers are serialized by the queue.
      this.offset = committed.cursors.recordCursor;
      this.vectorCursor = committed.cursors.vectorCursor;
      const { stage } = committed;
      stage.entries.forEach((e) => this.applyRecord(e.record, e.vector));
      const pub = stage.entries.map((e) => publicRecord(e.record));
      this.emit({ records: pub });
      return pub;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * The last boundary before disk: every string of every record passes the redactor, whichever field a
   * model or an import put it in (reasons, engine notes, model names, made-up ids). Texts were redacted
   * on the way in, so this normally finds nothing; where it does, the found count is added to the
   * record and a vector computed from the unredacted text is dropped (recomputed on the next open).
   */
  private sealEntries(stage: Stage): void {
    for (const e of stage.entries) {
      const found: RedactionCounts = {};
      const clean = redactRecord(this.privacy, e.record, found);
      if (!countTotal(found)) continue;
      if (e.vector && clean.after?.text !== e.record.after?.text) e.vector = undefined;
      clean.redactions = addCounts({ ...(e.record.redactions ?? {}) }, found);
      e.record = clean;
    }
  }

  /** @internal used by Stage */
  allocate(partial: Partial<StoredRecord>, batchId: string): StoredRecord {
    return {
      seq: this.nextSeq++,
      opId: newId(),
      batchId,
      time: nowIso(),
      // Per-user attribution (a shared postgres bank has several writers); imports keep theirs.
      ...(this.opts.actor ? { actor: this.opts.actor } : {}),
      ...partial,
    } as StoredRecord;
  }

  private async load(): Promise<void> {
    const snapshot = await this.readSnapshot();
    if (snapshot) this.restoreSnapshot(snapshot);
    const res = await this.storage.readRecords(this.offset);
    // Damage before the snapshot was found when it was folded; reported again as if read now.
    const d = this.prefixDamage;
    const lines = d.corruptLines + res.corrupt.length;
    if (lines) {
      const lost = d.corruptRecords + res.corrupt.reduce((n, c) => n + c.records, 0);
      this.recovery.corruptRecords = lost;
      const reasons = [...new Set([...d.reasons, ...res.corrupt.map((c) => c.reason)])].join(', ');
      this.recovery.messages.push(
        `${lines} damaged history line(s) holding ${lost} record(s) could not be read (${reasons}); they were skipped and stay in the file for inspection.`,
      );
    }
    const rejoined = d.rejoined + (res.rejoined ?? 0);
    if (rejoined) {
      this.recovery.messages.push(`${rejoined} history record(s) had lost the line break between them; each passed its checksum and was read.`);
    }
    if (res.tornBytes) {
      this.recovery.tornBytes = res.tornBytes;
      const aside = await this.storage.withLock(async (tx) => {
        // Re-check under the lock: another live writer may have completed the line meanwhile.
        const again = await tx.readRecords(res.cursor);
        return again.records.length === 0 && again.tornBytes > 0 ? tx.cutTornTail(res.cursor) : undefined;
      });
      if (aside) this.recovery.messages.push(`An unfinished write (${res.tornBytes} bytes) from a crash was never acknowledged; it was moved to ${aside}. Every acknowledged operation is kept.`);
    }
    // A large bank takes seconds to load: give the event loop (the extension host) a turn now and then.
    for (let i = 0; i < res.records.length; i++) {
      this.applyRecord(res.records[i], undefined);
      if (i % LOAD_SLICE === LOAD_SLICE - 1) await yieldToEventLoop();
    }
    this.offset = res.cursor;
    if (!snapshot) {
      this.prefixDamage = {
        corruptLines: res.corrupt.length,
        corruptRecords: res.corrupt.reduce((n, c) => n + c.records, 0),
        reasons: [...new Set(res.corrupt.map((c) => c.reason))],
        rejoined: res.rejoined ?? 0,
      };
      // A bank folded from its history keeps its lexical index compact from here on (a third of the memory at 100k).
      if (res.records.length >= SNAPSHOT_MIN_RECORDS) this.index.compactLexical();
    }
    await this.loadVectors(this.storage, true);
    await this.repairMissingVectors();
    // Storage notes (damaged vector file, stale lock taken over) come from the steps above.
    this.recovery.messages.unshift(...this.storage.recoveryNotes);
    // No snapshot yet, or one far behind: write it once the bank is open (between writes, off the open path).
    if (this.snapshotWorthy() && (!snapshot || res.records.length >= SNAPSHOT_STALE_RECORDS)) {
      const timer = setTimeout(() => {
        if (this.closed) return;
        this.queue = this.queue.then(() => (this.closed || this.savedSnapshotAt === this.offset ? undefined : this.saveSnapshot()));
      }, 0);
      timer.unref?.();
    }
  }

  /** Takes vectors from the slot file (from the last slot read on) whose text hash matches the memory. */
  private async loadVectors(from: Pick<StorageTx, 'readVectors'>, opening = false): Promise<void> {
    if (opening) {
      // Streamed: each vector is copied into the index from the read buffer, never held twice.
      this.index.reserveMore(this.memories.size);
      const res = await this.storage.scanVectors(this.vectorCursor, (memoryId, hash, vector) => {
        const h = this.hashOf.get(memoryId);
        // Indexed under the memory's own id string: one copy of each id, not one more per vector.
        if (h !== undefined && h.startsWith(hash)) this.index.setVector(this.memories.get(memoryId)!.id, vector);
        else this.index.keepEarlyVector({ memoryId, textHash: hash, vector: vector.slice() });
      });
      this.vectorCursor = res.cursor;
      return;
    }
    const { entries, cursor } = await from.readVectors(this.vectorCursor);
    this.vectorCursor = cursor;
    if (entries.length > 1024) this.index.reserveMore(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const h = this.hashOf.get(e.memoryId);
      if (h !== undefined && h.startsWith(e.textHash)) this.index.setVector(e.memoryId, e.vector);
      // Another process writes a vector before its record, so a reader can meet the vector first.
      else this.index.keepEarlyVector(e);
      // Only while opening: nothing else can use the bank yet, so yielding cannot interleave with it.
      if (opening && i % LOAD_SLICE === LOAD_SLICE - 1) await yieldToEventLoop();
    }
  }

  /** Memories without a usable vector (damaged slot, new embedder, crash between files) get one again. */
  private async repairMissingVectors(): Promise<void> {
    const missing = [...this.memories.values()].filter((m) => !this.index.hasVector(m.id));
    if (!missing.length) return;
    this.recovery.missingVectors = missing.length;
    this.recovery.messages.push(`${missing.length} memory vector(s) were missing or out of date and were recomputed.`);
    const vecs = await this.opts.embedder.embed(missing.map((m) => m.text));
    const entries = missing.map((m, i) => ({ memoryId: m.id, textHash: textHash(m.text), vector: vecs[i] }));
    await this.appendVectors(entries);
  }

  /** Appends vectors (repair, rebuild) after taking other processes' vectors, so the cursor stays exact. */
  private async appendVectors(entries: VectorEntry[]): Promise<void> {
    this.vectorCursor = await this.storage.withLock(async (tx) => {
      await this.loadVectors(tx);
      return tx.appendVectors(entries);
    });
    for (const e of entries) this.index.setVector(e.memoryId, e.vector);
  }

  /**
   * Records repeat strings that memories already hold: the candidates the manager was shown, the text
   * before a change, the fact, the ids. Parsed from the log they are separate copies; pointing them at
   * the memory's own string keeps each text in memory once (a third less heap for 100k records with
   * candidates; see bench/README.md).
   */
  private shareTexts(r: StoredRecord, prev: Memory | undefined): void {
    if (r.candidates) {
      for (const c of r.candidates) {
        const m = this.memories.get(c.memoryId);
        if (!m) continue;
        c.memoryId = m.id;
        if (c.text === m.text) c.text = m.text;
      }
    }
    if (prev) {
      r.memoryId = prev.id;
      if (r.before && r.before.text === prev.text) r.before.text = prev.text;
    }
    if (r.after && r.fact === r.after.text) r.fact = r.after.text;
  }

  private applyRecord(r: StoredRecord, vec: Float32Array | undefined): void {
    // A record read twice (an import another window also wrote) is folded once. Opened from a snapshot,
    // only the records after it are checked here: the history before it is read when first needed.
    if (this.historyIndex ? this.historyIndex.has(r.opId) : this.laterIds.has(r.opId)) return;
    const prev = r.memoryId ? this.memories.get(r.memoryId) : undefined;
    this.shareTexts(r, prev);
    if (this.historyIndex) this.historyIndex.add(r);
    else {
      this.laterRecords.push(r);
      this.laterIds.add(r.opId);
    }
    if (r.seq >= this.nextSeq) this.nextSeq = r.seq + 1;
    if (r.source?.ref && r.source.event) {
      const key = sourceKey(r.source);
      if (!this.eventBySource.has(key)) this.eventBySource.set(key, r.source.event);
    }
    if (r.memoryId && r.after?.status === 'active' && r.source?.event) this.eventOf.set(r.memoryId, r.source.event);
    if (!r.after || !r.memoryId) return;
    const created = r.createdAt;
    const m: Memory = {
      id: r.memoryId,
      text: r.after.text,
      status: r.after.status,
      tags: [...(r.after.tags ?? [])],
      pinned: !!r.after.pinned,
      eventTime: r.after.eventTime,
      ...(r.after.kind ? { kind: r.after.kind } : {}),
      ...(r.after.validTo ? { validTo: r.after.validTo } : {}),
      ...(r.after.supersededBy ? { supersededBy: r.after.supersededBy } : {}),
      ...(r.after.supersedes ? { supersedes: r.after.supersedes } : {}),
      createdAt: prev?.createdAt ?? created ?? r.time,
      updatedAt: r.time,
      // The capture event's id is bookkeeping for the history (see BatchContext.exclusive), not the memory's.
      source: prev?.source ?? withoutEvent(r.source) ?? { kind: 'manual' },
    };
    const oldHash = this.hashOf.get(m.id);
    if (oldHash !== undefined && this.hashToId.get(oldHash) === m.id) this.hashToId.delete(oldHash);
    const hash = prev && prev.text === m.text && oldHash !== undefined ? oldHash : textHash(m.text);
    this.hashOf.set(m.id, hash);
    this.memories.set(m.id, m);
    this.activeCount += Number(m.status === 'active') - Number(prev?.status === 'active');
    if (this.listOrder) placeInOrder(this.listOrder, prev, m);
    if (m.status === 'active') this.hashToId.set(hash, m.id);
    this.index.update(m, prev, hash, vec);
  }

  /** Reads records other processes appended since our last read. */
  private async catchUp(tx: StorageTx | undefined): Promise<boolean> {
    if (!(await this.storage.hasRecordsAfter(this.offset))) return false;
    const res = await (tx ?? this.storage).readRecords(this.offset);
    if (tx && res.tornBytes) {
      // A writer died mid-line while holding the lock: its unacknowledged bytes go to a side file.
      const aside = await tx.cutTornTail(res.cursor);
      if (aside) this.recovery.messages.push(`An unfinished write (${res.tornBytes} bytes) from a crashed writer was moved to ${aside}.`);
    }
    if (!res.records.length) {
      this.offset = res.cursor;
      return false;
    }
    for (const r of res.records) this.applyRecord(r, undefined);
    this.offset = res.cursor;
    await this.loadVectors(tx ?? this.storage);
    // Their records may cite source events they kept (a store that caches side logs reads them again).
    if (res.records.some((r) => r.source?.event)) await this.storage.refreshSide();
    this.emit({ records: res.records.map(publicRecord), external: true });
    return true;
  }

  private startWatching(intervalMs: number): void {
    this.watchTimer = setInterval(() => {
      if (this.closed) return;
      this.queue = this.queue.then(async () => {
        try {
          await this.catchUp(undefined);
          await this.storage.refreshSide();
        } catch {
          /* reported on the next write */
        }
      });
    }, intervalMs);
    this.watchTimer.unref?.();
  }

  private emit(e: BankChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        /* a listener's failure must not break the write path */
      }
    }
  }

}

function safeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9._-]+/g, '_').slice(0, 80);
}


export type { SourceRef };
