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
