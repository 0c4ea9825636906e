import { indexTerms } from './tokenize';

/**
 * An incrementally updated BM25 index: add/remove cost O(document length), not O(corpus).
 * Documents live in numeric slots, so scoring accumulates into a typed array instead of a Map
 * keyed by id, and the top-k is kept in a bounded heap (the filter is asked only for entries that
 * would enter it): at 100k memories a query costs the postings it touches, not a sort of them.
 */
export class Bm25Index {
  private postings = new Map<string, Map<number, number>>();
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
    for (const t of this.slotTerms[slot] ?? []) {
      const p = this.postings.get(t);
      if (p && p.delete(slot) && p.size === 0) this.postings.delete(t);
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
    for (const t of new Set([...indexTerms(query), ...extraTerms])) {
      const p = this.postings.get(t);
      if (!p) continue;
      const idf = Math.log(1 + (n - p.size + 0.5) / (p.size + 0.5));
      for (const [slot, f] of p) {
        const dl = this.slotLen[slot];
        const s = (idf * f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * dl) / avgdl));
        if (scores[slot] === 0) touched.push(slot); // scores are > 0 once touched (idf > 0, f > 0)
        scores[slot] += s;
      }
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
