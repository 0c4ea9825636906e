/**
 * Vectors held in one contiguous Float32Array (rows of `dims`), searched by a dot product scan
 * with a bounded min-heap for top-k. Vectors are L2-normalised, so the dot product is cosine.
 */
export class VectorIndex {
  private data: Float32Array;
  private ids: string[] = [];
  private rowOf = new Map<string, number>();

  constructor(
    readonly dims: number,
    initialCapacity = 1024,
  ) {
    this.data = new Float32Array(dims * initialCapacity);
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  get(id: string): Float32Array | undefined {
    const r = this.rowOf.get(id);
    return r === undefined ? undefined : this.data.subarray(r * this.dims, (r + 1) * this.dims);
  }

  /** Grows the storage once for `rows` rows (bulk load), instead of doubling step by step. */
  reserve(rows: number): void {
    if (rows * this.dims <= this.data.length) return;
    const grown = new Float32Array(Math.max(rows, Math.ceil((this.data.length / this.dims) * 1.5)) * this.dims);
    grown.set(this.data.subarray(0, this.ids.length * this.dims));
    this.data = grown;
  }

  set(id: string, vector: ArrayLike<number>): void {
    if (vector.length !== this.dims) throw new Error(`vector has ${vector.length} dimensions, index has ${this.dims}`);
    let r = this.rowOf.get(id);
    if (r === undefined) {
      r = this.ids.length;
      if ((r + 1) * this.dims > this.data.length) {
        const grown = new Float32Array(Math.max(this.data.length * 2, (r + 1) * this.dims));
        grown.set(this.data);
        this.data = grown;
      }
      this.ids.push(id);
      this.rowOf.set(id, r);
    }
    this.data.set(vector, r * this.dims);
  }

  /** Removes by moving the last row into the hole: O(dims). */
  delete(id: string): void {
    const r = this.rowOf.get(id);
    if (r === undefined) return;
    const last = this.ids.length - 1;
    if (r !== last) {
      const lastId = this.ids[last];
      this.data.copyWithin(r * this.dims, last * this.dims, (last + 1) * this.dims);
      this.ids[r] = lastId;
      this.rowOf.set(lastId, r);
    }
    this.ids.pop();
    this.rowOf.delete(id);
  }

  search(query: Float32Array, topK: number, accept?: (id: string) => boolean): { id: string; score: number }[] {
    const k = Math.min(topK, this.ids.length);
    if (k <= 0) return [];
    const heapScore = new Float64Array(k);
    const heapRow = new Int32Array(k);
    let n = 0;
    const d = this.dims;
    const data = this.data;
    const ids = this.ids;
    // Heap order: the worst hit at the root; worse = lower score, or the same score and a larger id,
    // so ties are broken by id exactly as in the final sort.
    const worse = (a: number, b: number): boolean =>
      heapScore[a] < heapScore[b] || (heapScore[a] === heapScore[b] && ids[heapRow[a]] > ids[heapRow[b]]);
    for (let r = 0; r < ids.length; r++) {
      let s = 0;
      const off = r * d;
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
}

function swap(s: Float64Array, r: Int32Array, i: number, j: number): void {
  const ts = s[i];
  s[i] = s[j];
  s[j] = ts;
  const tr = r[i];
  r[i] = r[j];
  r[j] = tr;
}
