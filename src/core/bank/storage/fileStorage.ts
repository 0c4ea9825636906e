import * as fs from 'node:fs';
import { writeFileAtomic } from '../../util/atomicFile';
import * as path from 'node:path';
import { BankError } from '../../errors';
import { FileLock } from '../fileLock';
import { HistoryLog, type StoredRecord } from '../historyLog';
import { VectorLog, type VectorEntry } from '../vectorLog';
import type { BankStorage, RecordBatch, SideDocName, SideLogName, StorageTx, VectorBatch } from './types';

const BANK_META = 'bank.json';
const SIDE_FILES: Record<SideLogName, string> = { feedback: 'feedback.jsonl', trajectories: 'trajectories.jsonl' };
const DOC_FILES: Record<SideDocName, string> = { pending: 'pending.json' };

/**
 * The default store: a folder with `history.jsonl` (CRC-checked lines, fsynced), one append-only
 * vector slot file per embedder, a lock file, and side files. Record cursors are byte offsets,
 * vector cursors slot numbers.
 */
export class FileStorage implements BankStorage {
  readonly kind = 'file' as const;
  readonly recoveryNotes: string[] = [];
  readonly log: HistoryLog;
  private vlog: VectorLog | undefined;
  private readonly lock: FileLock;
  private readonly tx: StorageTx;
  /** The history file's identity; a scrub replaces the file, and a bank opened before must reopen. */
  private historyIno: number | undefined;

  constructor(
    readonly folder: string,
    private readonly vectorFileName: string,
  ) {
    this.log = new HistoryLog(path.join(folder, 'history.jsonl'));
    this.lock = new FileLock(path.join(folder, 'bank.lock'));
    this.tx = {
      readRecords: (c) => this.readRecords(c),
      readVectors: (c) => this.readVectors(c),
      append: async (records, vectors) => {
        const vectorCursor = this.appendVectorsNow(vectors);
        this.checkSameHistory();
        const recordCursor = records.length ? this.log.append(records) : this.log.size();
        this.historyIno ??= fileIno(this.log.path);
        return { recordCursor, vectorCursor };
      },
      appendVectors: async (vectors) => this.appendVectorsNow(vectors),
      cutTornTail: async (cursor) => this.log.truncate(cursor),
      appendSide: async (name, entry) => appendLine(path.join(this.folder, SIDE_FILES[name]), JSON.stringify(entry)),
      readDoc: async <T>(name: SideDocName) => this.sideDoc<T>(name),
      writeDoc: async (name, value) => writeFileAtomic(path.join(this.folder, DOC_FILES[name]), JSON.stringify(value, null, 1)),
    };
  }

  get location(): string {
    return this.folder;
  }

  get vectorLog(): VectorLog {
    if (!this.vlog) throw new Error('storage not initialised');
    return this.vlog;
  }

  async init(meta: { embedder: string; dimensions: number }): Promise<void> {
    try {
      fs.mkdirSync(this.folder, { recursive: true });
    } catch (err) {
      throw new BankError('IO', `Cannot create the memory bank folder ${this.folder}: ${(err as Error).message}`);
    }
    writeBankMeta(this.folder, meta);
    const file = path.join(this.folder, this.vectorFileName);
    try {
      this.vlog = VectorLog.open(file, meta.dimensions);
    } catch (err) {
      // Vectors are derived data: keep the damaged file aside for inspection and start a new one;
      // the bank re-embeds what is missing.
      const aside = `${file}.damaged-${Date.now()}`;
      fs.renameSync(file, aside);
      this.recoveryNotes.push(`The vector file ${path.basename(file)} was damaged (${(err as Error).message}); it was moved to ${path.basename(aside)} and the vectors are recomputed.`);
      this.vlog = VectorLog.open(file, meta.dimensions);
    }
  }

  withLock<T>(fn: (tx: StorageTx) => Promise<T> | T): Promise<T> {
    return this.lock.withLock(() => {
      if (this.lock.tookOverStale) {
        this.lock.tookOverStale = false;
        this.recoveryNotes.push('A lock left by a process that had stopped (a crashed window) was taken over.');
      }
      return fn(this.tx);
    });
  }

  async hasRecordsAfter(cursor: number): Promise<boolean> {
    return this.log.size() !== cursor;
  }

  async readRecords(cursor: number): Promise<RecordBatch> {
    this.checkSameHistory();
    if (cursor > 0 && this.log.size() < cursor) {
      throw new BankError('CORRUPT', 'The history file shrank while the bank was open; reopen the bank.');
    }
    const res = await this.log.readAsync(cursor);
    return { records: res.records, cursor: res.nextOffset, corrupt: res.corrupt, tornBytes: res.tornBytes };
  }

  async readVectors(cursor: number): Promise<VectorBatch> {
    const res = await this.vectorLog.readAsync(cursor);
    return { entries: res.entries, cursor: res.nextSlot, damaged: res.damaged };
  }

  sideLog<T>(name: SideLogName): T[] {
    return readJsonLines<T>(path.join(this.folder, SIDE_FILES[name]));
  }

  sideDoc<T>(name: SideDocName): T | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.folder, DOC_FILES[name]), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  async refreshSide(): Promise<void> {
    /* side data is read from disk on every call */
  }

  async close(): Promise<void> {
    /* nothing held open between calls */
  }

  /**
   * Bulk path for setup (benchmarks, migrations): writes prepared records and vectors in the
   * bank's own formats under the lock, as one append each. Not for use while a bank is open here.
   */
  async bulkAppend(records: StoredRecord[], vectors: VectorEntry[]): Promise<void> {
    await this.withLock((tx) => tx.append(records, vectors));
  }

  /** Refuses to go on with a history file that was replaced (by a scrub) since this bank read it. */
  private checkSameHistory(): void {
    const ino = fileIno(this.log.path);
    if (ino === undefined) return;
    if (this.historyIno === undefined) this.historyIno = ino;
    else if (ino !== this.historyIno) {
      throw new BankError('CONFLICT', 'The memory bank was rewritten by "Scrub Secrets" (or memory-r1 scrub) since it was opened here; reopen it (in VS Code: Developer: Reload Window).');
    }
  }

  private appendVectorsNow(vectors: VectorEntry[]): number {
    this.vectorLog.append(vectors);
    return this.vectorLog.slots();
  }
}

function fileIno(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
}

function appendLine(file: string, line: string): void {
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, line + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      /* a torn last line from a crash */
    }
  }
  return out;
}


function writeBankMeta(folder: string, m: { embedder: string; dimensions: number }): void {
  const file = path.join(folder, BANK_META);
  const meta = { format: 'project-memory-bank', version: 1, embedder: m.embedder, dimensions: m.dimensions };
  try {
    const cur = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (cur.embedder === meta.embedder && cur.dimensions === meta.dimensions) return;
  } catch {
    /* missing or damaged: rewrite */
  }
  writeFileAtomic(file, JSON.stringify(meta, null, 2));
}
