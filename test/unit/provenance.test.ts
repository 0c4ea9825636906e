// Provenance: a memory keeps the capture event it came from (bank/sources.ts), bounded, redacted, exported,
// imported, scrubbed; the Answer Agent reads it beside the memory (agents/answerContext.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { buildAnswerContext, excerptFor } from '../../src/core/agents/answerContext';
import { answerMessages } from '../../src/core/agents/prompts';
import { tokenize } from '../../src/core/retrieval/tokenize';
import type { SourceLimits } from '../../src/core/bank/sources';
import type { Memory, SearchHit } from '../../src/core/types';

const SECRET = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';

describe('source events kept for provenance', () => {
  let dir: string;
  let bank: MemoryBank;
  const open = (sourceLimits?: Partial<SourceLimits>) => MemoryBank.open(dir, { embedder: new HashingEmbedder(64), watchIntervalMs: 0, sourceLimits });
  const ingest = (event: string, text: string, facts: string[], time = '2026-04-11T10:00:00.000Z') =>
    bank.applyBatch(
      facts.map((t) => ({ type: 'ADD' as const, text: t })),
      { source: { kind: 'commit', ref: `3f2a9c1${event}0000000000`, event }, eventTime: time, origin: { text, time } },
    );

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-prov-'));
    bank = await open();
  });
  afterEach(async () => {
    await bank.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('links each memory to its event, stores the event once and redacted, and survives reopening', async () => {
    const recs = await ingest('e1', `Switch CI to Node 22\n\nThe deploy token ${SECRET} moved to the vault.`, ['CI runs on Node 22.', 'The deploy token lives in the vault.']);
    const [a, b] = recs.map((r) => r.memoryId);
    const sa = bank.sourcesOf(a);
    expect(sa).toHaveLength(1);
    expect(sa[0]).toMatchObject({ event: 'e1', kind: 'commit', time: '2026-04-11T10:00:00.000Z' });
    expect(sa[0].text).toContain('Switch CI to Node 22');
    expect(sa[0].text).not.toContain(SECRET);
    expect(bank.sourceOf(b)?.event).toBe('e1');
    expect(bank.sources.stats().events).toBe(1);
    // Nothing of the secret reached the disk in any file.
    for (const f of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, f), 'latin1')).not.toContain(SECRET);

    // A later event that restates the fact adds itself to the memory's sources.
    await ingest('e2', 'Bump engines: Node 22 everywhere', ['CI runs on Node 22.']);
    expect(bank.sourcesOf(a).map((s) => s.event)).toEqual(['e1', 'e2']);

    await bank.close();
    const before = fs.readFileSync(path.join(dir, 'sources.jsonl'), 'utf8');
    bank = await open();
    expect(bank.sourcesOf(a).map((s) => s.event)).toEqual(['e1', 'e2']);
    // Opening and reading never rewrite what was acknowledged.
    expect(fs.readFileSync(path.join(dir, 'sources.jsonl'), 'utf8')).toBe(before);
  });

  it('drops the oldest uncited events first past the cap, and reports the count', async () => {
    await bank.close();
    bank = await open({ maxEvents: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await ingest(`e${i}`, `event ${i} text`, [`Fact number ${i} is true.`], `2026-04-1${i}T10:00:00.000Z`))[0].memoryId);
    // Memory of e1 deleted: its event is no longer cited and goes first, though e0 is older.
    await bank.delete(ids[1]);
    await ingest('e4', 'event 4 text', ['Fact number 4 is true.'], '2026-04-15T10:00:00.000Z');
    const stats = bank.sources.stats();
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.events).toBeLessThanOrEqual(4);
    expect(bank.sources.get('e1')).toBeUndefined();
    expect(bank.sourceOf(ids[3])?.event).toBe('e3');
    expect(bank.sources.get('e4')).toBeDefined();
    // The deleted memory is still in the bank; only its source is gone.
    expect(bank.get(ids[1])?.status).toBe('deleted');
    expect(bank.sourcesOf(ids[1])).toEqual([]);
  });

  it('travels with export and import, validated and redacted', async () => {
    const [rec] = await ingest('e1', 'Priya owns releases from now on.', ['Priya owns releases.']);
    const bundle = bank.exportBundle();
    expect(bundle.sources?.map((s) => s.event)).toEqual(['e1']);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-prov-imp-'));
    const target = await MemoryBank.open(other, { embedder: new HashingEmbedder(64), watchIntervalMs: 0 });
    try {
      const tampered = JSON.parse(JSON.stringify(bundle));
      tampered.sources.push({ event: 'x1', kind: 'commit', time: 'yesterday', text: 'bad time' });
      tampered.sources[0].text += ` token ${SECRET}`;
      const res = await target.importBundle(tampered, 'merge');
      expect(res.dropped).toContain('sources[1]');
      const src = target.sourcesOf(rec.memoryId);
      expect(src.map((s) => s.event)).toEqual(['e1']);
      expect(src[0].text).toContain('Priya owns releases');
      expect(src[0].text).not.toContain(SECRET);
    } finally {
      await target.close();
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('the Answer Agent context', () => {
  const mem = (id: string, text: string, extra: Partial<Memory> = {}): Memory => ({
    id,
    text,
    status: 'active',
    createdAt: '2026-04-11T00:00:00.000Z',
    updatedAt: '2026-04-11T00:00:00.000Z',
    eventTime: '2026-04-11T00:00:00.000Z',
    source: { kind: 'commit' },
    tags: [],
    pinned: false,
    ...extra,
  });
  const event = (e: string, text: string) => ({ event: e, kind: 'dialogue' as const, ref: `conv/${e}`, time: '2023-05-08T13:56:00.000Z', text });

  it('puts current memories first, marks superseded ones, shows each source once, within the budget', () => {
    const hits: SearchHit[] = [
      { memory: mem('old', 'The project used npm.', { status: 'superseded', validTo: '2026-05-01T00:00:00.000Z', supersededBy: 'new' }), score: 0.9 },
      { memory: mem('new', 'The project uses pnpm.', { supersedes: 'old' }), score: 0.8 },
      { memory: mem('c', 'Caroline went to a support group.'), score: 0.7 },
      { memory: mem('d', 'Caroline felt accepted.'), score: 0.6 },
    ];
    const sources: Record<string, ReturnType<typeof event>> = {
      c: event('ev1', 'Caroline: I went to an LGBTQ support group yesterday and it was so powerful.\nMelanie: Wow, what happened?'),
      d: event('ev1', 'same event'),
    };
    const { view, hits: shown } = buildAnswerContext('What did Caroline go to?', hits, {
      budgetTokens: 1000,
      maxExcerpts: 8,
      maxExcerptChars: 700,
      sourceOf: (m) => sources[m.id],
      redact: (t) => t,
    });
    expect(shown.map((h) => h.memory.id)).toEqual(['new', 'c', 'd', 'old']);
    expect(view[3].note).toBe('superseded on 1 May 2026 by [1]');
    expect(view[0].note).toBe('current, replaces [4]');
    expect(view[1].source).toMatchObject({ label: 'dialogue conv/ev1, 8 May 2023' });
    expect(view[2].source).toEqual({ sameAs: '2' });
    const prompt = answerMessages('What did Caroline go to?', view)[1].content;
    expect(prompt).toContain('[2] (11 April 2026) Caroline went to a support group.\n    source (dialogue conv/ev1, 8 May 2023): Caroline: I went to an LGBTQ support group yesterday');
    expect(prompt).toContain('source: the same event as [2]');

    // A small budget keeps the best memories and leaves the excerpts out first.
    const tight = buildAnswerContext('What did Caroline go to?', hits, { budgetTokens: 30, maxExcerpts: 8, maxExcerptChars: 700, sourceOf: (m) => sources[m.id], redact: (t) => t });
    expect(tight.view.length).toBeGreaterThan(0);
    expect(tight.view.length).toBeLessThan(4);
    expect(tight.view.every((v) => !v.source || 'sameAs' in v.source)).toBe(true);
  });

  it('leaves out the source of a superseded memory, which states what is no longer true', () => {
    const first = event('ev0', 'Dana: we store invoices in PostgreSQL 15, and money amounts are integers in cents.');
    const moved = event('ev1', 'Lee: We moved the billing database from PostgreSQL 15 to PostgreSQL 16 last Friday.');
    const hits: SearchHit[] = [
      { memory: mem('cents', 'Money amounts are integers in cents.'), score: 0.9 },
      { memory: mem('pg16', 'The billing database moved to PostgreSQL 16.', { supersedes: 'pg15' }), score: 0.8 },
      { memory: mem('pg15', 'Invoices are stored in PostgreSQL 15.', { status: 'superseded', validTo: '2026-03-16T00:00:00.000Z', supersededBy: 'pg16' }), score: 0.7 },
    ];
    const sources: Record<string, ReturnType<typeof event>> = { cents: first, pg15: first, pg16: moved };
    const { view } = buildAnswerContext('Which database does billing use?', hits, { budgetTokens: 1000, maxExcerpts: 8, maxExcerptChars: 700, sourceOf: (m) => sources[m.id], redact: (t) => t });
    expect(view.map((v) => [v.key, v.note, v.source && ('sameAs' in v.source ? v.source.sameAs : v.source.excerpt.slice(0, 20))])).toEqual([
      ['1', undefined, undefined],
      ['2', 'current, replaces [3]', 'Lee: We moved the bi'],
      ['3', 'superseded on 16 March 2026 by [2]', undefined],
    ]);
  });

  it('cuts a long event to the lines that share words with the question and the memory', () => {
    const text = ['Melanie: I love painting sunsets.', 'Caroline: The adoption agency called back today!', 'Melanie: How are the kids?', 'Caroline: They are great.'].join('\n');
    const out = excerptFor(text, new Set(tokenize('When did the adoption agency call Caroline?')), 'Caroline heard from the adoption agency.', 60);
    expect(out).toBe('Caroline: The adoption agency called back today!');
  });
});
