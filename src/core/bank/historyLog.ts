import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from '../util/text';
import type { HistoryRecord } from '../types';
import { runSteps, runStepsYielding, yieldToEventLoop } from '../util/steps';

/** A history record as stored (imports may carry the memory's original creation time). */
export interface StoredRecord extends HistoryRecord {
  createdAt?: string;
  /** On disk only, on the first line of a multi-record append: how many lines form that atomic unit. */
  commitSize?: number;
}

export interface LogReadResult {
  records: StoredRecord[];
  /** Byte offset just past the last complete record read. */
  nextOffset: number;
  /**
   * Lines that failed their checksum or did not parse (skipped, reported; they stay in the file).
   * `records` is how many records the damaged text held, as far as can be told (two lines joined by a
   * lost line break are one damaged line holding two records).
   */
  corrupt: { offset: number; reason: string; records: number }[];
  /** Bytes after the last complete record: a write that was cut off before it was acknowledged. */
  tornBytes: number;
  /** Records read back from lines that had lost their line breaks (each passed its own checksum). */
  rejoined: number;
}

/** Lines parsed between pauses when reading asynchronously. */
const READ_SLICE = 1000;

/**
 * The append-only history: one line per record, `<crc32 hex> <json>\n`. A record is acknowledged
 * only after its line is fsynced, so a torn tail is never an acknowledged operation.
 */
export class HistoryLog {
  constructor(readonly path: string) {}

  /** Reads complete records from `fromOffset` on (up to `toOffset`, a record boundary, when given). */
  read(fromOffset = 0, toOffset?: number): LogReadResult {
    return runSteps(this.readSteps(fromOffset, toOffset));
  }

  /**
   * The record whose line ends exactly at `offset` (a cursor the bank read up to), or undefined when no
   * whole record ends there: how a snapshot checks that the history it was folded from is still this one.
   */
  recordEndingAt(offset: number): StoredRecord | undefined {
    if (offset <= 0) return undefined;
    const fd = this.openHolding(offset);
    if (fd === undefined) return undefined;
    try {
      // Lines are short but a record with many candidates can be long: widen the window until a line start.
      for (let window = 64 << 10; ; window *= 4) {
        const start = Math.max(0, offset - window);
        const buf = Buffer.alloc(offset - start);
        fs.readSync(fd, buf, 0, buf.length, start);
        if (buf[buf.length - 1] !== 0x0a) return undefined;
        const nl = buf.lastIndexOf(0x0a, buf.length - 2);
        if (nl < 0 && start > 0) continue;
        const rec = parseLine(buf.toString('utf8', nl + 1, buf.length - 1));
        return typeof rec === 'string' ? undefined : rec;
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The history opened for reading when it holds at least `bytes` bytes (else undefined, nothing left open). */
  private openHolding(bytes: number): number | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch {
      return undefined;
    }
    try {
      if (fs.fstatSync(fd).size >= bytes) return fd;
    } catch {
      /* closed below */
    }
    fs.closeSync(fd);
    return undefined;
  }

  /** `read`, giving the event loop a turn every few thousand lines. */
  readAsync(fromOffset = 0): Promise<LogReadResult> {
    return runStepsYielding(this.readSteps(fromOffset));
  }

  private *readSteps(fromOffset: number, toOffset?: number): Generator<void, LogReadResult> {
    let buf: Buffer;
    try {
      const fd = fs.openSync(this.path, 'r');
      try {
        const size = Math.min(fs.fstatSync(fd).size, toOffset ?? Infinity);
        buf = Buffer.alloc(Math.max(0, size - fromOffset));
        if (buf.length) fs.readSync(fd, buf, 0, buf.length, fromOffset);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], nextOffset: 0, corrupt: [], tornBytes: 0, rejoined: 0 };
      throw err;
    }
    const records: StoredRecord[] = [];
    const corrupt: LogReadResult['corrupt'] = [];
    let rejoined = 0;
    let pos = 0;
    // A multi-record append is one unit: its lines count only once all are there. A crash can cut a
    // write at a page boundary, leaving whole lines of an unacknowledged batch before the torn bytes.
    let group: { start: number; left: number; records: StoredRecord[]; corrupt: LogReadResult['corrupt'] } | undefined;
    for (let lines = 1; pos < buf.length; lines++) {
      if (lines % READ_SLICE === 0) yield;
      const nl = buf.indexOf(0x0a, pos);
      // The last line may lack its newline (a file cut by one byte, an editor that strips it): if it
      // passes its checksum it is a whole, acknowledged record, and the next append adds the newline.
      const end = nl < 0 ? buf.length : nl;
      const line = buf.toString('utf8', pos, end);
      const lineOffset = fromOffset + pos;
      const lineStart = pos;
      if (!line.trim()) {
        pos = end + 1;
        continue;
      }
      let parsed: (StoredRecord | string)[] = [parseLine(line)];
      if (typeof parsed[0] === 'string') {
        // A lost line break joins two lines into one that fails its checksum: read each part on its own.
        const parts = splitJoinedLine(line);
        if (parts.length > 1) {
          parsed = parts.map(parseLine);
          rejoined += parsed.filter((r) => typeof r !== 'string').length;
        }
      }
      if (nl < 0 && parsed.some((r) => typeof r === 'string')) break; // an unfinished write: the torn tail
      pos = nl < 0 ? buf.length : nl + 1;
      for (const rec of parsed) {
        if (!group && typeof rec !== 'string' && rec.commitSize && rec.commitSize > 1) {
          group = { start: lineStart, left: rec.commitSize, records: [], corrupt: [] };
        }
        if (typeof rec !== 'string') delete rec.commitSize;
        const into = group ?? { records, corrupt };
        if (typeof rec === 'string') into.corrupt.push({ offset: lineOffset, reason: rec, records: recordsIn(line, parsed.length) });
        else into.records.push(rec);
        if (group && --group.left === 0) {
          records.push(...group.records);
          corrupt.push(...group.corrupt);
          group = undefined;
        }
      }
    }
    if (group) pos = group.start; // an unfinished batch is part of the torn tail
    return { records, nextOffset: fromOffset + pos, corrupt, tornBytes: buf.length - pos, rejoined };
  }

  /** The file's size and modification time (nanoseconds): unchanged unless something wrote to it. */
  stamp(): { size: number; mtimeNs: string } | undefined {
    try {
      const st = fs.statSync(this.path, { bigint: true });
      return { size: Number(st.size), mtimeNs: String(st.mtimeNs) };
    } catch {
      return undefined;
    }
  }

  /** CRC-32 of the first `length` bytes, read in chunks (giving the event loop a turn between them). */
  async prefixCrc(length: number): Promise<number | undefined> {
    const fd = this.openHolding(length);
    if (fd === undefined) return undefined;
    try {
      const buf = Buffer.alloc(Math.min(length, 4 << 20));
      let crc = 0;
      for (let at = 0; at < length; ) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - at), at);
        if (n <= 0) return undefined;
        crc = crc32(buf.subarray(0, n), crc);
        at += n;
        if (at < length) await yieldToEventLoop();
      }
      return crc;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Appends and fsyncs; the caller holds the bank's write lock. */
  append(records: StoredRecord[]): number {
    let text = records.map((r, i) => formatLine(i === 0 && records.length > 1 ? { ...r, commitSize: records.length } : r)).join('');
    const fd = fs.openSync(this.path, 'a+');
    try {
      // A last record that lost its newline is complete (it passed its checksum when read): end its line first.
      if (!endsWithNewline(fd)) text = '\n' + text;
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
      return fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Moves a torn tail left by a crashed writer (the bytes from `size` on: never an acknowledged record)
   * into a side file beside the history, then cuts it. Only called under the write lock. Returns the
   * side file's name, or undefined when there was nothing past `size`.
   */
  setAsideTail(size: number): string | undefined {
    const total = this.size();
    if (total <= size) return undefined;
    const tail = Buffer.alloc(total - size);
    const fd = fs.openSync(this.path, 'r');
    try {
      fs.readSync(fd, tail, 0, tail.length, size);
    } finally {
      fs.closeSync(fd);
    }
    const aside = `${this.path.replace(/\.jsonl$/, '')}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
    const out = fs.openSync(aside, 'wx');
    try {
      fs.writeSync(out, tail);
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
    fs.truncateSync(this.path, size);
    return path.basename(aside);
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

function endsWithNewline(fd: number): boolean {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

/** Where a line holds several `<crc32> {` starts, the parts between them (a lost line break); else []. */
function splitJoinedLine(line: string): string[] {
  const starts = [...line.matchAll(/[0-9a-f]{8} \{/g)].map((m) => m.index!).filter((i) => i === 0 || line[i - 1] === '}');
  if (starts.length < 2 || starts[0] !== 0) return [];
  return starts.map((s, i) => line.slice(s, starts[i + 1] ?? line.length));
}

/** How many records a damaged line held, as far as can be told (each record has one `"opId"`). */
function recordsIn(line: string, parts: number): number {
  if (parts > 1) return 1;
  return Math.max(1, line.split('"opId":').length - 1);
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
