import type { StoredRecord } from '../historyLog';
import type { VectorEntry, VectorVisitor } from '../vectorLog';
import type { ScrubOptions, ScrubReport } from '../scrub';

/** Records read from a cursor on. The cursor is opaque to the bank (a byte offset, a sequence number). */
export interface RecordBatch {
  records: StoredRecord[];
  /** Where the next read starts. */
  cursor: number;
  /** Lines that failed their checksum or did not parse (skipped, reported), with how many records each held. */
  corrupt: { offset: number; reason: string; records: number }[];
  /** Bytes of a write cut off before it was acknowledged (file store only). */
  tornBytes: number;
  /** Records read back from lines that had lost their line breaks (file store only). */
  rejoined?: number;
}

export interface VectorBatch {
  /** In write order; a later entry for the same memory wins. */
  entries: VectorEntry[];
  cursor: number;
  /** Entries that failed their checksum (skipped). */
  damaged: number;
}

/** Append-style side logs kept beside the history (not part of it). */
export type SideLogName = 'feedback' | 'trajectories' | 'evidence' | 'sources';
/** Small documents replaced as a whole. */
export type SideDocName = 'pending';

/** What may be done while holding the bank's cross-process write lock. */
export interface StorageTx {
  readRecords(cursor: number): Promise<RecordBatch>;
  readVectors(cursor: number): Promise<VectorBatch>;
  /**
   * Appends vectors and records as one unit (the postgres store commits them in one transaction; the
   * file store writes vectors first, so a crash leaves at worst an unused vector). Durable on return.
   */
  append(records: StoredRecord[], vectors: VectorEntry[]): Promise<{ recordCursor: number; vectorCursor: number }>;
  appendVectors(vectors: VectorEntry[]): Promise<number>;
  /**
   * Moves an unacknowledged torn tail (a crashed writer's partial line or unfinished batch) from `cursor`
   * on into a side file, never deleting it; returns that file's name.
   */
  cutTornTail(cursor: number): Promise<string | undefined>;
  appendSide(name: SideLogName, entry: unknown): Promise<void>;
  /** Replaces a side log's entries (the provenance cap drops old sources); atomic. */
  rewriteSide(name: SideLogName, entries: unknown[]): Promise<void>;
  readDoc<T>(name: SideDocName): Promise<T | undefined>;
  writeDoc(name: SideDocName, value: unknown): Promise<void>;
}

/**
 * Where a store keeps the bank's snapshot (bank/snapshot.ts) and what checking and using one needs. A store
 * without it (postgres) folds the history on every open.
 */
export interface SnapshotStore {
  /** The saved snapshot's bytes, if there is one. */
  read(): Buffer | undefined;
  /** Replaces it atomically; the caller holds the write lock and has checked the history is the one it read. */
  write(content: Uint8Array): void;
  /** The record ending exactly at `cursor`, if one does (the snapshot's check). */
  recordEndingAt(cursor: number): StoredRecord | undefined;
  /** Identifies the history's current content cheaply (size and modification time); equal stamps, unchanged bytes. */
  historyStamp(): string | undefined;
  /** Checksum of the history before `cursor` (reads it: used only when the stamp changed). */
  historyChecksum(cursor: number): Promise<number | undefined>;
  /** Records before `cursor`, read at once (the history a snapshot skipped, when something asks for it). */
  readRecordsBefore(cursor: number): RecordBatch;
}

/**
 * Where a bank keeps its history, vectors and side data. The bank folds state in memory from
 * `readRecords`/`readVectors` and catches up by cursor; every write goes through `withLock`.
 */
export interface BankStorage {
  readonly kind: 'file' | 'postgres';
  /** A folder, or the database URL without its password. */
  readonly location: string;
  /** What `init` found damaged and repaired (shown with the bank's recovery report). */
  readonly recoveryNotes: string[];
  /** Creates what is missing and checks that the store holds vectors of this embedder's size. */
  init(meta: { embedder: string; dimensions: number }): Promise<void>;
  withLock<T>(fn: (tx: StorageTx) => Promise<T> | T): Promise<T>;
  /** Cheap check for records past `cursor` (polled to see other processes' writes). */
  hasRecordsAfter(cursor: number): Promise<boolean>;
  readRecords(cursor: number): Promise<RecordBatch>;
  readVectors(cursor: number): Promise<VectorBatch>;
  /** Visits vectors from `cursor` on without holding them all (opening a large bank); returns the next cursor. */
  scanVectors(cursor: number, visit: VectorVisitor): Promise<{ cursor: number; damaged: number }>;
  /** Present where the store can keep a snapshot of the folded state. */
  readonly snapshots?: SnapshotStore;
  /** Side data as last read or written (sync for the bank's sync getters). */
  sideLog<T>(name: SideLogName): T[];
  sideDoc<T>(name: SideDocName): T | undefined;
  /** Re-reads side data written by other processes (no-op where reads go to disk anyway). */
  refreshSide(): Promise<void>;
  /**
   * Finds (and with `apply`, removes) secrets older versions stored anywhere in this store, rewriting it
   * atomically with a SCRUB record (bank/scrub.ts). Called on a store the bank has not opened.
   */
  scrub(opts: ScrubOptions): Promise<ScrubReport>;
  close(): Promise<void>;
}

/** How `MemoryBank.open` stores the bank: the default file store, or a shared postgres database. */
export type StorageOption = 'file' | { kind: 'postgres'; url: string; bankId: string; poolSize?: number };
