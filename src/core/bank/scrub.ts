// Scrub a bank written before the privacy boundary existed (or with redaction off): find the secrets
// already stored in memories, history, trajectories, feedback, held batches, the capture queue and
// exports; report counts and locations (never the secrets); rewrite only when asked.
//
// This is the one operation allowed to rewrite history. Each file is replaced atomically (temp file,
// fsync, rename, directory fsync) under the bank's cross-process lock; side files go first and the
// history last, with a SCRUB record appended in the same rewrite, so the record exists only once
// everything else is clean. A crash part-way leaves every file either old or new; scrubbing again
// finishes the job (redaction is idempotent).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { BankError } from '../errors';
import { FileLock } from './fileLock';
import { formatLine, type StoredRecord } from './historyLog';
import { VectorLog, type VectorEntry } from './vectorLog';
import { writeFileAtomic } from '../util/atomicFile';
import { SNAPSHOT_FILE } from './snapshot';
import { crc32, newId, nowIso, textHash } from '../util/text';
import { PrivacyBoundary, addCounts, countTotal, describeCounts, redactRecord, type RedactionCounts } from '../privacy/boundary';
import { redactSecrets } from '../privacy/redact';

export interface ScrubLocation {
  /** A file of the bank folder, or an export file's path. */
  file: string;
  /** What the file holds, for the report ("history records", "trajectories" ...). */
  what: string;
  /** Entries that hold secrets (records, lines). */
  entries: number;
  secrets: number;
  kinds: RedactionCounts;
  /** Where in the file: `seq 12`, `line 4` (at most 20 listed). */
  where: string[];
}

export interface ScrubReport {
  bank: string;
  locations: ScrubLocation[];
  /** Secrets found in all locations. */
  total: number;
  kinds: RedactionCounts;
  /** Vector slots computed from texts that held secrets (dropped; recomputed when the bank next opens). */
  vectorsDropped: number;
  /** Damaged vector files kept aside by an earlier recovery (deleted: they may hold vectors of secret texts). */
  damagedVectorFiles: string[];
  /** True once the files were rewritten. */
  applied: boolean;
  /** The SCRUB record's operation id (when applied and something was found). */
  opId?: string;
}

export interface ScrubOptions {
  /** Export files (JSON or Markdown made by Export) to check and rewrite as well. */
  exports?: string[];
  /** Rewrite; otherwise only report (a dry run). */
  apply?: boolean;
  /** Who scrubbed (for the SCRUB record). */
  actor?: string;
}

const HISTORY = 'history.jsonl';
const JSONL_SIDE: { file: string; what: string }[] = [
  { file: 'trajectories.jsonl', what: 'trajectories' },
  { file: 'feedback.jsonl', what: 'feedback' },
  { file: 'evidence.jsonl', what: 'evidence' },
  { file: 'sources.jsonl', what: 'source events' },
  { file: 'capture-failed.jsonl', what: 'failed capture events' },
];
const QUEUE = 'capture-queue.jsonl';
const QUEUE_ACK = 'capture-queue.ack.json';
const PENDING = 'pending.json';

/** The scrubber always redacts: it is how a bank is cleaned, whatever the bank's own setting. */
const P = new PrivacyBoundary('on');

interface PlannedWrite {
  file: string;
  content: string | Uint8Array;
}

/** Finds (and with `apply`, removes) secrets stored in the file bank in `folder`. */
export async function scrubFileBank(folder: string, opts: ScrubOptions = {}): Promise<ScrubReport> {
  if (!fs.existsSync(path.join(folder, HISTORY)) && !fs.existsSync(path.join(folder, 'bank.json'))) {
    throw new BankError('NOT_FOUND', `No memory bank in ${folder}.`);
  }
  const run = async (): Promise<ScrubReport> => {
    const report: ScrubReport = { bank: folder, locations: [], total: 0, kinds: {}, vectorsDropped: 0, damagedVectorFiles: [], applied: false };
    const writes: PlannedWrite[] = [];
    const note = (loc: ScrubLocation) => {
      if (!loc.secrets) return;
      report.locations.push(loc);
      report.total += loc.secrets;
      addCounts(report.kinds, loc.kinds);
    };

    // Side logs: one JSON value per line; a line that does not parse is redacted as text. Files the bank
    // set aside (a crashed writer's torn tail, a damaged list of held batches) are read the same way.
    const setAside = (fs.existsSync(folder) ? fs.readdirSync(folder) : [])
      .filter((name) => /^history\.torn-.*\.jsonl$|^pending\.json\.damaged-/.test(name))
      .map((name) => ({ file: name, what: 'files set aside by a recovery' }));
    for (const side of [...JSONL_SIDE, ...setAside]) {
      const file = path.join(folder, side.file);
      const r = scrubJsonLines(file, side.what, side.file);
      if (r) {
        note(r.loc);
        if (r.loc.secrets) writes.push({ file, content: r.content });
      }
    }
    const pendingFile = path.join(folder, PENDING);
    if (fs.existsSync(pendingFile)) {
      const loc = newLoc(PENDING, 'batches held for approval');
      const raw = fs.readFileSync(pendingFile, 'utf8');
      const content = scrubJsonText(raw, loc, 'document');
      note(loc);
      if (loc.secrets) writes.push({ file: pendingFile, content });
    }
    const queue = scrubQueue(folder);
    if (queue) {
      note(queue.loc);
      if (queue.loc.secrets) writes.push(...queue.writes);
    }

    // The history: every record's texts; its vectors are re-derived below from the scrubbed texts.
    const history = scrubHistory(path.join(folder, HISTORY));
    note(history.loc);

    // Vectors: keep only slots computed from the current (scrubbed) text of a memory.
    const currentHash = new Map<string, string>();
    for (const r of history.records) if (r.after && r.memoryId) currentHash.set(r.memoryId, textHash(r.after.text));
    for (const name of fs.existsSync(folder) ? fs.readdirSync(folder) : []) {
      if (/^vectors-.*\.bin\.damaged-\d+$/.test(name)) report.damagedVectorFiles.push(name);
      if (!/^vectors-.*\.bin$/.test(name) || !history.loc.secrets) continue;
      const file = path.join(folder, name);
      const dims = vectorDims(file);
      if (dims === undefined) continue;
      const log = VectorLog.open(file, dims);
      const { entries } = log.read(0);
      const keep = entries.filter((e) => currentHash.get(e.memoryId)?.startsWith(e.textHash));
      if (keep.length === entries.length) continue;
      report.vectorsDropped += entries.length - keep.length;
      writes.push({ file, content: vectorFileBytes(dims, keep) });
    }

    // Exports: outside the bank, rewritten the same way.
    for (const file of opts.exports ?? []) {
      const loc = newLoc(file, 'export');
      const raw = readExport(file);
      const content = /\.json$/i.test(file) ? scrubJsonText(raw, loc, 'export') : scrubPlainText(raw, loc);
      note(loc);
      if (loc.secrets) writes.unshift({ file, content });
    }

    const opId = newId();
    if (history.loc.secrets || report.total) {
      const seq = history.records.reduce((m, r) => Math.max(m, r.seq), 0) + 1;
      const rec = scrubRecord(seq, opId, report, opts.actor);
      writes.push({ file: path.join(folder, HISTORY), content: history.content + formatLine(rec) });
    }

    if (!opts.apply) return report;
    // The snapshot holds memories' texts as they were: removed first (derived; the next open folds the new history).
    if (writes.length) fs.rmSync(path.join(folder, SNAPSHOT_FILE), { force: true });
    for (const w of writes) writeDurably(w.file, w.content);
    for (const name of report.damagedVectorFiles) fs.rmSync(path.join(folder, name), { force: true });
    report.applied = true;
    if (report.total) report.opId = opId;
    return report;
  };
  if (!opts.apply) return run();
  // Under the bank's lock: no other process writes while the files are replaced.
  return new FileLock(path.join(folder, 'bank.lock')).withLock(run);
}

/** A report as lines for a terminal or a dialog: counts and locations, never a secret. */
export function formatScrubReport(r: ScrubReport): string[] {
  if (!r.total && !r.vectorsDropped && !r.damagedVectorFiles.length) return [`No secrets found in ${r.bank}.`];
  const lines = [`${r.applied ? 'Scrubbed' : 'Found'} ${describeCounts(r.kinds)} in ${r.bank}:`];
  for (const l of r.locations) {
    const where = l.where.length ? ` (${l.where.join(', ')}${l.entries > l.where.length ? ', …' : ''})` : '';
    const kinds = describeCounts(l.kinds).replace(/^\d+ secrets? \(|\)$/g, '');
    lines.push(l.what === 'export' || l.what.startsWith('batches') ? `  ${l.file} (${l.what}): ${l.secrets}: ${kinds}` : `  ${l.file}: ${l.secrets} in ${l.entries} ${l.what}${where}: ${kinds}`);
  }
  if (r.vectorsDropped) lines.push(`  ${r.vectorsDropped} search vector(s) computed from those texts ${r.applied ? 'were dropped' : 'will be dropped'}; they are recomputed when the bank next opens.`);
  if (r.damagedVectorFiles.length) lines.push(`  ${r.damagedVectorFiles.length} damaged vector file(s) set aside earlier ${r.applied ? 'were deleted' : 'will be deleted'}.`);
  return lines;
}

// ---------------------------------------------------------------------------------------------- parts

/** The history's SCRUB record: what was found and where, as counts; never the secrets. */
function scrubRecord(seq: number, opId: string, report: ScrubReport, actor: string | undefined): StoredRecord {
  return {
    seq,
    opId,
    batchId: opId,
    action: 'SCRUB',
    memoryId: '',
    reason: `secrets scrubbed: ${describeCounts(report.kinds)} in ${report.locations.map((l) => l.file).join(', ')}`,
    redactions: { ...report.kinds },
    source: { kind: 'manual', ...(actor ? { actor } : {}) },
    ...(actor ? { actor } : {}),
    time: nowIso(),
  };
}

function newLoc(file: string, what: string): ScrubLocation {
  return { file, what, entries: 0, secrets: 0, kinds: {}, where: [] };
}

function record(loc: ScrubLocation, where: string, found: RedactionCounts): void {
  const n = countTotal(found);
  if (!n) return;
  loc.entries++;
  loc.secrets += n;
  addCounts(loc.kinds, found);
  if (where && loc.where.length < 20) loc.where.push(where);
}

function scrubHistory(file: string): { loc: ScrubLocation; content: string; records: StoredRecord[] } {
  const loc = newLoc(HISTORY, 'history records');
  const records: StoredRecord[] = [];
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { loc, content: '', records };
  }
  const out: string[] = [];
  const lines = text.split('\n');
  // After the last newline: a crashed writer's unacknowledged bytes (we hold the lock). Opening the bank
  // cuts them anyway; the rewrite leaves them out so the SCRUB record starts on a line of its own.
  let torn = lines.pop() ?? '';
  // A last record that only lost its newline passed its checksum: it is acknowledged, and kept.
  if (torn && parseRecordLine(torn)) {
    lines.push(torn);
    torn = '';
  }
  lines.forEach((line, i) => {
    if (!line.trim()) {
      out.push(line + '\n');
      return;
    }
    const rec = parseRecordLine(line);
    const found: RedactionCounts = {};
    if (!rec) {
      // A damaged line the bank skips: redacted as text (it stays damaged, and skipped).
      out.push(P.text(line, found) + '\n');
      record(loc, `line ${i + 1}`, found);
      return;
    }
    const clean = redactRecord(P, rec, found);
    if (countTotal(found)) {
      clean.redactions = addCounts({ ...(rec.redactions ?? {}) }, found);
      out.push(formatLine(clean));
      record(loc, `seq ${rec.seq}`, found);
    } else {
      out.push(line + '\n');
    }
    records.push(clean);
  });
  const tornFound: RedactionCounts = {};
  if (torn) P.text(torn, tornFound);
  record(loc, 'unfinished last line (dropped)', tornFound);
  records.sort((a, b) => a.seq - b.seq);
  return { loc, content: out.join(''), records };
}

function parseRecordLine(line: string): StoredRecord | undefined {
  if (line.indexOf(' ') !== 8) return undefined;
  const json = line.slice(9);
  if (parseInt(line.slice(0, 8), 16) !== crc32(json)) return undefined;
  try {
    const rec = JSON.parse(json) as StoredRecord;
    return typeof rec.seq === 'number' && typeof rec.opId === 'string' ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** One JSON line redacted (a line that is not JSON as text), its findings recorded under line `i + 1`. */
function scrubLine(line: string, loc: ScrubLocation, i: number): { clean: string; found: RedactionCounts } {
  const found: RedactionCounts = {};
  let clean: string;
  try {
    clean = JSON.stringify(P.deep(JSON.parse(line), found));
  } catch {
    clean = P.text(line, found);
  }
  record(loc, `line ${i + 1}`, found);
  return { clean, found };
}

function scrubJsonLines(file: string, what: string, label: string): { loc: ScrubLocation; content: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const loc = newLoc(label, what);
  const out = text.split('\n').map((line, i) => {
    if (!line.trim()) return line;
    const { clean, found } = scrubLine(line, loc, i);
    return countTotal(found) ? clean : line;
  });
  return { loc, content: out.join('\n') };
}

function scrubJsonText(raw: string, loc: ScrubLocation, what: string): string {
  const found: RedactionCounts = {};
  let content: string;
  try {
    content = JSON.stringify(P.deep(JSON.parse(raw), found), null, 1);
  } catch {
    content = P.text(raw, found);
  }
  record(loc, '', found);
  return countTotal(found) ? content : raw;
}

function scrubPlainText(raw: string, loc: ScrubLocation): string {
  const out = raw.split('\n').map((line, i) => {
    const found: RedactionCounts = {};
    const clean = P.text(line, found);
    record(loc, `line ${i + 1}`, found);
    return clean;
  });
  return out.join('\n');
}

function readExport(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BankError('NOT_FOUND', `Cannot read the export ${file}: ${(err as Error).message}`);
  }
}

/**
 * The capture queue: its pending events are redacted and written under a new generation, with the
 * acknowledgement reset to match (the same steps as the queue's own compaction, so a crash between
 * the two files leaves exactly the pending events). Events already processed are dropped.
 */
function scrubQueue(folder: string): { loc: ScrubLocation; writes: PlannedWrite[] } | undefined {
  const file = path.join(folder, QUEUE);
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const loc = newLoc(QUEUE, 'capture events');
  const lines = raw.split('\n');
  let header: { generation?: string } | undefined;
  try {
    header = JSON.parse(lines[0]);
  } catch {
    header = undefined;
  }
  let ack: { generation?: string; offset?: number; inFlight?: unknown } | undefined;
  try {
    ack = JSON.parse(fs.readFileSync(path.join(folder, QUEUE_ACK), 'utf8'));
  } catch {
    ack = undefined;
  }
  const acked = header?.generation && ack?.generation === header.generation && Number.isInteger(ack.offset) ? (ack.offset as number) : 0;
  let pos = 0;
  const pending: string[] = [];
  lines.forEach((line, i) => {
    const start = pos;
    pos += Buffer.byteLength(line, 'utf8') + 1;
    if (i === 0 && header?.generation) return;
    if (!line.trim()) return;
    const { clean } = scrubLine(line, loc, i);
    // Processed events (before the acknowledged offset) are not kept; partial last lines neither.
    if (start >= acked && i < lines.length - 1) pending.push(clean);
  });
  const generation = randomUUID();
  const headerLine = JSON.stringify({ queue: 'project-memory-capture', version: 1, generation }) + '\n';
  const content = headerLine + pending.map((l) => l + '\n').join('');
  const newAck = { generation, offset: Buffer.byteLength(headerLine), ...(ack?.inFlight ? { inFlight: ack.inFlight } : {}) };
  return { loc, writes: [{ file, content }, { file: path.join(folder, QUEUE_ACK), content: JSON.stringify(newAck) }] };
}

function vectorDims(file: string): number | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const h = Buffer.alloc(16);
      if (fs.readSync(fd, h, 0, 16, 0) < 16) return undefined;
      return h.readUInt32LE(4);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** A vector slot file holding `entries`, in the vector log's own format (written through it to a scratch file). */
function vectorFileBytes(dims: number, entries: VectorEntry[]): Uint8Array {
  const scratch = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pm-scrub-')), 'v.bin');
  try {
    const log = VectorLog.open(scratch, dims);
    log.append(entries);
    return fs.readFileSync(scratch);
  } finally {
    fs.rmSync(path.dirname(scratch), { recursive: true, force: true });
  }
}

/** Temp file + fsync + rename, then fsync of the folder so the rename itself survives a crash. */
function writeDurably(file: string, content: string | Uint8Array): void {
  writeFileAtomic(file, content);
  try {
    const fd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* some platforms cannot open a directory for fsync */
  }
}


/** What scrubbing a database-backed store needs of it: one transaction that rewrites its rows. */
export interface RowRewriter {
  readonly location: string;
  rewriteRows(opts: {
    apply: boolean;
    redactRecord: (r: StoredRecord) => StoredRecord | undefined;
    redactSide: (name: string, body: unknown, pos: number) => unknown | undefined;
    finalRecord: (seq: number) => StoredRecord | undefined;
  }): Promise<{ vectorsDropped: number }>;
}

/**
 * Scrubs a store whose rows can be rewritten in one transaction (PgStorage.scrub): records, side logs and
 * documents are rewritten under the bank's lock, all or nothing, with the SCRUB record. Other clients keep
 * what they had loaded until they reopen the bank.
 */
export async function scrubRowStore(storage: RowRewriter, opts: Omit<ScrubOptions, 'exports'> = {}): Promise<ScrubReport> {
  const report: ScrubReport = { bank: storage.location, locations: [], total: 0, kinds: {}, vectorsDropped: 0, damagedVectorFiles: [], applied: false };
  const records = newLoc('pm_records', 'history records');
  const side: Record<string, ScrubLocation> = {};
  const opId = newId();
  const r = await storage.rewriteRows({
    apply: !!opts.apply,
    redactRecord: (rec) => {
      const found: RedactionCounts = {};
      const clean = redactRecord(P, rec, found);
      if (!countTotal(found)) return undefined;
      record(records, `seq ${rec.seq}`, found);
      return { ...clean, redactions: addCounts({ ...(rec.redactions ?? {}) }, found) };
    },
    redactSide: (name, body, pos) => {
      const found: RedactionCounts = {};
      const clean = P.deep(body, found);
      if (!countTotal(found)) return undefined;
      const loc = (side[name] ??= newLoc(`pm_side/${name}`, name === 'pending' ? 'batches held for approval' : name));
      if (pos < 0) loc.file = `pm_docs/${name}`;
      record(loc, pos >= 0 ? `pos ${pos}` : '', found);
      return clean;
    },
    finalRecord: (seq) => {
      for (const loc of [records, ...Object.values(side)]) if (loc.secrets) {
        report.locations.push(loc);
        report.total += loc.secrets;
        addCounts(report.kinds, loc.kinds);
      }
      if (!report.total) return undefined;
      return scrubRecord(seq, opId, report, opts.actor);
    },
  });
  if (!opts.apply) {
    for (const loc of [records, ...Object.values(side)]) if (loc.secrets) {
      report.locations.push(loc);
      report.total += loc.secrets;
      addCounts(report.kinds, loc.kinds);
    }
  }
  report.vectorsDropped = report.total ? r.vectorsDropped : 0;
  report.applied = !!opts.apply;
  if (opts.apply && report.total) report.opId = opId;
  return report;
}
