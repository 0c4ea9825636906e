import * as fs from 'node:fs';
import { writeFileAtomic } from '../util/atomicFile';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { CaptureEvent } from '../types';
import { PrivacyBoundary, redactSource } from '../privacy/boundary';

/** The queue is stored in the bank folder: what it holds passes the same boundary as the bank (always on). */
const PRIVACY = new PrivacyBoundary('on');
const redactEvent = (e: CaptureEvent): CaptureEvent => ({ ...e, text: PRIVACY.text(e.text), source: redactSource(PRIVACY, e.source, {}) });

const QUEUE_FILE = 'capture-queue.jsonl';
const ACK_FILE = 'capture-queue.ack.json';
const FAILED_FILE = 'capture-failed.jsonl';
/** Rewrite the queue file once this many acknowledged bytes sit at its head. */
const COMPACT_BYTES = 256 * 1024;

interface QueueHeader {
  queue: 'project-memory-capture';
  version: 1;
  generation: string;
}

/** The acknowledged state: everything before `offset` in the queue file of `generation` is done. */
interface AckState {
  generation: string;
  offset: number;
  /** Set while an event is being processed, so a crash mid-way can be detected on restart. */
  inFlight?: { id: string; since: string };
}

interface Entry {
  event: CaptureEvent;
  /** Byte offset just past this event's line. */
  end: number;
}

/**
 * A durable FIFO of capture events: an append-only JSONL file plus an atomically rewritten
 * acknowledgement offset. Events survive restarts; an acknowledged event is never handed out again.
 * One process owns a queue (the extension host of the workspace's window).
 */
export class EventQueue {
  private entries: Entry[] = [];
  private header!: QueueHeader;
  private ackState!: AckState;
  private fileSize = 0;
  /** Lines that did not parse when the queue was opened (skipped, kept in the failed file). */
  readonly skippedOnOpen: number = 0;

  private constructor(readonly folder: string) {}

  get queuePath(): string {
    return path.join(this.folder, QUEUE_FILE);
  }

  get failedPath(): string {
    return path.join(this.folder, FAILED_FILE);
  }

  static open(folder: string): EventQueue {
    fs.mkdirSync(folder, { recursive: true });
    const q = new EventQueue(folder);
    q.load();
    return q;
  }

  /** Events not yet acknowledged. */
  get length(): number {
    return this.entries.length;
  }

  /** The event that was being processed when the previous session stopped, if any. */
  get interrupted(): { id: string; since: string } | undefined {
    const f = this.ackState.inFlight;
    return f && this.entries[0]?.event.id === f.id ? f : undefined;
  }

  peek(max = 1): CaptureEvent[] {
    return this.entries.slice(0, max).map((e) => e.event);
  }

  /** Appends events durably (fsync) before returning. */
  append(events: CaptureEvent[]): void {
    if (!events.length) return;
    events = events.map((e) => redactEvent(validateEvent(e)));
    const lines = events.map((e) => JSON.stringify(e) + '\n').join('');
    const buf = Buffer.from(lines, 'utf8');
    const fd = fs.openSync(this.queuePath, 'a');
    try {
      fs.writeSync(fd, buf);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    let pos = this.fileSize;
    for (const e of events) {
      pos += Buffer.byteLength(JSON.stringify(e) + '\n', 'utf8');
      this.entries.push({ event: e, end: pos });
    }
    this.fileSize = pos;
  }

  /** Records that the head event is being processed (see `interrupted`). */
  markInFlight(id: string): void {
    const head = this.entries[0];
    if (!head || head.event.id !== id) throw new Error(`Event ${id} is not at the head of the capture queue.`);
    this.writeAck({ ...this.ackState, inFlight: { id, since: new Date().toISOString() } });
  }

  /** Acknowledges the head event: it will not be returned again, also after a restart. */
  ack(id: string): void {
    const head = this.entries[0];
    if (!head || head.event.id !== id) throw new Error(`Event ${id} is not at the head of the capture queue.`);
    this.writeAck({ generation: this.header.generation, offset: head.end });
    this.entries.shift();
    if (this.ackState.offset >= COMPACT_BYTES) this.compact();
  }

  /** Moves the head event to the failed file (kept for inspection) and acknowledges it. */
  deadLetter(id: string, error: string): void {
    const head = this.entries[0];
    if (!head || head.event.id !== id) throw new Error(`Event ${id} is not at the head of the capture queue.`);
    fs.appendFileSync(this.failedPath, JSON.stringify({ ...head.event, error: PRIVACY.text(error), failedAt: new Date().toISOString() }) + '\n');
    this.ack(id);
  }

  /** Drops every pending event (the user cleared the queue). */
  clear(): number {
    const n = this.entries.length;
    if (n) {
      this.writeAck({ generation: this.header.generation, offset: this.fileSize });
      this.entries = [];
    }
    this.compact();
    return n;
  }

  /**
   * Rewrites the file with only the pending events under a new generation. A crash between the
   * rename and the ack write leaves an ack of the old generation, which reads as "nothing acked":
   * exactly the pending events, so nothing is lost or repeated.
   */
  compact(): void {
    const header: QueueHeader = { queue: 'project-memory-capture', version: 1, generation: randomUUID() };
    let content = JSON.stringify(header) + '\n';
    const headerBytes = Buffer.byteLength(content);
    let pos = headerBytes;
    const entries: Entry[] = [];
    for (const e of this.entries) {
      const line = JSON.stringify(e.event) + '\n';
      content += line;
      pos += Buffer.byteLength(line);
      entries.push({ event: e.event, end: pos });
    }
    writeFileAtomic(this.queuePath, content);
    this.header = header;
    this.entries = entries;
    this.fileSize = pos;
    this.writeAck({ generation: header.generation, offset: headerBytes });
  }

  private load(): void {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(this.queuePath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      raw = Buffer.alloc(0);
    }
    // A torn last line (crash mid-append) was never acknowledged to the caller: cut it off.
    const lastNl = raw.lastIndexOf(0x0a);
    if (lastNl + 1 < raw.length) {
      fs.truncateSync(this.queuePath, lastNl + 1);
      raw = raw.subarray(0, lastNl + 1);
    }
    const firstNl = raw.indexOf(0x0a);
    const header = firstNl > 0 ? parseHeader(raw.toString('utf8', 0, firstNl)) : undefined;
    if (!header) {
      this.entries = [];
      this.compactFrom(raw);
      return;
    }
    this.header = header;
    this.fileSize = raw.length;
    const ack = readAck(path.join(this.folder, ACK_FILE));
    const start = ack && ack.generation === header.generation ? Math.max(firstNl + 1, ack.offset) : firstNl + 1;
    this.ackState = ack && ack.generation === header.generation ? ack : { generation: header.generation, offset: start };
    let skipped = 0;
    let pos = start;
    while (pos < raw.length) {
      const nl = raw.indexOf(0x0a, pos);
      const line = raw.toString('utf8', pos, nl);
      const end = nl + 1;
      pos = end;
      if (!line.trim()) continue;
      try {
        this.entries.push({ event: validateEvent(JSON.parse(line)), end });
      } catch (err) {
        skipped++;
        fs.appendFileSync(this.failedPath, JSON.stringify({ line, error: (err as Error).message, failedAt: new Date().toISOString() }) + '\n');
      }
    }
    (this as { skippedOnOpen: number }).skippedOnOpen = skipped;
  }

  /** A queue file without a valid header (first use, or damaged): keep any parsable events. */
  private compactFrom(raw: Buffer): void {
    for (const line of raw.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        this.entries.push({ event: validateEvent(JSON.parse(line)), end: 0 });
      } catch {
        /* not an event (an old header or garbage) */
      }
    }
    this.ackState = { generation: '', offset: 0 };
    this.compact();
  }

  private writeAck(state: AckState): void {
    writeFileAtomic(path.join(this.folder, ACK_FILE), JSON.stringify(state));
    this.ackState = state;
  }
}

function parseHeader(line: string): QueueHeader | undefined {
  try {
    const h = JSON.parse(line);
    return h && h.queue === 'project-memory-capture' && typeof h.generation === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function readAck(file: string): AckState | undefined {
  try {
    const a = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof a?.generation === 'string' && Number.isInteger(a?.offset) ? a : undefined;
  } catch {
    return undefined;
  }
}

function validateEvent(e: unknown): CaptureEvent {
  const ev = e as CaptureEvent;
  if (!ev || typeof ev !== 'object' || typeof ev.id !== 'string' || typeof ev.text !== 'string' || typeof ev.time !== 'string' || !ev.source || typeof ev.source.kind !== 'string') {
    throw new Error('not a capture event (needs id, text, time and source.kind)');
  }
  return ev;
}

