import { describe, expect, it } from 'vitest';
import { Bm25Index, reciprocalRankFusion } from '../../src/core/retrieval/bm25';
import { VectorIndex } from '../../src/core/retrieval/vectorIndex';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';

function rand(seed: number): () => number {
  return () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('VectorIndex', () => {
  it('returns exactly the brute-force top-k, also after deletes and overwrites', () => {
    const r = rand(7);
    const dims = 16;
    const idx = new VectorIndex(dims, 4);
    const all = new Map<string, Float32Array>();
    for (let i = 0; i < 500; i++) {
      const v = Float32Array.from({ length: dims }, () => r() - 0.5);
      idx.set(`m${i}`, v);
      all.set(`m${i}`, v);
    }
    for (let i = 0; i < 500; i += 7) {
      idx.delete(`m${i}`);
      all.delete(`m${i}`);
    }
    const v = Float32Array.from({ length: dims }, () => r());
    idx.set('m3', v);
    all.set('m3', v);
    const q = Float32Array.from({ length: dims }, () => r() - 0.5);
    const brute = [...all.entries()]
      .map(([id, x]) => ({ id, score: x.reduce((s, xi, j) => s + xi * q[j], 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 25);
    const got = idx.search(q, 25);
    expect(got.map((g) => g.id)).toEqual(brute.map((b) => b.id));
    expect(idx.size).toBe(all.size);
    expect(idx.search(q, 5, (id) => id.endsWith('1')).every((h) => h.id.endsWith('1'))).toBe(true);
  });

  it('uses WebAssembly SIMD here, and its results equal the plain float64 scan exactly', () => {
    const r = rand(11);
    // Odd dims exercise the padded stride; near-duplicate and identical rows exercise ties and
    // float32 near-ties, where only the exact rescoring keeps the order right.
    for (const dims of [3, 16, 37, 384]) {
      const simd = new VectorIndex(dims, 8);
      const plain = new VectorIndex(dims, 8, { simd: false });
      expect(simd.simd).toBe(true);
      expect(plain.simd).toBe(false);
      const base = Float32Array.from({ length: dims }, () => r() - 0.5);
      for (let i = 0; i < 3000; i++) {
        const kind = i % 10;
        const v =
          kind === 0 ? base // identical rows: ties broken by id
          : kind === 1 ? base.map((x) => x + (r() - 0.5) * 1e-6) // float32 near-ties
          : Float32Array.from({ length: dims }, () => (r() - 0.5) * (kind === 2 ? 40 : 1)); // uneven norms
        simd.set(`m${i}`, v);
        plain.set(`m${i}`, v);
      }
      for (let i = 0; i < 3000; i += 13) {
        simd.delete(`m${i}`);
        plain.delete(`m${i}`);
      }
      for (let t = 0; t < 20; t++) {
        const q = t % 4 === 0 ? base : Float32Array.from({ length: dims }, () => r() - 0.5);
        const accept = t % 3 === 0 ? (id: string) => !id.endsWith('7') : undefined;
        for (const k of [1, 10, 60, 5000]) {
          expect(simd.search(q, k, accept)).toEqual(plain.search(q, k, accept));
        }
      }
    }
  });

  it('a filter that rejects almost everything still fills the top k from what it accepts', () => {
    const r = rand(3);
    const idx = new VectorIndex(8);
    for (let i = 0; i < 1000; i++) idx.set(`m${String(i).padStart(4, '0')}`, Float32Array.from({ length: 8 }, () => r() - 0.5));
    const q = Float32Array.from({ length: 8 }, () => r() - 0.5);
    const hits = idx.search(q, 60, (id) => id.endsWith('00'));
    expect(hits.map((h) => h.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${String(i * 100).padStart(4, '0')}`));
  });

  it('refuses vectors of the wrong size', () => {
    expect(() => new VectorIndex(4).set('x', [1, 2, 3])).toThrow(/3 dimensions/);
  });
});

describe('Bm25Index', () => {
  it('ranks by term overlap and forgets removed documents', () => {
    const b = new Bm25Index();
    b.set('a', 'The database is PostgreSQL 15');
    b.set('b', 'We deploy on Fridays');
    b.set('c', 'Database migrations run with knex');
    expect(b.search('which database', 10).map((h) => h.id).sort()).toEqual(['a', 'c']);
    b.remove('a');
    expect(b.search('postgresql', 10)).toEqual([]);
    b.set('c', 'Deploys need approval');
    expect(b.search('deploy', 10).map((h) => h.id).sort()).toEqual(['b', 'c']);
    expect(b.size).toBe(2);
  });
});

describe('reciprocalRankFusion', () => {
  it('rewards items ranked high in several lists', () => {
    const fused = reciprocalRankFusion([[{ id: 'x' }, { id: 'y' }], [{ id: 'y' }, { id: 'z' }]]);
    expect(fused[0].id).toBe('y');
  });
});

describe('HashingEmbedder', () => {
  it('is deterministic, normalised and puts related texts closer', async () => {
    const e = new HashingEmbedder(384);
    const [a, b, c] = await e.embed(['The build uses esbuild bundles', 'esbuild bundles the build', 'My cat likes sardines']);
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, xi, i) => s + xi * y[i], 0);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    expect(Array.from((await e.embed(['The build uses esbuild bundles']))[0])).toEqual(Array.from(a));
  });
});
