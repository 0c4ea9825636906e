// The whole Memory-R1 pipeline (extract → manage → answer) against a real model over HTTP: by default
// Qwen2.5-Coder-0.5B-Instruct served locally by `memory-r1 serve`'s server, or any OpenAI-compatible
// endpoint given by MEMORY_R1_BASE_URL (+ MEMORY_R1_MODEL, MEMORY_R1_EMBEDDING_MODEL). The model's
// decisions are not judged here (bench/ does that); these tests check that it extracts the facts of
// plain events and that the pipeline stays consistent whatever the manager writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { MemoryEngine } from '../../src/core/engine';
import { createModels } from '../../src/core/config';
import { OpenAIEmbedder } from '../../src/core/embeddings/openaiEmbedder';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import type { Embedder } from '../../src/core/embeddings/embedder';
import { SETUP_TIMEOUT_MS, startTestModelServer } from './localModelsSetup';

const EVENTS = [
  'Dana: We decided to store invoices in PostgreSQL 15. Money amounts are integers in cents.',
  // Two parallel sentences in one turn ("Run the unit tests with `npm test`. The integration tests need
  // Docker.") are merged by the 0.5B model into "The unit tests need Docker."; the commands get a turn each.
  'Lee: Run the unit tests with `npm test`.',
  'Lee: The integration tests need Docker.',
  'Dana: We moved the invoices database from PostgreSQL 15 to PostgreSQL 16 today.',
];

describe('pipeline against a real model', () => {
  let close: (() => Promise<void>) | undefined;
  let baseURL: string;
  let model: string;
  let embedder: Embedder;
  let dir: string;
  let bank: MemoryBank;
  let engine: MemoryEngine;

  beforeAll(async () => {
    if (process.env.MEMORY_R1_BASE_URL) {
      baseURL = process.env.MEMORY_R1_BASE_URL;
      model = process.env.MEMORY_R1_MODEL ?? 'default';
      const embModel = process.env.MEMORY_R1_EMBEDDING_MODEL;
      embedder = embModel ? new OpenAIEmbedder({ baseURL, apiKey: process.env.MEMORY_R1_API_KEY, model: embModel }) : new HashingEmbedder(384);
      if (embedder instanceof OpenAIEmbedder) await embedder.probe();
    } else {
      const server = await startTestModelServer({ chat: 'qwen' });
      close = () => server.close();
      baseURL = server.url;
      model = server.model;
      const e = new OpenAIEmbedder({ baseURL, model: server.embeddingModel! });
      await e.probe();
      embedder = e;
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-real-'));
    bank = await MemoryBank.open(dir, { embedder, watchIntervalMs: 0 });
    engine = new MemoryEngine({
      bank,
      ...createModels({ baseURL, apiKey: process.env.MEMORY_R1_API_KEY, models: { extractor: model, manager: model, answer: model }, timeoutMs: 300_000 }),
      options: { maxTokens: { extractor: 256, manager: 384, answer: 160 } },
    });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await bank?.close();
    await close?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ingests events: only valid operations applied, history complete and consistent with the bank', async () => {
    let opCount = 0;
    const facts: string[] = [];
    for (const [i, text] of EVENTS.entries()) {
      const r = await engine.ingest({ id: `e${i}`, source: { kind: 'chat', ref: `turn-${i}` }, text, time: new Date().toISOString() });
      facts.push(...r.facts);
      for (const o of r.operations) {
        expect(['ADD', 'UPDATE', 'DELETE', 'NOOP']).toContain(o.type);
        if (!o.rejected && !o.held) opCount++;
      }
    }
    // Plain statements of fact: a model that does the work extracts them (SmolLM2-135M did not).
    expect(facts.some((f) => /PostgreSQL 1[56]/.test(f)), facts.join(' | ')).toBe(true);
    expect(facts.some((f) => /npm test/.test(f)), facts.join(' | ')).toBe(true);
    expect(facts.some((f) => /integration tests need Docker/i.test(f)), facts.join(' | ')).toBe(true);
    const history = bank.history();
    // One record per applied operation; every record names a known action and, when it changes a memory, the memory exists.
    expect(history.length).toBeGreaterThanOrEqual(opCount);
    for (const rec of history) {
      expect(['ADD', 'UPDATE', 'SUPERSEDE', 'DELETE', 'NOOP']).toContain(rec.action);
      expect(rec.time).toBeTruthy();
      if (rec.action === 'NOOP') continue;
      expect(bank.get(rec.memoryId)).toBeDefined();
      expect(rec.after!.text.trim().length).toBeGreaterThan(0);
      if (rec.action === 'SUPERSEDE' || rec.action === 'DELETE') {
        // The manager can only touch memories it was shown.
        expect(rec.candidates!.map((c) => c.memoryId)).toContain(rec.memoryId);
        expect(rec.before).toBeDefined();
      }
      // The per-fact protocol decides plain cases itself (no related memory: ADD), and says so in `guard`.
      if (rec.model === 'engine') expect(rec.guard).toBeTruthy();
      else expect(rec.model).toBe(model);
      expect(rec.fact).toBeTruthy();
    }
    // The bank's state is exactly the fold of its history: reopening gives the same memories.
    const before = bank.list({ status: 'all' }).items.map((m) => [m.id, m.text, m.status]).sort();
    await bank.close();
    bank = await MemoryBank.open(dir, { embedder, watchIntervalMs: 0 });
    (engine as unknown as { bank: MemoryBank }).bank = bank;
    expect(bank.list({ status: 'all' }).items.map((m) => [m.id, m.text, m.status]).sort()).toEqual(before);
    expect(bank.recovery.messages).toEqual([]);
  }, SETUP_TIMEOUT_MS);

  it('answers with citations drawn from the retrieved memories, streaming', async () => {
    if (bank.size === 0) await bank.addManual('Invoices are stored in PostgreSQL 16.');
    const deltas: string[] = [];
    const r = await engine.answer('Which database stores the invoices?', { onDelta: (d) => deltas.push(d), topK: 20 });
    expect(typeof r.answer).toBe('string');
    expect(deltas.join('')).toBe(r.raw);
    const retrieved = new Set(r.retrieved.map((h) => h.memory.id));
    for (const c of r.citations) expect(retrieved.has(c.id)).toBe(true);
    expect(r.usage.completionTokens).toBeGreaterThan(0);
    const traj = bank.side.trajectories();
    expect(traj.some((t) => t.kind === 'answer' && t.answerId === r.answerId)).toBe(true);
  }, SETUP_TIMEOUT_MS);
});
