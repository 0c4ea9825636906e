// The bank's folded state at one point of its history, saved so that opening a large bank does not replay
// the whole history: memories, the maps the bank keeps beside them, and the compact BM25 index. Derived
// data only: the history stays the truth. A snapshot names the history record it was folded up to (byte
// offset, sequence number, operation id); the bank uses it only when that record is still the one ending
// at that offset, and otherwise folds the history from the start and writes a new one.
import type { Memory, MemoryStatus, SourceRef } from '../types';
import type { Bm25Snapshot } from '../retrieval/bm25';
import { crc32 } from '../util/text';
import { runStepsYielding } from '../util/steps';

/** What the snapshot was folded up to. */
export interface SnapshotCheck {
  /** History cursor just past the last folded record. */
  offset: number;
  lastSeq: number;
  lastOpId: string;
  /** CRC-32 of the history before `offset`: a line damaged or edited since is found, as folding would find it. */
  prefixCrc: number;
  /** The history's size and modification time when the snapshot was written: while unchanged, the checksum need not be read again. */
  stamp: string;
}

export interface FoldedState {
  check: SnapshotCheck;
  nextSeq: number;
  /** In the bank's insertion order (creation order: search's source neighbours depend on it). */
  memories: Memory[];
  /** Each memory's text hash, in the same order. */
  hashes: string[];
  /** Which memory holds each text among the active ones (positions in `memories`, in the bank's map order). */
  hashHolders: number[];
  eventBySource: [string, string][];
  /** Memory id → the capture event that wrote its current text. */
  eventOf: [string, string][];
  /** What folding the history up to `check` found damaged, reported again on each open. */
  damage: { corruptLines: number; corruptRecords: number; reasons: string[]; rejoined: number };
  bm25: Bm25Snapshot;
  /** Source-neighbour links, `[earlier, later]` memory ids. */
  links: [string, string][];
}

/** The file store's name for it, in the bank folder. */
export const SNAPSHOT_FILE = 'snapshot.bin';

const MAGIC = 'PMSNAP01';
const STATUS: MemoryStatus[] = ['active', 'superseded', 'deleted'];

/**
 * Memories as columns, each its own JSON section (parsing makes the strings and a few arrays, not an
 * object per memory, and the event loop gets a turn between sections). `updatedAt` 0 where it equals
 * `createdAt`; `source` an index into the sources table; rarely set fields in `sparse`, by position.
 */
interface Columns {
  id: string[];
  text: string[];
  status: number[];
  createdAt: string[];
  updatedAt: (string | 0)[];
  source: number[];
  pinned: number[];
  sparse: [position: number, fields: Partial<Pick<Memory, 'tags' | 'eventTime' | 'kind' | 'validTo' | 'supersededBy' | 'supersedes'>>][];
}

/** Small fields, in the header. */
interface Header {
  check: SnapshotCheck;
  nextSeq: number;
  damage: FoldedState['damage'];
  /** Each section's byte length, in file order. */
  sections: [name: string, bytes: number][];
}

const JSON_SECTIONS = ['id', 'text', 'status', 'createdAt', 'updatedAt', 'source', 'pinned', 'sparse', 'sources', 'eventBySource', 'eventOf', 'terms'] as const;
const BINARY_SECTIONS = ['hashes', 'hashHolders', 'slotMemory', 'termStart', 'postSlot', 'postTf', 'slotLen', 'links'] as const;
type JsonSection = (typeof JSON_SECTIONS)[number];
type BinarySection = (typeof BINARY_SECTIONS)[number];
/** Text hashes are 32 hex digits (util/text textHash): stored as their 16 bytes. */
const HASH_BYTES = 16;

/**
 * Layout: magic (8 bytes), crc32 of the rest (4), header length (4), header JSON, then the sections named
 * in the header (JSON text or little-endian int32 arrays), each padded to 4 bytes.
 */
export function encodeSnapshot(s: FoldedState): Buffer {
  const sources: SourceRef[] = [];
  const sourceIndex = new Map<string, number>();
  const cols: Columns = { id: [], text: [], status: [], createdAt: [], updatedAt: [], source: [], pinned: [], sparse: [] };
  s.memories.forEach((m, i) => {
    const key = JSON.stringify(m.source);
    let si = sourceIndex.get(key);
    if (si === undefined) {
      sourceIndex.set(key, (si = sources.length));
      sources.push(m.source);
    }
    cols.id.push(m.id);
    cols.text.push(m.text);
    cols.status.push(STATUS.indexOf(m.status));
    cols.createdAt.push(m.createdAt);
    cols.updatedAt.push(m.updatedAt === m.createdAt ? 0 : m.updatedAt);
    cols.source.push(si);
    if (m.pinned) cols.pinned.push(i);
    const sparse: Columns['sparse'][number][1] = {};
    if (m.tags.length) sparse.tags = m.tags;
    for (const k of ['eventTime', 'kind', 'validTo', 'supersededBy', 'supersedes'] as const) if (m[k] !== undefined) (sparse as Record<string, unknown>)[k] = m[k];
    if (Object.keys(sparse).length) cols.sparse.push([i, sparse]);
  });
  const position = new Map(s.memories.map((m, i) => [m.id, i]));
  const positionOf = (id: string): number => {
    const p = position.get(id);
    if (p === undefined) throw new Error('a link or lexical slot names a memory the bank does not hold');
    return p;
  };
  const hashes = Buffer.alloc(s.hashes.length * HASH_BYTES);
  s.hashes.forEach((h, i) => {
    if (!/^[0-9a-f]{32}$/.test(h)) throw new Error('a text hash that is not 32 hex digits');
    hashes.write(h, i * HASH_BYTES, 'hex');
  });
  const json: Record<JsonSection, unknown> = { ...cols, sources, eventBySource: s.eventBySource, eventOf: s.eventOf, terms: s.bm25.terms };
  const binary: Record<BinarySection, Uint8Array | Int32Array> = {
    hashes,
    hashHolders: Int32Array.from(s.hashHolders),
    slotMemory: Int32Array.from(s.bm25.slotIds, (id) => (id === null ? -1 : positionOf(id))),
    termStart: s.bm25.termStart,
    postSlot: s.bm25.postSlot,
    postTf: s.bm25.postTf,
    slotLen: s.bm25.slotLen,
    links: Int32Array.from(s.links.flat(), positionOf),
  };
  const bodies: [string, Buffer][] = [
    ...JSON_SECTIONS.map((k): [string, Buffer] => [k, Buffer.from(JSON.stringify(json[k]))]),
    ...BINARY_SECTIONS.map((k): [string, Buffer] => [k, Buffer.from(binary[k].buffer, binary[k].byteOffset, binary[k].byteLength)]),
  ];
  const header: Header = { check: s.check, nextSeq: s.nextSeq, damage: s.damage, sections: bodies.map(([k, b]) => [k, b.length]) };
  const parts: Buffer[] = [Buffer.from(MAGIC, 'latin1'), Buffer.alloc(8), padded(Buffer.from(JSON.stringify(header)), 0x20)];
  for (const [, b] of bodies) parts.push(padded(b, 0));
  const out = Buffer.concat(parts);
  out.writeUInt32LE(parts[2].length, 12);
  out.writeUInt32LE(crc32(out.subarray(12)), 8);
  return out;
}

function padded(b: Buffer, fill: number): Buffer {
  const pad = (4 - (b.length % 4)) % 4;
  return pad ? Buffer.concat([b, Buffer.alloc(pad, fill)]) : b;
}

/**
 * Reads a snapshot, giving the event loop a turn between sections; throws (with the reason) on anything
 * damaged or of another format.
 */
export function decodeSnapshotAsync(buf: Buffer): Promise<FoldedState> {
  return runStepsYielding(decodeSteps(buf));
}

function* decodeSteps(buf: Buffer): Generator<void, FoldedState> {
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('not a bank snapshot of this version');
  if (buf.readUInt32LE(8) !== crc32(buf.subarray(12))) throw new Error('checksum mismatch');
  const headerLen = buf.readUInt32LE(12);
  const h = JSON.parse(buf.toString('utf8', 16, 16 + headerLen)) as Header;
  const raw = new Map<string, Buffer>();
  let at = 16 + headerLen;
  for (const [k, n] of h.sections) {
    if (!(n >= 0) || at + n > buf.length) throw new Error('truncated');
    raw.set(k, buf.subarray(at, at + n));
    at += n + ((4 - (n % 4)) % 4);
  }
  const section = (k: string): Buffer => {
    const b = raw.get(k);
    if (!b) throw new Error(`no ${k} section`);
    return b;
  };
  const parsed = {} as Record<JsonSection, unknown>;
  for (const k of JSON_SECTIONS) {
    parsed[k] = JSON.parse(section(k).toString('utf8'));
    yield;
  }
  // Copied out of the file buffer so that the buffer can be freed.
  const ints = (k: BinarySection): Int32Array => {
    const b = section(k);
    const a = new Int32Array(b.length >> 2);
    Buffer.from(a.buffer).set(b);
    return a;
  };
  const c = parsed as unknown as Columns;
  const sources = parsed.sources as SourceRef[];
  const n = c.id.length;
  for (const k of ['text', 'status', 'createdAt', 'updatedAt', 'source'] as const) if (c[k].length !== n) throw new Error(`memory column ${k} has ${c[k].length} entries for ${n} memories`);
  const rawHashes = section('hashes');
  if (rawHashes.length !== n * HASH_BYTES) throw new Error('memories and hashes differ in number');
  const hashHolders = [...ints('hashHolders')];
  if (hashHolders.some((i) => !(i >= 0 && i < n))) throw new Error('a text holder outside the memories');
  const hashes = c.id.map((_, i) => rawHashes.toString('hex', i * HASH_BYTES, (i + 1) * HASH_BYTES));
  yield;
  const pinned = new Set(c.pinned);
  const sparse = new Map(c.sparse);
  const memories = c.id.map((id, i): Memory => {
    const x = sparse.get(i);
    const status = STATUS[c.status[i]];
    const source = sources[c.source[i]];
    if (!status || !source) throw new Error('a memory with an unknown status or source');
    // Fields in the order the bank's fold writes them.
    return {
      id,
      text: c.text[i],
      status,
      tags: x?.tags ?? [],
      pinned: pinned.has(i),
      eventTime: x?.eventTime,
      ...(x?.kind !== undefined ? { kind: x.kind } : {}),
      ...(x?.validTo !== undefined ? { validTo: x.validTo } : {}),
      ...(x?.supersededBy !== undefined ? { supersededBy: x.supersededBy } : {}),
      ...(x?.supersedes !== undefined ? { supersedes: x.supersedes } : {}),
      createdAt: c.createdAt[i],
      updatedAt: c.updatedAt[i] || c.createdAt[i],
      // Shared between memories of one source, as the bank never changes a memory's source in place.
      source,
    };
  });
  yield;
  const slotMemory = ints('slotMemory');
  if (slotMemory.some((i) => i < -1 || i >= n)) throw new Error('a lexical slot outside the memories');
  const linkAt = ints('links');
  if (linkAt.length % 2 || linkAt.some((i) => i < 0 || i >= n)) throw new Error('a source link outside the memories');
  const links: [string, string][] = [];
  for (let i = 0; i < linkAt.length; i += 2) links.push([memories[linkAt[i]].id, memories[linkAt[i + 1]].id]);
  return {
    check: h.check,
    nextSeq: h.nextSeq,
    memories,
    hashes,
    hashHolders,
    eventBySource: parsed.eventBySource as [string, string][],
    eventOf: parsed.eventOf as [string, string][],
    damage: h.damage,
    // Slot ids are the memories' own id strings (one copy of each id in memory).
    bm25: { terms: parsed.terms as string[], slotIds: Array.from(slotMemory, (i) => (i < 0 ? null : memories[i].id)), termStart: ints('termStart'), postSlot: ints('postSlot'), postTf: ints('postTf'), slotLen: ints('slotLen') },
    links,
  };
}

/** What the two functions below need of a store's `snapshots` (storage/types.ts `SnapshotStore`; spelled out here because storage imports scrub, which imports this file). */
interface SnapshotFile {
  read(): Buffer | undefined;
  write(content: Uint8Array): void;
  recordEndingAt(cursor: number): { seq: number; opId: string } | undefined;
  historyStamp(): string | undefined;
  historyChecksum(cursor: number): Promise<number | undefined>;
}

/**
 * Writes the folded state as of `offset` under the store's lock, checked against the record ending there
 * (a scrub, which takes the lock, cannot replace the history between the check and the write). Returns
 * whether it was written; a failure leaves none (the snapshot is derived: the next open folds the history).
 */
export async function writeCheckedSnapshot(
  store: SnapshotFile,
  storage: { withLock<T>(fn: () => Promise<T>): Promise<T> },
  offset: number,
  state: (check: SnapshotCheck) => FoldedState,
): Promise<boolean> {
  try {
    return await storage.withLock(async () => {
      const last = store.recordEndingAt(offset);
      const stamp = store.historyStamp();
      const prefixCrc = await store.historyChecksum(offset);
      if (!last || stamp === undefined || prefixCrc === undefined) return false;
      store.write(encodeSnapshot(state({ offset, lastSeq: last.seq, lastOpId: last.opId, prefixCrc, stamp })));
      return true;
    });
  } catch {
    return false;
  }
}

/** The saved snapshot, if it stands for this history: the record at its offset is the one it saw, and the bytes before it are unchanged. */
export async function readMatchingSnapshot(store: SnapshotFile): Promise<FoldedState | undefined> {
  const buf = store.read();
  if (!buf) return undefined;
  try {
    const s = await decodeSnapshotAsync(buf);
    const last = store.recordEndingAt(s.check.offset);
    if (!last || last.seq !== s.check.lastSeq || last.opId !== s.check.lastOpId) return undefined;
    // Written since (appended to, or edited): the bytes the snapshot stands for must still be the same.
    if (store.historyStamp() !== s.check.stamp && (await store.historyChecksum(s.check.offset)) !== s.check.prefixCrc) return undefined;
    return s;
  } catch {
    return undefined;
  }
}
