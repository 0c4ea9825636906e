/** Turns texts into vectors. Implementations: hashing (lexical, no server), OpenAI-compatible HTTP, local ONNX. */
export interface Embedder {
  /** Stable identifier stored with the bank; a different id means the vectors must be rebuilt. */
  readonly id: string;
  readonly dimensions: number;
  /**
   * Whether its vectors only encode the words of the text (a hashing embedder), so its ranking mostly
   * repeats BM25's and search fusion gives it less weight. Neural embedders leave it unset.
   */
  readonly lexical?: boolean;
  /**
   * The cosine similarity from which a memory counts as related to a fact: the Memory Manager is shown only
   * memories this close (none: the fact is new, and no model call is made). A property of the embedding
   * space, so each embedder states its own; set on the bank-quality benchmark's dev split (bench/README.md).
   * Unset: every retrieved memory is shown.
   */
  readonly relatedness?: number;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** L2-normalise in place and return the same array. */
export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}
