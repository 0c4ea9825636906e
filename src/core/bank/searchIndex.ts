// The bank's search index: dense vectors, BM25 and the source-event neighbours, kept in step with the
// folded history by MemoryBank, and the hybrid search over them. Knows ids, texts and vectors only;
// which memories a search may return is the caller's `accept`.
import { Bm25Index, type Bm25Snapshot } from '../retrieval/bm25';
import { type Ranked, SourceNeighbours, expandWithNeighbours, fuseNormalized, hybridWeights, sourceEventKey } from '../retrieval/hybrid';
import { memoryTimeTerms, queryTimeTerms } from '../retrieval/temporal';
import { VectorIndex } from '../retrieval/vectorIndex';
import type { SourceRef } from '../types';
import type { VectorEntry } from './vectorLog';

/** Vectors met before their history record (another process writes the vector first); bounded. */
const EARLY_VECTORS_MAX = 4096;

export class SearchIndex {
  private readonly vectors: VectorIndex;
  private bm25 = new Bm25Index();
  /** Memories created one after another from the same source event; search expands hits to them. */
  private readonly neighbours = new SourceNeighbours();
  private readonly earlyVectors = new Map<string, Float32Array>();

  /** `lexical`: the embedder is itself lexical (hashing), so the dense ranking gets less weight. */
  constructor(
    dimensions: number,
    private readonly lexical: boolean,
  ) {
    this.vectors = new VectorIndex(dimensions);
  }

  get vectorCount(): number {
    return this.vectors.size;
  }

  hasVector(id: string): boolean {
    return this.vectors.has(id);
  }

  setVector(id: string, vector: Float32Array): void {
    this.vectors.set(id, vector);
  }

  /** Room for `extra` more vectors at once (opening a large bank). */
  reserveMore(extra: number): void {
    this.vectors.reserve(this.vectors.size + extra);
  }

  /** Keeps a vector whose record has not arrived yet; `takeEarlyVector` claims it. */
  keepEarlyVector(e: VectorEntry): void {
    this.earlyVectors.set(`${e.memoryId}:${e.textHash}`, e.vector);
    if (this.earlyVectors.size > EARLY_VECTORS_MAX) this.earlyVectors.delete(this.earlyVectors.keys().next().value!);
  }

  /**
   * Brings a memory's entry up to date after a record changed it: the vector given (or one kept
   * early for this text), else none until the slot file provides it; BM25 when text or time changed;
   * neighbours when the memory is new.
   */
  update(
    m: { id: string; text: string; eventTime?: string; source: SourceRef },
    prev: { text: string; eventTime?: string } | undefined,
    textHash: string,
    vec: Float32Array | undefined,
  ): void {
    const key = `${m.id}:${textHash.slice(0, 32)}`;
    const early = vec ? undefined : this.earlyVectors.get(key);
    if (early) this.earlyVectors.delete(key);
    if (vec ?? early) this.vectors.set(m.id, (vec ?? early)!);
    else if (prev && prev.text !== m.text) this.vectors.delete(m.id); // its vector comes from the slot file
    if (!prev || prev.text !== m.text || prev.eventTime !== m.eventTime) this.bm25.set(m.id, m.text, memoryTimeTerms(m.text, m.eventTime));
    if (!prev) this.neighbours.add(m.id, sourceEventKey(m.source));
  }

  /** The lexical index in compact form (for the bank's snapshot). */
  exportLexical(): Bm25Snapshot {
    return this.bm25.export();
  }

  /** Compacts the lexical index (after folding a large history): same scores, far less memory. */
  compactLexical(): void {
    this.bm25.compact();
  }

  /** The source-neighbour links (for the bank's snapshot). */
  exportNeighbours(): [string, string][] {
    return this.neighbours.links();
  }

  /** Restores the lexical index and the source-neighbour links from a snapshot; `memories` in creation order. */
  restore(memories: () => Iterable<{ id: string; source: SourceRef }>, bm25: Bm25Snapshot, links: Iterable<[string, string]>): void {
    this.bm25.restore(bm25);
    this.neighbours.restore(links, function* () {
      for (const m of memories()) yield [m.id, sourceEventKey(m.source)];
    });
  }

  /** Rebuilds BM25 from scratch (after a re-embed: the index is rebuilt whole). */
  rebuildLexical(memories: Iterable<{ id: string; text: string; eventTime?: string }>): void {
    this.bm25 = new Bm25Index();
    for (const m of memories) this.bm25.set(m.id, m.text, memoryTimeTerms(m.text, m.eventTime));
  }

  /** Hybrid search: dense and BM25 fused by normalised score, expanded to source neighbours. */
  search(query: string, qv: Float32Array, topK: number, accept: (id: string) => boolean): Ranked[] {
    const weights = hybridWeights({ lexical: this.lexical });
    const pool = Math.max(topK * 2, 100);
    const fused = fuseNormalized([
      { hits: this.vectors.search(qv, pool, accept), weight: weights.dense },
      { hits: this.bm25.search(query, pool, accept, queryTimeTerms(query)), weight: weights.lexical },
    ]);
    return expandWithNeighbours(fused, (id) => this.neighbours.neighbours(id, weights.neighbourRadius), accept, weights.neighbour).slice(0, topK);
  }

  searchDense(qv: Float32Array, topK: number, accept: (id: string) => boolean): Ranked[] {
    return this.vectors.search(qv, topK, accept);
  }

  searchLexical(query: string, topK: number, accept: (id: string) => boolean): Ranked[] {
    return this.bm25.search(query, topK, accept, queryTimeTerms(query));
  }
}
