// Shared data model of the Memory-R1 engine. Never imports `vscode`.
import type { MemoryKind } from './kinds';

export type { MemoryKind } from './kinds';

export type MemoryStatus = 'active' | 'superseded' | 'deleted';

/** Where a fact came from: a chat turn, a file save, a git commit, a terminal command, a diagnostic, a manual edit, an import, an agent's tool call. */
export type SourceKind = 'chat' | 'save' | 'commit' | 'terminal' | 'diagnostic' | 'manual' | 'import' | 'dialogue' | 'cli' | 'agent';

export interface SourceRef {
  kind: SourceKind;
  /** File path, commit sha, chat turn id, dialogue id ... */
  ref?: string;
  /** Who caused it (user name, speaker); used for per-user attribution. */
  actor?: string;
  /** The capture event that produced it (a queue id, stable across restarts). */
  event?: string;
}

export interface Memory {
  id: string;
  text: string;
  status: MemoryStatus;
  createdAt: string; // ISO time
  updatedAt: string; // ISO time
  /** The time the fact refers to, when known (e.g. a LoCoMo session date). */
  eventTime?: string;
  source: SourceRef;
  tags: string[];
  pinned: boolean;
  /** What the memory is about (a convention, a decision, ...), as extraction labelled it; absent in older banks. */
  kind?: MemoryKind;
  /** Bi-temporal validity: when a superseded memory stopped being true (valid time; `updatedAt` is when that was recorded). */
  validTo?: string;
  /** The memory that replaced this one (set when it was superseded). */
  supersededBy?: string;
  /** The memory this one replaced. */
  supersedes?: string;
}

export type OperationType = 'ADD' | 'UPDATE' | 'DELETE' | 'NOOP';

/** Record kinds in the history log. Manager operations plus manual actions and compensations. */
export type HistoryAction = OperationType | 'SUPERSEDE' | 'RESTORE' | 'EDIT' | 'PIN' | 'UNPIN' | 'UNDO' | 'IMPORT' | 'SCRUB';

export interface CandidateView {
  /** Small integer id shown to the model. */
  key: string;
  memoryId: string;
  text: string;
}

/** One append-only history record: one operation on one memory. */
export interface HistoryRecord {
  seq: number;
  opId: string;
  /** Operations applied together share a batch id. */
  batchId: string;
  action: HistoryAction;
  memoryId: string;
  before?: MemorySnapshot;
  after?: MemorySnapshot;
  /** The extracted fact that caused it. */
  fact?: string;
  candidates?: CandidateView[];
  reason?: string;
  model?: string;
  source?: SourceRef;
  /** For UNDO records: the operation being compensated. */
  undoes?: string;
  /** Who wrote the record (the bank's `actor`), for per-user attribution in a shared bank. */
  actor?: string;
  /** Secrets redacted from this record's texts before it was written, per kind (counts only, never the secret). */
  redactions?: Record<string, number>;
  /** Which engine rule acted on the manager's output (re-asked, fallback ADD, refused text...). */
  guard?: string;
  /** The run that wrote it (one `memory-r1 ingest`, one agent session): undo without an id reverts a whole run. */
  run?: string;
  time: string;
}

/** The parts of a memory that change; stored before/after in history. */
export interface MemorySnapshot {
  text: string;
  status: MemoryStatus;
  tags: string[];
  pinned: boolean;
  eventTime?: string;
  kind?: MemoryKind;
  validTo?: string;
  supersededBy?: string;
  supersedes?: string;
}

/** A validated operation ready to apply to the bank. */
export interface PlannedOperation {
  type: OperationType;
  /** Existing memory id for UPDATE/DELETE/NOOP; absent for ADD. */
  memoryId?: string;
  text?: string;
  reason?: string;
  tags?: string[];
  /** The kind of the fact an ADD or UPDATE writes (an UPDATE without one keeps the memory's). */
  kind?: MemoryKind;
}

export interface BatchContext {
  fact?: string;
  candidates?: CandidateView[];
  model?: string;
  source?: SourceRef;
  eventTime?: string;
  /** Which engine rule acted on the manager's output; stored on every record of the batch. */
  guard?: string;
  /**
   * The source (kind + ref, e.g. a commit sha) is captured once per bank: refuse with DUPLICATE when
   * records of another capture event of it exist, as when two windows on one workspace see a commit.
   */
  exclusive?: boolean;
  /** Secrets the engine already redacted from the fact (counted on the batch's first record). */
  redactions?: Record<string, number>;
  /** The run the batch belongs to (see HistoryRecord.run). */
  run?: string;
  /** The capture event's text and time, kept once per event for provenance (bank/sources.ts). */
  origin?: { text: string; time: string };
}

export interface SearchHit {
  memory: Memory;
  score: number;
}

export interface SearchOptions {
  topK?: number;
  /** Include superseded/deleted memories. Default: active only. */
  includeInactive?: boolean;
  /** Include superseded memories (not deleted ones): "what did we use before?". */
  includeSuperseded?: boolean;
  tags?: string[];
  /** Only memories of these kinds (unlabelled ones count as `other`). */
  kinds?: MemoryKind[];
  signal?: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** A workspace or chat event that may carry facts. */
export interface CaptureEvent {
  id: string;
  source: SourceRef;
  text: string;
  time: string;
  eventTime?: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
