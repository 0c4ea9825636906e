import * as fs from 'node:fs';
import { crc32 } from '../util/text';
import { runSteps, runStepsYielding } from '../util/steps';

const MAGIC = 0x32564d50; // "PMV2"
const HEADER = 16;
const ID_BYTES = 64;
const HASH_BYTES = 16;

export interface VectorEntry {
  memoryId: string;
  /** First 16 bytes of the text hash (hex, 32 chars) the vector was computed from. */
  textHash: string;
  vector: Float32Array;
}

/**
 * Append-only file of fixed-size vector slots, one file per embedder:
 * [crc32][memory id, 64 bytes][text hash, 16 bytes][dims × float32]. Later slots win. A vector
 * is only used while its text hash matches the memory's text, so a stale or orphan slot is harmless.
 */

/** Called per slot; `vector` is only valid during the call. */
export type VectorVisitor = (memoryId: string, textHash: string, vector: Float32Array) => void;

export interface VectorReadResult {
  entries: VectorEntry[];
  nextSlot: number;
  damaged: number;
}

export class VectorLog {
  private constructor(
    readonly path: string,
    readonly dims: number,
  ) {}

  get slotBytes(): number {
    return 4 + ID_BYTES + HASH_BYTES + this.dims * 4;
  }

  static open(path: string, dims: number): VectorLog {
    if (!fs.existsSync(path) || fs.statSync(path).size < HEADER) {
      const h = Buffer.alloc(HEADER);
      h.writeUInt32LE(MAGIC, 0);
      h.writeUInt32LE(dims, 4);
      const tmp = `${path}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, h);
      if (!fs.existsSync(path) || fs.statSync(path).size < HEADER) fs.renameSync(tmp, path);
      else fs.rmSync(tmp, { force: true });
    }
    const h = Buffer.alloc(HEADER);
    const fd = fs.openSync(path, 'r');
    try {
      fs.readSync(fd, h, 0, HEADER, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (h.readUInt32LE(0) !== MAGIC) throw new Error(`${path} is not a vector log`);
    const fileDims = h.readUInt32LE(4);
    if (fileDims !== dims) throw new Error(`${path} holds ${fileDims}-dimensional vectors, the embedder makes ${dims}`);
    return new VectorLog(path, dims);
  }

  /** Number of whole slots on disk. */
  slots(): number {
    const size = fs.statSync(this.path).size;
    return Math.max(0, Math.floor((size - HEADER) / this.slotBytes));
  }

  /** Appends under the write lock, after cutting any torn slot. */
  append(entries: VectorEntry[]): void {
    if (entries.length === 0) return;
    const first = this.slots();
    const expected = HEADER + first * this.slotBytes;
    if (fs.statSync(this.path).size !== expected) fs.truncateSync(this.path, expected);
    const buf = Buffer.alloc(entries.length * this.slotBytes);
    entries.forEach((e, i) => {
      if (e.vector.length !== this.dims) throw new Error(`vector has ${e.vector.length} dimensions, expected ${this.dims}`);
      const off = i * this.slotBytes;
      const idBytes = Buffer.from(e.memoryId, 'utf8');
      if (idBytes.length > ID_BYTES) throw new Error(`memory id longer than ${ID_BYTES} bytes`);
      idBytes.copy(buf, off + 4);
      Buffer.from(e.textHash.slice(0, HASH_BYTES * 2).padEnd(HASH_BYTES * 2, '0'), 'hex').copy(buf, off + 4 + ID_BYTES);
      Buffer.from(e.vector.buffer, e.vector.byteOffset, e.vector.byteLength).copy(buf, off + 4 + ID_BYTES + HASH_BYTES);
      buf.writeUInt32LE(crc32(buf.subarray(off + 4, off + this.slotBytes)), off);
    });
    const fd = fs.openSync(this.path, 'a');
    try {
      fs.writeSync(fd, buf);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Reads slots from `fromSlot` on, in file order; damaged slots are skipped and counted. */
  read(fromSlot = 0): VectorReadResult {
    return runSteps(this.readSteps(fromSlot));
  }

  /** `read`, giving the event loop a turn after each 2 MB chunk. */
  readAsync(fromSlot = 0): Promise<VectorReadResult> {
    return runStepsYielding(this.readSteps(fromSlot));
  }

  /**
   * Visits slots from `fromSlot` on without keeping them: `vector` is a view into a reused read buffer,
   * valid only during the call (copy it to keep it). A bank opening 100k vectors holds each once this way.
   */
  scanAsync(fromSlot: number, visit: VectorVisitor): Promise<{ nextSlot: number; damaged: number }> {
    return runStepsYielding(this.scanSteps(fromSlot, visit));
  }

  private *readSteps(fromSlot: number): Generator<void, VectorReadResult> {
    const entries: VectorEntry[] = [];
    const res = yield* this.scanSteps(fromSlot, (memoryId, textHash, view) => entries.push({ memoryId, textHash, vector: view.slice() }));
    return { entries, ...res };
  }

  private *scanSteps(fromSlot: number, visit: VectorVisitor): Generator<void, { nextSlot: number; damaged: number }> {
    const total = this.slots();
    let damaged = 0;
    if (fromSlot >= total) return { nextSlot: total, damaged };
    const fd = fs.openSync(this.path, 'r');
    try {
      const chunkSlots = Math.max(1, Math.floor((2 << 20) / this.slotBytes));
      const buf = Buffer.alloc(chunkSlots * this.slotBytes);
      // Slots are a multiple of 4 bytes and the vector starts 84 bytes in: aligned views need no copy.
      const aligned = buf.byteOffset % 4 === 0;
      const copy = new Float32Array(this.dims);
      for (let s = fromSlot; s < total; s += chunkSlots) {
        if (s > fromSlot) yield;
        const n = Math.min(chunkSlots, total - s);
        fs.readSync(fd, buf, 0, n * this.slotBytes, HEADER + s * this.slotBytes);
        for (let i = 0; i < n; i++) {
          const off = i * this.slotBytes;
          const body = buf.subarray(off + 4, off + this.slotBytes);
          if (buf.readUInt32LE(off) !== crc32(body)) {
            damaged++;
            continue;
          }
          const idRaw = body.subarray(0, ID_BYTES);
          const end = idRaw.indexOf(0);
          const memoryId = idRaw.toString('utf8', 0, end < 0 ? ID_BYTES : end);
          const textHash = body.toString('hex', ID_BYTES, ID_BYTES + HASH_BYTES);
          const at = off + 4 + ID_BYTES + HASH_BYTES;
          let vector: Float32Array;
          if (aligned) vector = new Float32Array(buf.buffer, buf.byteOffset + at, this.dims);
          else {
            Buffer.from(copy.buffer).set(buf.subarray(at, at + this.dims * 4));
            vector = copy;
          }
          visit(memoryId, textHash, vector);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    return { nextSlot: total, damaged };
  }
}
