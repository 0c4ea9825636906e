import { indexTerms } from './tokenize';

/**
 * The index in compact form (what a bank snapshot stores): postings per term in one typed array each,
 * slots in their current numbering. `slotIds[s]` is null for a free slot.
 */
export interface Bm25Snapshot {
  terms: string[];
  /** Postings of term `t` are `[termStart[t], termStart[t + 1])` of postSlot/postTf. */
  termStart: Int32Array;
  postSlot: Int32Array;
  postTf: Int32Array;
  slotIds: (string | null)[];
  slotLen: Int32Array;
}

/**
 * Postings restored from a snapshot, read-only but for deaths: a document changed or removed since is
 * marked dead here (and lives on, if changed, in the incremental maps). Typed arrays instead of a Map
 * per term: at 100k memories that is a tenth of the memory and restores without rebuilding maps.
 */
interface BaseIndex {
  termIndex: Map<string, number>;
  termStart: Int32Array;
  postSlot: Int32Array;
  postTf: Int32Array;
  /** Live documents per term (document frequency). */
  live: Int32Array;
  /** Per slot: 1 while its base postings count. */
  alive: Uint8Array;
  /** Slot → its base terms: `[slotStart[s], slotStart[s + 1])` of slotTerm; built when first needed (a removal). */
  bySlot?: { slotStart: Int32Array; slotTerm: Int32Array };
}

/** The base postings inverted: each slot's terms (what removing a document needs). */
function slotTermsOf(base: BaseIndex): { slotStart: Int32Array; slotTerm: Int32Array } {
  if (base.bySlot) return base.bySlot;
  const slots = base.alive.length;
  const nTerms = base.live.length;
  const slotStart = new Int32Array(slots + 1);
  for (let k = 0; k < base.postSlot.length; k++) slotStart[base.postSlot[k] + 1]++;
  for (let i = 0; i < slots; i++) slotStart[i + 1] += slotStart[i];
  const fill = slotStart.slice(0, slots);
  const slotTerm = new Int32Array(base.postSlot.length);
  for (let t = 0; t < nTerms; t++) for (let k = base.termStart[t]; k < base.termStart[t + 1]; k++) slotTerm[fill[base.postSlot[k]]++] = t;
  return (base.bySlot = { slotStart, slotTerm });
}

/**
 * An incrementally updated BM25 index: add/remove cost O(document length), not O(corpus).
 * Documents live in numeric slots, so scoring accumulates into a typed array instead of a Map
 * keyed by id, and the top-k is kept in a bounded heap (the filter is asked only for entries that
 * would enter it): at 100k memories a query costs the postings it touches, not a sort of them.
 * A large index can be compacted (or restored from a snapshot) into typed arrays; documents set
 * afterwards go to the incremental maps, and scores are the same either way.
 */
export class Bm25Index {
  private postings = new Map<string, Map<number, number>>();
  private base: BaseIndex | undefined;
  private slotOf = new Map<string, number>();
  private slotId: string[] = [];
  private slotLen: number[] = [];
  private slotTerms: (string[] | undefined)[] = [];
  private freeSlots: number[] = [];
  private totalLen = 0;
  private scratch = new Float64Array(0);

  constructor(
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {}

  get size(): number {
    return this.slotOf.size;
  }

  /** Indexes `text`; `extraTerms` (e.g. date terms) are indexed as given, without analysis. */
  set(id: string, text: string, extraTerms: readonly string[] = []): void {
    this.remove(id);
    const terms = [...indexTerms(text), ...extraTerms];
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    const slot = this.freeSlots.pop() ?? this.slotId.length;
    this.slotOf.set(id, slot);
    this.slotId[slot] = id;
    this.slotLen[slot] = terms.length;
    this.slotTerms[slot] = [...tf.keys()];
    for (const [t, n] of tf) {
      let p = this.postings.get(t);
      if (!p) this.postings.set(t, (p = new Map()));
      p.set(slot, n);
    }
    this.totalLen += terms.length;
  }

  remove(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    const base = this.base;
    if (base && slot < base.alive.length && base.alive[slot]) {
      base.alive[slot] = 0;
      const { slotStart, slotTerm } = slotTermsOf(base);
      for (let k = slotStart[slot]; k < slotStart[slot + 1]; k++) base.live[slotTerm[k]]--;
    } else {
      for (const t of this.slotTerms[slot] ?? []) {
        const p = this.postings.get(t);
        if (p && p.delete(slot) && p.size === 0) this.postings.delete(t);
      }
    }
    this.totalLen -= this.slotLen[slot];
    this.slotTerms[slot] = undefined;
    this.slotOf.delete(id);
    this.freeSlots.push(slot);
  }

  search(
    query: string,
    topK: number,
    accept?: (id: string) => boolean,
    extraTerms: readonly string[] = [],
  ): { id: string; score: number }[] {
    const n = this.slotOf.size;
    if (n === 0 || topK <= 0) return [];
    const avgdl = this.totalLen / n || 1;
    if (this.scratch.length < this.slotId.length) this.scratch = new Float64Array(Math.max(1024, this.slotId.length * 2));
    const scores = this.scratch;
    const touched: number[] = [];
    const base = this.base;
    for (const t of new Set([...indexTerms(query), ...extraTerms])) {
      const p = this.postings.get(t);
      const ti = base?.termIndex.get(t);
      const df = (p?.size ?? 0) + (ti === undefined ? 0 : base!.live[ti]);
      if (df === 0) continue;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const add = (slot: number, f: number): void => {
        const dl = this.slotLen[slot];
        const s = (idf * f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * dl) / avgdl));
        if (scores[slot] === 0) touched.push(slot); // scores are > 0 once touched (idf > 0, f > 0)
        scores[slot] += s;
      };
      if (ti !== undefined) {
        for (let k = base!.termStart[ti]; k < base!.termStart[ti + 1]; k++) if (base!.alive[base!.postSlot[k]]) add(base!.postSlot[k], base!.postTf[k]);
      }
      if (p) for (const [slot, f] of p) add(slot, f);
    }
    // Bounded heap, worst at the root: lower score, or the same score and a larger id.
    const ids = this.slotId;
    const heap: number[] = [];
    const worse = (a: number, c: number): boolean => scores[a] < scores[c] || (scores[a] === scores[c] && ids[a] > ids[c]);
    for (const slot of touched) {
      if (heap.length === topK && !worse(heap[0], slot)) continue;
      if (accept && !accept(ids[slot])) continue;
      if (heap.length < topK) {
        heap.push(slot);
        for (let i = heap.length - 1; i > 0; ) {
          const parent = (i - 1) >> 1;
          if (!worse(heap[i], heap[parent])) break;
          [heap[i], heap[parent]] = [heap[parent], heap[i]];
          i = parent;
        }
      } else {
        heap[0] = slot;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && worse(heap[l], heap[m])) m = l;
          if (r < heap.length && worse(heap[r], heap[m])) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m], heap[i]];
          i = m;
        }
      }
    }
    const out = heap.map((slot) => ({ id: ids[slot], score: scores[slot] }));
    for (const slot of touched) scores[slot] = 0;
    return out.sort((a, c) => c.score - a.score || (a.id < c.id ? -1 : 1));
  }

  /** The index in compact form (slot numbering kept). */
  export(): Bm25Snapshot {
    const slots = this.slotId.length;
    const termIds = new Map<string, number>();
    const terms: string[] = [];
    const counts: number[] = [];
    const baseTerms = this.base ? [...this.base.termIndex.keys()] : [];
    const visit = (fn: (slot: number, term: string, tf: number) => void): void => {
      const base = this.base;
      for (let slot = 0; slot < slots; slot++) {
        if (this.slotOf.get(this.slotId[slot]) !== slot) continue;
        if (base && slot < base.alive.length && base.alive[slot]) {
          const { slotStart, slotTerm } = slotTermsOf(base);
          for (let k = slotStart[slot]; k < slotStart[slot + 1]; k++) {
            const ti = slotTerm[k];
            fn(slot, baseTerms[ti], tfIn(base, ti, slot));
          }
        } else {
          for (const t of this.slotTerms[slot] ?? []) fn(slot, t, this.postings.get(t)!.get(slot)!);
        }
      }
    };
    visit((_slot, term) => {
      let id = termIds.get(term);
      if (id === undefined) {
        termIds.set(term, (id = terms.length));
        terms.push(term);
        counts.push(0);
      }
      counts[id]++;
    });
    const termStart = new Int32Array(terms.length + 1);
    for (let i = 0; i < terms.length; i++) termStart[i + 1] = termStart[i] + counts[i];
    const fill = termStart.slice(0, terms.length);
    const postSlot = new Int32Array(termStart[terms.length]);
    const postTf = new Int32Array(termStart[terms.length]);
    visit((slot, term, tf) => {
      const k = fill[termIds.get(term)!]++;
      postSlot[k] = slot;
      postTf[k] = tf;
    });
    const slotIds = Array.from({ length: slots }, (_, s) => (this.slotOf.get(this.slotId[s]) === s ? this.slotId[s] : null));
    return { terms, termStart, postSlot, postTf, slotIds, slotLen: Int32Array.from({ length: slots }, (_, s) => (slotIds[s] === null ? 0 : this.slotLen[s])) };
  }

  /** Replaces the contents with a compact snapshot (from `export`). */
  restore(s: Bm25Snapshot): void {
    const slots = s.slotIds.length;
    const nTerms = s.terms.length;
    if (s.termStart.length !== nTerms + 1 || s.slotLen.length !== slots || s.postSlot.length !== s.termStart[nTerms] || s.postTf.length !== s.postSlot.length) {
      throw new Error('BM25 snapshot has inconsistent sizes');
    }
    const termIndex = new Map<string, number>();
    for (let i = 0; i < nTerms; i++) termIndex.set(s.terms[i], i);
    const live = new Int32Array(nTerms);
    for (let t = 0; t < nTerms; t++) {
      live[t] = s.termStart[t + 1] - s.termStart[t];
      for (let k = s.termStart[t]; k < s.termStart[t + 1]; k++) {
        const slot = s.postSlot[k];
        if (slot < 0 || slot >= slots || s.slotIds[slot] === null || (k > s.termStart[t] && s.postSlot[k - 1] >= slot)) throw new Error('BM25 snapshot postings are not in slot order, or name a slot it does not hold');
      }
    }
    const alive = new Uint8Array(slots);
    this.postings = new Map();
    this.slotOf = new Map();
    this.slotId = [];
    this.slotLen = [];
    this.slotTerms = [];
    this.freeSlots = [];
    this.totalLen = 0;
    for (let slot = 0; slot < slots; slot++) {
      const id = s.slotIds[slot];
      this.slotLen.push(s.slotLen[slot]);
      this.slotTerms.push(undefined);
      if (id === null) {
        this.slotId.push('');
        this.freeSlots.push(slot);
        continue;
      }
      this.slotId.push(id);
      this.slotOf.set(id, slot);
      alive[slot] = 1;
      this.totalLen += s.slotLen[slot];
    }
    this.base = { termIndex, termStart: s.termStart, postSlot: s.postSlot, postTf: s.postTf, live, alive };
  }

  /** Moves every document into the compact form (after a bulk load: less memory, same scores). */
  compact(): void {
    this.restore(this.export());
  }
}

/** A term's frequency in one slot's base postings (binary search: postings are in slot order). */
function tfIn(base: BaseIndex, ti: number, slot: number): number {
  let lo = base.termStart[ti];
  let hi = base.termStart[ti + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = base.postSlot[mid];
    if (s === slot) return base.postTf[mid];
    if (s < slot) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** Reciprocal rank fusion of several ranked id lists. */
export function reciprocalRankFusion(lists: { id: string }[][], k = 60, weights?: number[]): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  lists.forEach((list, li) => {
    const w = weights?.[li] ?? 1;
    list.forEach((item, rank) => scores.set(item.id, (scores.get(item.id) ?? 0) + w / (k + rank + 1)));
  });
  return [...scores.entries()].sort((a, b) => b[1] - a[1]).map(([id, score]) => ({ id, score }));
}
