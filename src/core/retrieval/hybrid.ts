// Pieces of hybrid retrieval that sit on top of the dense and BM25 rankings: score fusion, and
// expansion to neighbouring memories of the same source event.

export interface Ranked {
  id: string;
  score: number;
}

/**
 * Weighted fusion of rankings by min-max normalised score: each list's scores map to [0, 1] (its
 * best hit 1, its last 0), are multiplied by the list's weight and summed per id. Unlike RRF it keeps
 * how far apart the hits are, so one list's clear winner is not flattened to a rank.
 */
export function fuseNormalized(lists: { hits: readonly Ranked[]; weight: number }[]): Ranked[] {
  const scores = new Map<string, number>();
  for (const { hits, weight } of lists) {
    if (!hits.length || weight === 0) continue;
    let max = -Infinity;
    let min = Infinity;
    for (const h of hits) {
      if (h.score > max) max = h.score;
      if (h.score < min) min = h.score;
    }
    const span = max - min;
    for (const h of hits) {
      // A list whose hits all score the same carries no ordering: each gets the full weight.
      const norm = span > 0 ? (h.score - min) / span : 1;
      scores.set(h.id, (scores.get(h.id) ?? 0) + weight * norm);
    }
  }
  return sortRanked(scores);
}

/** A memory's source as a key, or undefined when it names no particular event (no ref). */
export function sourceEventKey(source: { kind: string; ref?: string } | undefined): string | undefined {
  return source?.ref ? `${source.kind}\u0000${source.ref}` : undefined;
}

export interface Neighbour {
  id: string;
  /** Steps away in creation order within the source event (1 = adjacent). */
  distance: number;
}

/**
 * Links each memory to the memories created just before and after it from the same source event
 * (e.g. the facts of one chat turn, the turns of one conversation), in creation order. O(1) per memory.
 */
export class SourceNeighbours {
  private prev = new Map<string, string>();
  private next = new Map<string, string>();
  /** The newest memory of each source; after `restore`, built on the first `add` (only a write needs it). */
  private lastOfSource: Map<string, string> | undefined = new Map();
  private rebuildLast: (() => Iterable<[id: string, sourceKey: string | undefined]>) | undefined;

  /** Records a newly created memory; call in creation order. */
  add(id: string, sourceKey: string | undefined): void {
    if (!sourceKey || this.prev.has(id) || this.next.has(id)) return;
    const lastOfSource = this.lastOfSourceMap(id);
    const last = lastOfSource.get(sourceKey);
    if (last !== undefined && last !== id) {
      this.next.set(last, id);
      this.prev.set(id, last);
    }
    lastOfSource.set(sourceKey, id);
  }

  /** The links (`[earlier, later]` pairs), for a snapshot. */
  links(): [string, string][] {
    return [...this.next];
  }

  /** Restores links from `links()`; `memories` yields every memory in creation order with its source key, when a write needs them. */
  restore(links: Iterable<[string, string]>, memories: () => Iterable<[id: string, sourceKey: string | undefined]>): void {
    this.clear();
    for (const [a, b] of links) {
      this.next.set(a, b);
      this.prev.set(b, a);
    }
    this.lastOfSource = undefined;
    this.rebuildLast = memories;
  }

  /** `adding`: the memory being added, already among the memories but not yet a source's newest. */
  private lastOfSourceMap(adding: string): Map<string, string> {
    if (!this.lastOfSource) {
      this.lastOfSource = new Map();
      for (const [id, key] of this.rebuildLast!()) if (key && id !== adding) this.lastOfSource.set(key, id);
      this.rebuildLast = undefined;
    }
    return this.lastOfSource;
  }

  /** The memories at most `radius` steps before and after `id` in its source event, nearest first. */
  neighbours(id: string, radius = 1): Neighbour[] {
    const out: Neighbour[] = [];
    for (const links of [this.prev, this.next]) {
      let cur = id;
      for (let distance = 1; distance <= radius; distance++) {
        const n = links.get(cur);
        if (n === undefined) break;
        out.push({ id: n, distance });
        cur = n;
      }
    }
    return out.sort((a, b) => a.distance - b.distance);
  }

  clear(): void {
    this.prev.clear();
    this.next.clear();
    this.lastOfSource = new Map();
    this.rebuildLast = undefined;
  }
}

/**
 * Adds the source neighbours of ranked hits: a neighbour `d` steps away scores `weight`^d × the hit's
 * score (or its own score, if higher). An answer often sits next to the memory that names the topic
 * (a reply to a question, the next fact of one event). Cost O(hits × neighbours per hit).
 */
export function expandWithNeighbours(
  hits: readonly Ranked[],
  neighboursOf: (id: string) => readonly Neighbour[],
  accept: (id: string) => boolean,
  weight: number,
): Ranked[] {
  if (weight <= 0) return [...hits];
  const scores = new Map<string, number>();
  for (const h of hits) scores.set(h.id, h.score);
  for (const h of hits) {
    for (const n of neighboursOf(h.id)) {
      const carried = weight ** n.distance * h.score;
      if ((scores.get(n.id) ?? -Infinity) >= carried || !accept(n.id)) continue;
      scores.set(n.id, carried);
    }
  }
  return sortRanked(scores);
}

function sortRanked(scores: Map<string, number>): Ranked[] {
  return [...scores.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([id, score]) => ({ id, score }));
}

export interface HybridWeights {
  /** Weight of the dense (embedding) ranking in the fusion. */
  dense: number;
  /** Weight of the BM25 ranking in the fusion. */
  lexical: number;
  /** Share of a hit's score its adjacent source neighbours get, compounding per step (0 turns expansion off). */
  neighbour: number;
  /** How many steps away from a hit, within its source event, neighbours are brought in. */
  neighbourRadius: number;
}

/**
 * Fusion weights for an embedder, tuned on the LoCoMo training conversation (conv-26; bench/recall.ts).
 * The hashing embedder is itself lexical: its ranking mostly repeats BM25's, so it gets a small weight.
 * For a neural embedder (all-MiniLM-L6-v2) dense weights 0.5–1 and neighbour shares 0.5–0.8 all
 * landed within 0.01 recall@60 of each other. Takes an Embedder's `lexical` flag structurally, so
 * retrieval (the ground floor) does not import embeddings.
 */
export function hybridWeights(embedder: { readonly lexical?: boolean }): HybridWeights {
  return { dense: embedder.lexical ? 0.3 : 0.7, lexical: 1, neighbour: 0.7, neighbourRadius: 2 };
}
