import { type Embedder, normalize } from './embedder';
import { tokenize } from '../retrieval/tokenize';

/**
 * A lexical embedder that needs no model or server: signed feature hashing of word unigrams,
 * bigrams and character trigrams. Deterministic, so tests and benchmarks are reproducible.
 */
export class HashingEmbedder implements Embedder {
  readonly id: string;
  // No relatedness: word hashing does not measure meaning, so the manager is shown every retrieved memory.
  readonly lexical = true;
  constructor(readonly dimensions = 384) {
    this.id = `hashing-v1-${dimensions}`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimensions);
    const words = tokenize(text);
    for (let i = 0; i < words.length; i++) {
      this.add(v, 'w:' + words[i], 1);
      if (i + 1 < words.length) this.add(v, 'b:' + words[i] + ' ' + words[i + 1], 0.5);
      const w = `^${words[i]}$`;
      for (let j = 0; j + 3 <= w.length; j++) this.add(v, 'c:' + w.slice(j, j + 3), 0.25);
    }
    return normalize(v);
  }

  private add(v: Float32Array, feature: string, weight: number): void {
    const h = fnv1a(feature);
    const idx = h % this.dimensions;
    v[idx] += (h & 0x80000000 ? -1 : 1) * weight;
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
