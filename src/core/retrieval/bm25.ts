import { indexTerms } from './tokenize';

/** An incrementally updated BM25 index: add/remove cost O(document length), not O(corpus). */
export class Bm25Index {
  private postings = new Map<string, Map<string, number>>();
  private docLen = new Map<string, number>();
  private docTerms = new Map<string, string[]>();
  private totalLen = 0;

  constructor(
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {}

  get size(): number {
    return this.docLen.size;
  }

  /** Indexes `text`; `extraTerms` (e.g. date terms) are indexed as given, without analysis. */
  set(id: string, text: string, extraTerms: readonly string[] = []): void {
    this.remove(id);
    const terms = [...indexTerms(text), ...extraTerms];
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, n] of tf) {
      let p = this.postings.get(t);
      if (!p) this.postings.set(t, (p = new Map()));
      p.set(id, n);
    }
    this.docLen.set(id, terms.length);
    this.docTerms.set(id, [...tf.keys()]);
    this.totalLen += terms.length;
  }

  remove(id: string): void {
    const len = this.docLen.get(id);
    if (len === undefined) return;
    for (const t of this.docTerms.get(id) ?? []) {
      const p = this.postings.get(t);
      if (p && p.delete(id) && p.size === 0) this.postings.delete(t);
    }
    this.docTerms.delete(id);
    this.docLen.delete(id);
    this.totalLen -= len;
  }

  search(
    query: string,
    topK: number,
    accept?: (id: string) => boolean,
    extraTerms: readonly string[] = [],
  ): { id: string; score: number }[] {
    const n = this.docLen.size;
    if (n === 0) return [];
    const avgdl = this.totalLen / n || 1;
    const scores = new Map<string, number>();
    for (const t of new Set([...indexTerms(query), ...extraTerms])) {
      const p = this.postings.get(t);
      if (!p) continue;
      const idf = Math.log(1 + (n - p.size + 0.5) / (p.size + 0.5));
      for (const [id, f] of p) {
        if (accept && !accept(id)) continue;
        const dl = this.docLen.get(id) ?? 0;
        const s = (idf * f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * dl) / avgdl));
        scores.set(id, (scores.get(id) ?? 0) + s);
      }
    }
    return [...scores.entries()]
      .sort((a, c) => c[1] - a[1] || (a[0] < c[0] ? -1 : 1))
      .slice(0, topK)
      .map(([id, score]) => ({ id, score }));
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
