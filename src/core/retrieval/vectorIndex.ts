import { DOTS_WASM_BASE64 } from './simd/dotsWasm';

/**
 * In-memory dense index: all vectors in one contiguous Float32Array, exact top-k by dot product.
 *
 * Search runs in two passes. WebAssembly SIMD scores every row in float32 (four lanes, no copying:
 * the rows live in the module's memory), a bounded heap finds the k-th best accepted score, and only
 * the rows within the float32 error bound of it are rescored in float64 by the plain loop. The result
 * is therefore exactly the plain scan's, ids and order included, at a fraction of its cost. Where
 * WebAssembly is unavailable (or the memory cannot grow) the plain loop scores every row.
 */
export class VectorIndex {
  /** Row stride in floats: dims rounded up to whole SIMD lanes, the padding kept at zero. */
  private readonly stride: number;
  private data: Float32Array;
  private capacity: number;
  private ids: string[] = [];
  private rowOf = new Map<string, number>();
  /** The largest row norm ever stored (never lowered: it only widens the rescoring margin). */
  private maxNorm = 0;
  private kernel: SimdKernel | null;

  constructor(
    readonly dims: number,
    initialCapacity = 1024,
    options: { simd?: boolean } = {},
  ) {
    this.stride = Math.ceil(dims / 4) * 4;
    this.capacity = Math.max(1, initialCapacity);
    this.kernel = options.simd === false ? null : SimdKernel.create(this.stride, this.capacity);
    this.data = this.kernel ? this.kernel.rows() : new Float32Array(this.stride * this.capacity);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Whether searches use the WebAssembly SIMD pass (false: the plain loop only). */
  get simd(): boolean {
    return this.kernel !== null;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** A copy of the stored vector. */
  get(id: string): Float32Array | undefined {
    const r = this.rowOf.get(id);
    return r === undefined ? undefined : this.data.slice(r * this.stride, r * this.stride + this.dims);
  }

  /** Grows the storage once for `rows` rows (bulk load), instead of doubling step by step. */
  reserve(rows: number): void {
    if (rows > this.capacity) this.grow(Math.max(rows, Math.ceil(this.capacity * 1.5)));
  }

  set(id: string, vector: ArrayLike<number>): void {
    if (vector.length !== this.dims) throw new Error(`vector has ${vector.length} dimensions, index has ${this.dims}`);
    let r = this.rowOf.get(id);
    if (r === undefined) {
      r = this.ids.length;
      if (r + 1 > this.capacity) this.grow(Math.max(this.capacity * 2, r + 1));
      this.ids.push(id);
      this.rowOf.set(id, r);
    }
    const off = r * this.stride;
    const data = this.data;
    const d = this.dims;
    data.set(vector, off);
    if (this.stride > d) data.fill(0, off + d, off + this.stride);
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const x = data[off + j];
      sq += x * x;
    }
    this.maxNorm = Math.max(this.maxNorm, Math.sqrt(sq));
  }

  /** Removes by moving the last row into the hole: O(dims). */
  delete(id: string): void {
    const r = this.rowOf.get(id);
    if (r === undefined) return;
    const last = this.ids.length - 1;
    if (r !== last) {
      const lastId = this.ids[last];
      this.data.copyWithin(r * this.stride, last * this.stride, (last + 1) * this.stride);
      this.ids[r] = lastId;
      this.rowOf.set(lastId, r);
    }
    this.ids.pop();
    this.rowOf.delete(id);
  }

  /**
   * The `topK` rows with the highest dot product with `query`, best first, ties broken by id.
   * `accept` filters ids; it is asked only about rows that could make the top k.
   */
  search(query: Float32Array, topK: number, accept?: (id: string) => boolean): { id: string; score: number }[] {
    if (query.length !== this.dims) throw new Error(`query has ${query.length} dimensions, index has ${this.dims}`);
    const k = Math.min(topK, this.ids.length);
    if (k <= 0) return [];
    if (!this.kernel) return this.exactTopK(query, k, accept, null);
    return this.exactTopK(query, k, accept, this.candidates(query, k, accept));
  }

  /** Rows that can be in the exact top k: float32 scores within the error bound of the k-th best. */
  private candidates(query: Float32Array, k: number, accept: ((id: string) => boolean) | undefined): Int32Array {
    const n = this.ids.length;
    const ids = this.ids;
    const scores = this.kernel!.dots(query, n);
    // Min-heap of the k best accepted float32 scores; its root is the threshold.
    const heap = new Float64Array(k);
    let count = 0;
    for (let r = 0; r < n; r++) {
      const s = scores[r];
      if (count === k && s <= heap[0]) continue;
      if (accept && !accept(ids[r])) continue;
      if (count < k) {
        let i = count++;
        heap[i] = s;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (heap[p] <= heap[i]) break;
          const t = heap[p];
          heap[p] = heap[i];
          heap[i] = t;
          i = p;
        }
      } else {
        heap[0] = s;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          let m = i;
          if (l < k && heap[l] < heap[m]) m = l;
          if (l + 1 < k && heap[l + 1] < heap[m]) m = l + 1;
          if (m === i) break;
          const t = heap[m];
          heap[m] = heap[i];
          heap[i] = t;
          i = m;
        }
      }
    }
    // Each float32 score is within `bound` of the exact one (n·u·|q|·|row|, doubled for safety), so
    // every row of the exact top k scores at least threshold - 2·bound here.
    let qNorm = 0;
    for (let j = 0; j < this.dims; j++) qNorm += query[j] * query[j];
    const bound = (this.stride + 8) * 2 ** -23 * Math.sqrt(qNorm) * this.maxNorm;
    const threshold = count < k ? -Infinity : heap[0] - 2 * bound;
    let out = new Int32Array(Math.min(n, 2 * k + 16));
    let m = 0;
    for (let r = 0; r < n; r++) {
      // `!(s < t)` keeps NaN scores, as the plain loop would see them.
      if (scores[r] < threshold) continue;
      if (m === out.length) {
        const grown = new Int32Array(Math.min(n, out.length * 2));
        grown.set(out);
        out = grown;
      }
      out[m++] = r;
    }
    return out.subarray(0, m);
  }

  /** The plain float64 scan over `rows` (all rows when null), top k in a bounded heap. */
  private exactTopK(query: Float32Array, k: number, accept: ((id: string) => boolean) | undefined, rows: Int32Array | null): { id: string; score: number }[] {
    const heapScore = new Float64Array(k);
    const heapRow = new Int32Array(k);
    let n = 0;
    const d = this.dims;
    const stride = this.stride;
    const data = this.data;
    const ids = this.ids;
    const total = rows ? rows.length : ids.length;
    // Heap order: the worst hit at the root; worse = lower score, or the same score and a larger id,
    // so ties are broken by id exactly as in the final sort.
    const worse = (a: number, b: number): boolean =>
      heapScore[a] < heapScore[b] || (heapScore[a] === heapScore[b] && ids[heapRow[a]] > ids[heapRow[b]]);
    for (let i = 0; i < total; i++) {
      const r = rows ? rows[i] : i;
      let s = 0;
      const off = r * stride;
      // Unrolled, but summed in the same order as a plain loop, so scores are bit-identical to one.
      let j = 0;
      for (; j + 4 <= d; j += 4) {
        s += data[off + j] * query[j];
        s += data[off + j + 1] * query[j + 1];
        s += data[off + j + 2] * query[j + 2];
        s += data[off + j + 3] * query[j + 3];
      }
      for (; j < d; j++) s += data[off + j] * query[j];
      // The filter is asked only for rows that would enter the top-k: ~k·log(n) calls, not n.
      if (n === k && (s < heapScore[0] || (s === heapScore[0] && ids[r] > ids[heapRow[0]]))) continue;
      if (accept && !accept(ids[r])) continue;
      if (n < k) {
        // sift up
        let i = n++;
        heapScore[i] = s;
        heapRow[i] = r;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (!worse(i, p)) break;
          swap(heapScore, heapRow, i, p);
          i = p;
        }
      } else {
        heapScore[0] = s;
        heapRow[0] = r;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const rr = l + 1;
          let m = i;
          if (l < n && worse(l, m)) m = l;
          if (rr < n && worse(rr, m)) m = rr;
          if (m === i) break;
          swap(heapScore, heapRow, i, m);
          i = m;
        }
      }
    }
    const out: { id: string; score: number }[] = [];
    for (let i = 0; i < n; i++) out.push({ id: this.ids[heapRow[i]], score: heapScore[i] });
    return out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  }

  private grow(capacity: number): void {
    const used = this.ids.length * this.stride;
    if (this.kernel && this.kernel.grow(capacity)) {
      this.data = this.kernel.rows();
    } else {
      // No WebAssembly memory to grow into (address space, engine limits): keep going on the plain loop.
      const grown = new Float32Array(capacity * this.stride);
      grown.set(this.data.subarray(0, used));
      this.data = grown;
      this.kernel = null;
    }
    this.capacity = capacity;
  }
}

function swap(s: Float64Array, r: Int32Array, i: number, j: number): void {
  const ts = s[i];
  s[i] = s[j];
  s[j] = ts;
  const tr = r[i];
  r[i] = r[j];
  r[j] = tr;
}

// ------------------------------------------------------------------ WebAssembly SIMD kernel

const PAGE = 65536;
let compiled: WebAssembly.Module | null | undefined;

function dotsModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bin = atob(DOTS_WASM_BASE64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      compiled = new WebAssembly.Module(bytes); // ~600 bytes: synchronous compile is fine
    } catch {
      compiled = null; // no WebAssembly or no SIMD in this runtime
    }
  }
  return compiled;
}

/**
 * One WebAssembly memory per index, laid out as [query | rows (capacity × stride) | scores].
 * Rows stay put when the memory grows; the scores area moves to the new end.
 */
class SimdKernel {
  private readonly queryBytes: number;
  private scoresOffset = 0;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly run: (data: number, query: number, rows: number, stride: number, out: number) => void,
    private readonly stride: number,
    private capacity: number,
  ) {
    this.queryBytes = Math.ceil((stride * 4) / 64) * 64;
    this.layout();
  }

  static create(stride: number, capacity: number): SimdKernel | null {
    const module = dotsModule();
    if (!module) return null;
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      const kernel = new SimdKernel(memory, instance.exports.dots as SimdKernel['run'], stride, 0);
      return kernel.grow(capacity) ? kernel : null;
    } catch {
      return null;
    }
  }

  /** Makes room for `capacity` rows; false when the memory cannot grow that far. */
  grow(capacity: number): boolean {
    const needed = this.queryBytes + capacity * this.stride * 4 + capacity * 4;
    const pages = Math.ceil(needed / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    try {
      if (pages > have) this.memory.grow(pages - have);
    } catch {
      return false;
    }
    this.capacity = capacity;
    this.layout();
    return true;
  }

  /** A fresh view of the rows (views die when the memory grows). */
  rows(): Float32Array {
    return new Float32Array(this.memory.buffer, this.queryBytes, this.capacity * this.stride);
  }

  /** Float32 dot products of `query` with the first `n` rows. */
  dots(query: Float32Array, n: number): Float32Array {
    const q = new Float32Array(this.memory.buffer, 0, this.stride);
    q.set(query);
    q.fill(0, query.length);
    this.run(this.queryBytes, 0, n, this.stride, this.scoresOffset);
    return new Float32Array(this.memory.buffer, this.scoresOffset, n);
  }

  private layout(): void {
    this.scoresOffset = this.queryBytes + this.capacity * this.stride * 4;
  }
}
