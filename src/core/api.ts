// The engine's public surface, as the extension, the CLI, the benchmarks and the training reward use it.
import type {
  CaptureEvent,
  HistoryRecord,
  Memory,
  MemoryKind,
  MemoryStatus,
  OperationType,
  SearchHit,
  SearchOptions,
  SourceRef,
  TokenUsage,
} from './types';

export interface Disposable {
  dispose(): void;
}

export interface ListQuery {
  /** Substring filter over text and tags, case-insensitive. */
  text?: string;
  status?: MemoryStatus | 'all';
  tag?: string;
  pinned?: boolean;
  sourceKind?: string;
  /** Only memories of these kinds (unlabelled ones count as `other`). */
  kinds?: MemoryKind[];
  offset?: number;
  limit?: number;
}

export interface ListResult {
  items: Memory[];
  /** Number of memories matching the query (before offset/limit). */
  total: number;
  /** Counts over the whole bank. */
  counts: Record<MemoryStatus, number>;
}

export interface BankChange {
  /** Records appended by the change (empty for a reload from disk). */
  records: HistoryRecord[];
  /** True when the bank was reloaded because another process changed it. */
  external?: boolean;
}

export interface ManualAddOptions {
  tags?: string[];
  source?: SourceRef;
  pinned?: boolean;
  kind?: MemoryKind;
}

/** What the manager did with one fact. */
export interface AppliedOperation {
  type: OperationType;
  memoryId?: string;
  before?: string;
  after?: string;
  fact: string;
  reason?: string;
  /** Set when the operation was held for approval or rejected by validation. */
  held?: boolean;
  rejected?: string;
  /** For an UPDATE: the memory it superseded (kept, searchable, with the time it stopped being true). */
  supersededId?: string;
  /** Which engine rule acted (re-asked the model, fell back to adding the fact, refused a text). */
  guard?: string;
}

export interface IngestResult {
  facts: string[];
  /** Each fact's kind, as extraction labelled it (parallel to `facts`; absent for a remembered fact). */
  kinds?: (MemoryKind | undefined)[];
  operations: AppliedOperation[];
  usage: TokenUsage;
  /** Why the rest of the event was not applied (another window had captured it already). */
  skipped?: string;
  /** Secrets redacted from the event, the facts and the manager's output, per kind (counts only). */
  redactions?: Record<string, number>;
  /** Why the extractor's reply could not be used (not JSON, no facts list); nothing was applied for the event. */
  unusable?: string;
}

export interface AnswerResult {
  answer: string;
  /** The full model output, including the selected memories section. */
  raw: string;
  /** Memories the agent said it used (distilled), in order. */
  citations: Memory[];
  retrieved: SearchHit[];
  usage: TokenUsage;
  answerId: string;
  /** Secrets redacted from the question, per kind (counts only). */
  redactions?: Record<string, number>;
}

export interface AnswerOptions {
  topK?: number;
  /** Tokens of memories and source excerpts to show the answer model (default: the engine's `answerContextTokens`). */
  contextTokens?: number;
  signal?: AbortSignal;
  onDelta?: (delta: string) => void;
  /** Streams only the answer text (after the `**Answer:**` marker), for showing to a user. */
  onAnswerDelta?: (delta: string) => void;
  /** Called once retrieval is done, before the model call. */
  onRetrieved?: (hits: SearchHit[]) => void;
  /** A note the answer model sees beside a memory (e.g. that its cited files changed). */
  memoryNote?: (m: Memory) => string | undefined;
}

export interface Feedback {
  answerId: string;
  kind: 'helpful' | 'unhelpful';
  question?: string;
  answer?: string;
  memoryIds?: string[];
  time?: string;
}

export type { CaptureEvent };
