import * as fs from 'node:fs';
import { writeFileAtomic } from '../../util/atomicFile';
import * as path from 'node:path';
import { BankError } from '../../errors';
import { FileLock } from '../fileLock';
import { HistoryLog, type StoredRecord } from '../historyLog';
import { VectorLog, type VectorEntry } from '../vectorLog';
import type { BankStorage, RecordBatch, SideDocName, SideLogName, SnapshotStore, StorageTx, VectorBatch } from './types';
import type { VectorVisitor } from '../vectorLog';
import { SNAPSHOT_FILE } from '../snapshot';
import type { ScrubOptions, ScrubReport } from '../scrub';

const BANK_META = 'bank.json';
const SIDE_FILES: Record<SideLogName, string> = { feedback: 'feedback.jsonl', trajectories: 'trajectories.jsonl', evidence: 'evidence.jsonl', sources: 'sources.jsonl' };
const DOC_FILES: Record<SideDocName, string> = { pending: 'pending.json' };
/** What a damaged side document's content must look like, and what its loss means to the user. */
const DOC_SHAPES: Record<SideDocName, (v: unknown) => boolean> = {
  pending: (v) => Array.isArray(v) && v.every((b) => !!b && typeof b === 'object' && typeof (b as { id?: unknown }).id === 'string' && Array.isArray((b as { ops?: unknown }).ops)),
};
const DOC_NOTES: Record<SideDocName, string> = {
  pending: 'No held batch was applied or rejected; the list of held batches starts empty.',
};

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
      cutTornTail: async (cursor) => this.log.setAsideTail(cursor),
      appendSide: async (name, entry) => appendLine(path.join(this.folder, SIDE_FILES[name]), JSON.stringify(entry)),
      rewriteSide: async (name, entries) => writeFileAtomic(path.join(this.folder, SIDE_FILES[name]), entries.map((e) => JSON.stringify(e) + '\n').join('')),
      // Under the lock: a damaged document is moved aside (reported), so a write never replaces it unseen.
      readDoc: async <T>(name: SideDocName) => this.readDocLocked<T>(name),
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
    checkHistoryPresent(this.folder, this.log.path);
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
    // Found now rather than by the next held batch, which would otherwise write its list over it.
    for (const name of Object.keys(DOC_FILES) as SideDocName[]) {
      if (this.sideDocProblem(name)) await this.withLock((tx) => tx.readDoc(name));
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
    return { records: res.records, cursor: res.nextOffset, corrupt: res.corrupt, tornBytes: res.tornBytes, rejoined: res.rejoined };
  }

  readonly snapshots: SnapshotStore = {
    read: () => {
      try {
        return fs.readFileSync(path.join(this.folder, SNAPSHOT_FILE));
      } catch {
        return undefined;
      }
    },
    write: (content) => {
      this.checkSameHistory();
      writeFileAtomic(path.join(this.folder, SNAPSHOT_FILE), content);
    },
    recordEndingAt: (cursor) => this.log.recordEndingAt(cursor),
    historyStamp: () => {
      const st = this.log.stamp();
      return st && `${st.size}:${st.mtimeNs}`;
    },
    historyChecksum: (cursor) => this.log.prefixCrc(cursor),
    readRecordsBefore: (cursor) => {
      this.checkSameHistory();
      const res = this.log.read(0, cursor);
      return { records: res.records, cursor: res.nextOffset, corrupt: res.corrupt, tornBytes: res.tornBytes, rejoined: res.rejoined };
    },
  };

  async scanVectors(cursor: number, visit: VectorVisitor): Promise<{ cursor: number; damaged: number }> {
    const res = await this.vectorLog.scanAsync(cursor, visit);
    return { cursor: res.nextSlot, damaged: res.damaged };
  }

  async readVectors(cursor: number): Promise<VectorBatch> {
    const res = await this.vectorLog.readAsync(cursor);
    return { entries: res.entries, cursor: res.nextSlot, damaged: res.damaged };
  }

  /** Side logs as last read, by file size and time: the evidence ledger is read on every check, and rarely changes. */
  private sideCache = new Map<SideLogName, { stamp: string; items: unknown[] }>();

  sideLog<T>(name: SideLogName): T[] {
    const file = path.join(this.folder, SIDE_FILES[name]);
    let stamp = '';
    try {
      const st = fs.statSync(file);
      stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      stamp = 'missing';
    }
    const cached = this.sideCache.get(name);
    if (cached?.stamp === stamp) return [...cached.items] as T[];
    const items = readJsonLines<T>(file);
    this.sideCache.set(name, { stamp, items });
    return [...items];
  }

  sideDoc<T>(name: SideDocName): T | undefined {
    const doc = readDoc(path.join(this.folder, DOC_FILES[name]), name);
    return doc.ok ? (doc.value as T | undefined) : undefined;
  }

  /** The damage found in side documents (read without the lock, so nothing is moved), for a report. */
  sideDocProblem(name: SideDocName): string | undefined {
    const doc = readDoc(path.join(this.folder, DOC_FILES[name]), name);
    return doc.ok ? undefined : doc.problem;
  }

  private readDocLocked<T>(name: SideDocName): T | undefined {
    const file = path.join(this.folder, DOC_FILES[name]);
    const doc = readDoc(file, name);
    if (doc.ok) return doc.value as T | undefined;
    const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(file, aside);
    this.recoveryNotes.push(`${DOC_FILES[name]} was damaged (${doc.problem}); it was moved to ${path.basename(aside)}, where its content can still be read. ${DOC_NOTES[name]}`);
    return undefined;
  }

  async refreshSide(): Promise<void> {
    /* side data is read from disk on every call */
  }

  async close(): Promise<void> {
    /* nothing held open between calls */
  }

  async scrub(opts: ScrubOptions): Promise<ScrubReport> {
    const { scrubFileBank } = await import('../scrub');
    return scrubFileBank(this.folder, opts);
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

function readDoc(file: string, name: SideDocName): { ok: true; value: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: undefined };
    return { ok: false, problem: (err as Error).message };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not valid JSON: ${(err as Error).message}` };
  }
  return DOC_SHAPES[name](value) ? { ok: true, value } : { ok: false, problem: 'not a list of held batches' };
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


/**
 * A bank whose history is gone but whose other files remain is a damaged bank, not a new one: opening
 * it as empty would hide every memory (and the next write would start a new history over them).
 */
function checkHistoryPresent(folder: string, historyPath: string): void {
  if (sizeOf(historyPath) > 0) return;
  const left: string[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const size = sizeOf(path.join(folder, name));
    // A vector file is its 16-byte header until the first write; side files are empty until then.
    if (/^vectors-.*\.bin$/.test(name) ? size > 16 : (Object.values(SIDE_FILES).includes(name) || Object.values(DOC_FILES).includes(name)) && size > 0) left.push(name);
  }
  if (!left.length) return;
  const state = fs.existsSync(historyPath) ? 'is empty' : 'is missing';
  throw new BankError(
    'CORRUPT',
    `The memory bank in ${folder} has lost its history: ${historyPath} ${state}, but the bank's other files remain (${left.join(', ')}). ` +
      'Nothing was changed. Restore history.jsonl from a backup, or move the folder aside and import an export into a new bank (memory-r1 import <export.json> --bank <new folder>).',
  );
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
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
