import * as fs from 'node:fs';
import { crc32 } from '../util/text';
import type { HistoryRecord } from '../types';
import { runSteps, runStepsYielding } from '../util/steps';

/** A history record as stored (imports may carry the memory's original creation time). */
export interface StoredRecord extends HistoryRecord {
  createdAt?: string;
  /** On disk only, on the first line of a multi-record append: how many lines form that atomic unit. */
  commitSize?: number;
}

export interface LogReadResult {
  records: StoredRecord[];
  /** Byte offset just past the last complete line read. */
  nextOffset: number;
  /** Lines that failed their checksum or did not parse (skipped, reported). */
  corrupt: { offset: number; reason: string }[];
  /** Bytes after the last newline: a write that was cut off before it was acknowledged. */
  tornBytes: number;
}


/** Lines parsed between pauses when reading asynchronously. */
const READ_SLICE = 1000;

/**
 * The append-only history: one line per record, `<crc32 hex> <json>\n`. A record is acknowledged
 * only after its line is fsynced, so a torn tail is never an acknowledged operation.
 */
export class HistoryLog {
  constructor(readonly path: string) {}

  read(fromOffset = 0): LogReadResult {
    return runSteps(this.readSteps(fromOffset));
  }

  /** `read`, giving the event loop a turn every few thousand lines. */
  readAsync(fromOffset = 0): Promise<LogReadResult> {
    return runStepsYielding(this.readSteps(fromOffset));
  }

  private *readSteps(fromOffset: number): Generator<void, LogReadResult> {
    let buf: Buffer;
    try {
      const fd = fs.openSync(this.path, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        buf = Buffer.alloc(Math.max(0, size - fromOffset));
        if (buf.length) fs.readSync(fd, buf, 0, buf.length, fromOffset);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], nextOffset: 0, corrupt: [], tornBytes: 0 };
      throw err;
    }
    const records: StoredRecord[] = [];
    const corrupt: LogReadResult['corrupt'] = [];
    let pos = 0;
    // A multi-record append is one unit: its lines count only once all are there. A crash can cut a
    // write at a page boundary, leaving whole lines of an unacknowledged batch before the torn bytes.
    let group: { start: number; left: number; records: StoredRecord[]; corrupt: LogReadResult['corrupt'] } | undefined;
    for (let lines = 1; ; lines++) {
      if (lines % READ_SLICE === 0) yield;
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const line = buf.toString('utf8', pos, nl);
      const lineOffset = fromOffset + pos;
      const lineStart = pos;
      pos = nl + 1;
      if (!line.trim()) continue;
      const rec = parseLine(line);
      if (!group && typeof rec !== 'string' && rec.commitSize && rec.commitSize > 1) {
        group = { start: lineStart, left: rec.commitSize, records: [], corrupt: [] };
      }
      if (typeof rec !== 'string') delete rec.commitSize;
      const into = group ?? { records, corrupt };
      if (typeof rec === 'string') into.corrupt.push({ offset: lineOffset, reason: rec });
      else into.records.push(rec);
      if (group && --group.left === 0) {
        records.push(...group.records);
        corrupt.push(...group.corrupt);
        group = undefined;
      }
    }
    if (group) pos = group.start; // an unfinished batch is part of the torn tail
    return { records, nextOffset: fromOffset + pos, corrupt, tornBytes: buf.length - pos };
  }

  /** Appends and fsyncs; the caller holds the bank's write lock. */
  append(records: StoredRecord[]): number {
    const text = records.map((r, i) => formatLine(i === 0 && records.length > 1 ? { ...r, commitSize: records.length } : r)).join('');
    const fd = fs.openSync(this.path, 'a');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
      return fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Cuts a torn tail left by a crashed writer. Only called under the write lock. */
  truncate(size: number): void {
    fs.truncateSync(this.path, size);
  }

  size(): number {
    try {
      return fs.statSync(this.path).size;
    } catch {
      return 0;
    }
  }
}

export function formatLine(rec: StoredRecord): string {
  const json = JSON.stringify(rec);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

function parseLine(line: string): StoredRecord | string {
  const sp = line.indexOf(' ');
  if (sp !== 8) return 'missing checksum';
  const json = line.slice(9);
  if (parseInt(line.slice(0, 8), 16) !== crc32(json)) return 'checksum mismatch';
  try {
    const rec = JSON.parse(json) as StoredRecord;
    if (typeof rec.seq !== 'number' || typeof rec.opId !== 'string' || typeof rec.action !== 'string') return 'not a history record';
    return rec;
  } catch {
    return 'invalid JSON';
  }
}
