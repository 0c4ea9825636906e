/** Turns texts into vectors. Implementations: hashing (lexical, no server), OpenAI-compatible HTTP, local ONNX. */
export interface Embedder {
  /** Stable identifier stored with the bank; a different id means the vectors must be rebuilt. */
  readonly id: string;
  readonly dimensions: number;
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
