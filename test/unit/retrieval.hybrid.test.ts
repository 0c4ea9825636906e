import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  SourceNeighbours,
  expandWithNeighbours,
  fuseNormalized,
  hybridWeights,
  sourceEventKey,
} from '../../src/core/retrieval/hybrid';
import { indexTerms } from '../../src/core/retrieval/tokenize';
import { Bm25Index } from '../../src/core/retrieval/bm25';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';

describe('indexTerms', () => {
  it('drops stopwords, question words and stray letters, and Porter-stems', () => {
    expect(indexTerms("What pets does Caroline's family have?")).toEqual(['pet', 'carolin', 'famili']);
    expect(indexTerms('How many times did they get married')).toEqual(['time', 'marri']);
    expect(indexTerms('Running 5 km in 2023')).toEqual(['run', '5', 'km', '2023']);
  });

  it('lets inflected forms meet in BM25', () => {
    const b = new Bm25Index();
    b.set('a', 'Oscar is my guinea pig; how are your pets?');
    b.set('b', 'We painted a sunset');
    expect(b.search('What pet does she have?', 5).map((h) => h.id)).toEqual(['a']);
    expect(b.search('paintings', 5).map((h) => h.id)).toEqual(['b']);
  });
});

describe('fuseNormalized', () => {
  it('normalises each list to [0, 1] before weighting, so score scales do not matter', () => {
    const dense = [{ id: 'a', score: 0.9 }, { id: 'b', score: 0.5 }, { id: 'c', score: 0.1 }];
    const lexical = [{ id: 'c', score: 40 }, { id: 'b', score: 30 }, { id: 'd', score: 0 }];
    const fused = fuseNormalized([{ hits: dense, weight: 1 }, { hits: lexical, weight: 1 }]);
    const score = Object.fromEntries(fused.map((f) => [f.id, f.score]));
    expect(score.a).toBeCloseTo(1);
    expect(score.b).toBeCloseTo(0.5 + 0.75);
    expect(score.c).toBeCloseTo(0 + 1);
    expect(score.d).toBeCloseTo(0);
    expect(fused.map((f) => f.id)).toEqual(['b', 'a', 'c', 'd']);
    // A heavier lexical weight puts its winner first.
    expect(fuseNormalized([{ hits: dense, weight: 1 }, { hits: lexical, weight: 3 }])[0].id).toBe('c');
  });

  it('treats a list of equal scores as all-best and ignores empty or zero-weight lists', () => {
    const fused = fuseNormalized([
      { hits: [{ id: 'x', score: 2 }, { id: 'y', score: 2 }], weight: 0.5 },
      { hits: [], weight: 1 },
      { hits: [{ id: 'z', score: 9 }], weight: 0 },
    ]);
    expect(fused).toEqual([{ id: 'x', score: 0.5 }, { id: 'y', score: 0.5 }]);
  });
});

describe('SourceNeighbours and expandWithNeighbours', () => {
  it('links consecutive memories of the same source event only', () => {
    const n = new SourceNeighbours();
    n.add('a1', 'chat\u0000t1');
    n.add('b1', 'chat\u0000t2');
    n.add('a2', 'chat\u0000t1');
    n.add('a3', 'chat\u0000t1');
    n.add('m1', undefined);
    n.add('m2', undefined);
    const ids = (id: string, radius?: number) => n.neighbours(id, radius).map((x) => `${x.id}@${x.distance}`);
    expect(ids('a1')).toEqual(['a2@1']);
    expect(ids('a2')).toEqual(['a1@1', 'a3@1']);
    expect(ids('b1')).toEqual([]);
    expect(ids('m1')).toEqual([]);
    n.add('a2', 'chat\u0000t1'); // re-adding changes nothing
    expect(ids('a3')).toEqual(['a2@1']);
    expect(ids('a1', 2)).toEqual(['a2@1', 'a3@2']);
    expect(ids('a3', 5)).toEqual(['a2@1', 'a1@2']);
  });

  it('sourceEventKey needs a ref: sourceless manual memories are not one event', () => {
    expect(sourceEventKey({ kind: 'manual' })).toBeUndefined();
    expect(sourceEventKey(undefined)).toBeUndefined();
    expect(sourceEventKey({ kind: 'chat', ref: 't1' })).toBe('chat\u0000t1');
    expect(sourceEventKey({ kind: 'save', ref: 't1' })).not.toBe(sourceEventKey({ kind: 'chat', ref: 't1' }));
  });

  it('gives neighbours a share of the hit score per step, keeps higher own scores and respects accept', () => {
    const near = (...ids: string[]) => ids.map((id) => ({ id, distance: 1 }));
    const links: Record<string, { id: string; distance: number }[]> = { a: [...near('b', 'x'), { id: 'f', distance: 2 }], c: near('b'), d: near('e') };
    const hits = [{ id: 'a', score: 1 }, { id: 'c', score: 0.9 }, { id: 'd', score: 0.2 }, { id: 'e', score: 0.5 }];
    const out = expandWithNeighbours(hits, (id) => links[id] ?? [], (id) => id !== 'x', 0.7);
    const score = Object.fromEntries(out.map((h) => [h.id, h.score]));
    expect(score.b).toBeCloseTo(0.7);
    expect(score.e).toBeCloseTo(0.5); // its own score beats 0.7 × 0.2
    expect(score.x).toBeUndefined();
    expect(score.f).toBeCloseTo(0.49);
    expect(out.map((h) => h.id)).toEqual(['a', 'c', 'b', 'e', 'f', 'd']);
    expect(expandWithNeighbours(hits, (id) => links[id] ?? [], () => true, 0)).toEqual(hits);
  });

  it('hybridWeights gives a lexical (hashing) embedder a smaller dense weight', () => {
    expect(hybridWeights(new HashingEmbedder(64)).dense).toBeLessThan(hybridWeights({}).dense);
  });
});

describe('MemoryBank.search with time and source neighbours', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds the dated memory and the reply next to the one that names the topic', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-hybrid-'));
    const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(128), watchIntervalMs: 0 });
    try {
      const add = (texts: string[], ref: string, eventTime: string) =>
        bank.applyBatch(texts.map((text) => ({ type: 'ADD' as const, text })), { source: { kind: 'dialogue', ref }, eventTime });
      const filler = Array.from({ length: 30 }, (_, i) => `Sam: note ${i} about the weather, groceries and train number ${i}`);
      const [, , reply] = await add(['Ana: How was the weekend?', 'Sam: Great, how are your pets?', 'Ana: Oscar is fine, he is a guinea pig.'], 's1', '2023-05-08T10:00:00Z');
      await add(filler, 's2', '2023-06-01T10:00:00Z');
      const [dated] = await add(['Ana: I showed my painting of a sunset.'], 's3', '2023-10-13T10:00:00Z');
      await add(['Ana: I showed my painting of a sunset.'], 's4', '2023-10-20T10:00:00Z');

      const pets = await bank.search('What pets does Ana have?', { topK: 3 });
      expect(pets.map((h) => h.memory.id)).toContain(reply.memoryId);
      // BM25 alone does not find the reply: it shares no word with the question but the name.
      const lexicalOnly = bank.searchLexical('What pets does Ana have?', 1);
      expect(lexicalOnly[0].memory.id).not.toBe(reply.memoryId);

      const painting = await bank.search('What painting did Ana show on October 13, 2023?', { topK: 1 });
      expect(painting[0].memory.id).toBe(dated.memoryId);
      expect(bank.searchLexical('What painting did Ana show on October 13, 2023?', 1)[0].memory.id).toBe(dated.memoryId);

      // A deleted neighbour is not brought back by expansion.
      await bank.delete(reply.memoryId);
      const after = await bank.search('What pets does Ana have?', { topK: 10 });
      expect(after.map((h) => h.memory.id)).not.toContain(reply.memoryId);
    } finally {
      await bank.close();
    }
  });
});
