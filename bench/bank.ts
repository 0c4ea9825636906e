// The memory bank at scale: open time, memory, search (bank vs a plain Float32Array scan, exact
// agreement), one acknowledged write, list/undo, engine-side cost per fact, on the file store and on
// PostgreSQL + pgvector, beside vectra 0.15 used naively. Prints Markdown tables.
//
//   node scripts/run-ts.mjs bench/bank.ts [--sizes 1000,10000,100000] [--dims 384] [--backends file,postgres]
//        [--big 100000x1536|none] [--vectra-max 10000] [--queries 200] [--writes 60]
//
// Setup writes the bank in bulk through the store's own append path (`FileStorage.bulkAppend`,
// `PgStorage.withLock(tx => tx.append(...))`) with records and vectors made exactly as the bank makes
// them; every measurement then runs in a fresh child process on the bank opened normally.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { openBank } from '../src/core/config';
import { FileStorage } from '../src/core/bank/storage/fileStorage';
import type { BankStorage } from '../src/core/bank/storage/types';
import type { StoredRecord } from '../src/core/bank/historyLog';
import { VectorLog } from '../src/core/bank/vectorLog';
import { HashingEmbedder } from '../src/core/embeddings/hashingEmbedder';
import { newId, textHash } from '../src/core/util/text';

type Backend = 'file' | 'postgres';
interface Case {
  backend: Backend;
  size: number;
  dims: number;
}

const args = parseArgs(process.argv.slice(2));

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// ------------------------------------------------------------------ synthetic memories

const WORDS = (
  'parser renderer database cache queue worker scheduler api gateway router auth token session config build test lint deploy ' +
  'release branch commit migration schema index query latency timeout retry backoff logger metrics trace span client server ' +
  'webview panel command setting endpoint model embedding vector search ranking bank history undo import export bundle ' +
  'postgres sqlite redis kafka docker kubernetes helm terraform github actions buildkite jenkins npm yarn pnpm vitest jest ' +
  'typescript rust python golang java kotlin swift react vue svelte angular webpack esbuild vite rollup babel eslint prettier ' +
  'tabs spaces utf8 locale timezone monday tuesday wednesday thursday friday staging production canary rollback hotfix ' +
  'owner alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent victor walter'
).split(' ');
const VERBS = ['uses', 'prefers', 'replaced', 'depends on', 'calls', 'owns', 'migrated to', 'deprecated', 'pins', 'caches'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function factText(r: () => number, i: number): string {
  const w = () => WORDS[Math.floor(r() * WORDS.length)];
  const n = 4 + Math.floor(r() * 10);
  const extra = Array.from({ length: n }, w).join(' ');
  return `The ${w()} ${VERBS[Math.floor(r() * VERBS.length)]} ${w()} ${extra} (fact ${i}).`;
}

function queryText(r: () => number): string {
  const w = () => WORDS[Math.floor(r() * WORDS.length)];
  return `which ${w()} ${w()} ${w()} ${w()}`;
}

// ------------------------------------------------------------------ stores

async function openStorage(c: Case, dir: string, url: string | undefined): Promise<BankStorage> {
  const embedder = new HashingEmbedder(c.dims);
  if (c.backend === 'file') {
    const s = new FileStorage(dir, `vectors-${embedder.id}.bin`);
    await s.init({ embedder: embedder.id, dimensions: c.dims });
    return s;
  }
  const { PgStorage } = await import('../src/core/bank/storage/pgStorage');
  const s = new PgStorage(url!, bankIdOf(c));
  await s.init({ embedder: embedder.id, dimensions: c.dims });
  return s;
}

const bankIdOf = (c: Case) => `bench-${c.size}x${c.dims}`;

/** Writes `size` ADD records and their vectors through the store's append path, in chunks. */
async function setupBank(c: Case, dir: string, url: string | undefined): Promise<number> {
  const t0 = performance.now();
  const storage = await openStorage(c, dir, url);
  const embedder = new HashingEmbedder(c.dims);
  const r = rng(c.size * 31 + c.dims);
  const chunk = 5000;
  const base = Date.parse('2026-01-01T00:00:00Z');
  const ids: string[] = [];
  const allTexts: string[] = [];
  try {
    for (let i = 0; i < c.size; i += chunk) {
      const recs: StoredRecord[] = [];
      const texts: string[] = [];
      for (let j = i; j < Math.min(c.size, i + chunk); j++) {
        const text = factText(r, j);
        texts.push(text);
        // Like the manager's records: the related memories it was shown (up to 10 earlier ones).
        const candidates = Array.from({ length: Math.min(10, j) }, (_, k) => {
          const at = Math.floor(r() * j);
          return { key: String(k), memoryId: ids[at], text: allTexts[at] };
        });
        const time = new Date(base + j * 1000).toISOString();
        recs.push({
          seq: j + 1,
          opId: newId(),
          batchId: newId(),
          action: 'ADD',
          memoryId: newId(),
          after: { text, status: 'active', tags: j % 10 === 0 ? ['infra'] : [], pinned: j % 500 === 0 },
          fact: text,
          candidates,
          reason: 'bench setup',
          model: 'bench',
          source: { kind: 'chat', ref: `turn-${j}`, actor: 'bench' },
          actor: 'bench',
          time,
        });
        ids.push(recs[recs.length - 1].memoryId);
        allTexts.push(text);
      }
      const vecs = await embedder.embed(texts);
      const vectors = recs.map((rec, k) => ({ memoryId: rec.memoryId, textHash: textHash(rec.after!.text), vector: vecs[k] }));
      await storage.withLock((tx) => tx.append(recs, vectors));
    }
  } finally {
    await storage.close();
  }
  return performance.now() - t0;
}

// ------------------------------------------------------------------ measuring (child process)

/** One open of the bank in a fresh process. */
interface Opened {
  openMs: number;
  /** The longest time the event loop waited during open: what an extension host would freeze for. */
  stallMs: number;
  rssMb: number;
  heapMb: number;
  from: 'snapshot' | 'history';
}

interface Measured extends Opened {
  /** The first open after setup: the whole history folded (then the snapshot is written). */
  first: Opened;
  searchHybrid: Stat;
  searchDense: Stat;
  searchLexical: Stat;
  embedQuery: Stat;
  plainScan: Stat;
  agree: string;
  write: Stat;
  batch: Stat;
  list: Stat;
  lastUndoable: Stat;
  undo: Stat;
  perFact: Stat;
  pgvector?: Stat;
  pgvectorAgree?: string;
  historyMb?: number;
  vectorsMb?: number;
}

interface Stat {
  p50: number;
  p95: number;
  n: number;
}

async function openMeasured(c: Case, dir: string, url: string | undefined) {
  const embedder = new HashingEmbedder(c.dims);
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  // The longest time the event loop waited during open: what an extension host would freeze for.
  let lastTick = t0;
  let stallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - lastTick);
    lastTick = now;
  }, 1);
  const bank = await openBank(
    { bank: { folder: dir, watchIntervalMs: 0, postgres: c.backend === 'file' ? undefined : { url: url!, bankId: bankIdOf(c) } }, actor: 'bench' },
    { embedder },
  );
  const openMs = performance.now() - t0;
  clearInterval(ticker);
  stallMs = Math.max(stallMs, performance.now() - lastTick);
  gc();
  const after = process.memoryUsage();
  if (bank.size !== c.size) throw new Error(`bank has ${bank.size} memories, expected ${c.size}`);
  const opened: Opened = { openMs, stallMs, rssMb: (after.rss - before.rss) / 2 ** 20, heapMb: (after.heapUsed - before.heapUsed) / 2 ** 20, from: bank.openedFrom };
  return { bank, embedder, opened };
}

/** The first open: folds the history; closing it writes the snapshot the next open starts from. */
async function measureFirstOpen(c: Case, dir: string, url: string | undefined): Promise<Opened> {
  const { bank, opened } = await openMeasured(c, dir, url);
  await bank.close();
  return opened;
}

async function measure(c: Case, dir: string, url: string | undefined, first: Opened): Promise<Measured> {
  const { bank, embedder, opened } = await openMeasured(c, dir, url);

  // The same vectors as the bank, read from its store, for the plain scan baseline.
  const storage = await openStorage(c, dir, url);
  const { entries } = await storage.readVectors(0);
  const latest = new Map<string, Float32Array>();
  for (const e of entries) latest.set(e.memoryId, e.vector);
  const ids = [...latest.keys()];
  const flat = new Float32Array(ids.length * c.dims);
  ids.forEach((id, i) => flat.set(latest.get(id)!, i * c.dims));
  latest.clear();

  const r = rng(7);
  const Q = args.queries;
  const queries = Array.from({ length: Q }, () => queryText(r));
  const topK = 60;
  const tHybrid: number[] = [];
  const tDense: number[] = [];
  const tLex: number[] = [];
  const tEmbed: number[] = [];
  const tPlain: number[] = [];
  const tPg: number[] = [];
  let agreeDense = 0;
  let agreePg = 0;
  const pgStore = c.backend === 'postgres' ? (storage as import('../src/core/bank/storage/pgStorage').PgStorage) : undefined;
  for (const q of queries) {
    let t = performance.now();
    await bank.search(q, { topK });
    tHybrid.push(performance.now() - t);
    t = performance.now();
    const [qv] = await embedder.embed([q]);
    tEmbed.push(performance.now() - t);
    t = performance.now();
    const dense = await bank.searchDense(q, topK);
    tDense.push(performance.now() - t);
    t = performance.now();
    bank.searchLexical(q, topK);
    tLex.push(performance.now() - t);
    t = performance.now();
    const [qv2] = await embedder.embed([q]);
    const plain = plainScan(flat, ids, c.dims, qv2, topK);
    tPlain.push(performance.now() - t);
    if (sameRanking(dense.map((h) => h.memory.id), plain)) agreeDense++;
    if (pgStore && tPg.length < 50) {
      t = performance.now();
      const inDb = await pgStore.searchInDatabase(qv, topK);
      tPg.push(performance.now() - t);
      if (sameRanking(inDb.map((h) => h.id), plain)) agreePg++;
    }
  }
  await storage.close();

  const W = args.writes;
  const tWrite: number[] = [];
  const tBatch: number[] = [];
  const tList: number[] = [];
  const tLast: number[] = [];
  const tUndo: number[] = [];
  const tFact: number[] = [];
  const wr = rng(99);
  const added: string[] = [];
  for (let i = 0; i < W; i++) {
    let t = performance.now();
    const rec = await bank.addManual(`Bench write ${i}: ${factText(wr, i)}`);
    tWrite.push(performance.now() - t);
    added.push(rec.memoryId);
    t = performance.now();
    bank.list({ limit: 50 });
    tList.push(performance.now() - t);
    t = performance.now();
    await bank.edit(rec.memoryId, `Bench write ${i}, edited: ${factText(wr, i)}`);
    tWrite.push(performance.now() - t);
    t = performance.now();
    const last = bank.lastUndoable();
    tLast.push(performance.now() - t);
    t = performance.now();
    if (last) await bank.undo(last.opId);
    tUndo.push(performance.now() - t);
    // One manager batch: UPDATE + ADD + DELETE committed together.
    t = performance.now();
    await bank.applyBatch(
      [
        { type: 'UPDATE', memoryId: rec.memoryId, text: `Bench batch ${i}: ${factText(wr, i)}` },
        { type: 'ADD', text: `Bench batch add ${i}: ${factText(wr, i)}` },
      ],
      { fact: 'bench', model: 'bench' },
    );
    tBatch.push(performance.now() - t);
    // The engine's per-fact work outside the model calls: dedupe, related memories, apply.
    const fact = `Engine fact ${i}: ${factText(wr, i + 1000)}`;
    t = performance.now();
    if (!bank.findDuplicate(fact)) {
      await bank.search(fact, { topK: 10 });
      await bank.applyBatch([{ type: 'ADD', text: fact }], { fact, model: 'bench' });
    }
    tFact.push(performance.now() - t);
  }
  await bank.close();

  let historyMb: number | undefined;
  let vectorsMb: number | undefined;
  if (c.backend === 'file') {
    historyMb = fs.statSync(path.join(dir, 'history.jsonl')).size / 2 ** 20;
    vectorsMb = fs.statSync(path.join(dir, `vectors-${embedder.id}.bin`)).size / 2 ** 20;
  }
  return {
    ...opened,
    first,
    searchHybrid: stat(tHybrid),
    searchDense: stat(tDense),
    searchLexical: stat(tLex),
    embedQuery: stat(tEmbed),
    plainScan: stat(tPlain),
    agree: `${agreeDense}/${Q}`,
    write: stat(tWrite),
    batch: stat(tBatch),
    list: stat(tList),
    lastUndoable: stat(tLast),
    undo: stat(tUndo),
    perFact: stat(tFact),
    ...(pgStore ? { pgvector: stat(tPg), pgvectorAgree: `${agreePg}/${tPg.length}` } : {}),
    historyMb,
    vectorsMb,
  };
}

/** The baseline: dot products over one Float32Array, top-k kept in a small sorted array; ties by id. */
function plainScan(flat: Float32Array, ids: string[], d: number, q: Float32Array, k: number): string[] {
  const topS: number[] = [];
  const topI: number[] = [];
  for (let r = 0, off = 0; r < ids.length; r++, off += d) {
    let s = 0;
    for (let j = 0; j < d; j++) s += flat[off + j] * q[j];
    if (topS.length === k && s < topS[k - 1]) continue;
    let pos = topS.length;
    while (pos > 0 && (topS[pos - 1] < s || (topS[pos - 1] === s && ids[topI[pos - 1]] > ids[r]))) pos--;
    topS.splice(pos, 0, s);
    topI.splice(pos, 0, r);
    if (topS.length > k) {
      topS.pop();
      topI.pop();
    }
  }
  return topI.map((i) => ids[i]);
}

/** Exact agreement of two dense rankings, allowing only the order among exactly tied scores to differ at the cut. */
function sameRanking(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { p50: q(0.5), p95: q(0.95), n: s.length };
}

// ------------------------------------------------------------------ vectra, used naively

interface VectraResult {
  jsonMb?: number;
  bulkMs?: number;
  insertMs?: number;
  query?: Stat;
  error?: string;
}

async function measureVectra(size: number, dims: number): Promise<VectraResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { LocalIndex } = require('vectra') as typeof import('vectra');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-vectra-'));
  const embedder = new HashingEmbedder(dims);
  const r = rng(size * 31 + dims);
  try {
    const index = new LocalIndex(dir);
    await index.createIndex({ version: 1 });
    const t0 = performance.now();
    const chunk = 5000;
    for (let i = 0; i < size; i += chunk) {
      const texts = Array.from({ length: Math.min(chunk, size - i) }, (_, j) => factText(r, i + j));
      const vecs = await embedder.embed(texts);
      await index.batchInsertItems(texts.map((text, j) => ({ vector: Array.from(vecs[j]), metadata: { text } })));
    }
    const bulkMs = performance.now() - t0;
    const jsonMb = fs.statSync(path.join(dir, 'index.json')).size / 2 ** 20;
    // One acknowledged insert: vectra rewrites index.json on every auto-committed insert.
    const ins: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [v] = await embedder.embed([`vectra insert ${i}`]);
      const t = performance.now();
      await index.insertItem({ vector: Array.from(v), metadata: { text: `vectra insert ${i}` } });
      ins.push(performance.now() - t);
    }
    const qr = rng(7);
    const qs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const [v] = await embedder.embed([queryText(qr)]);
      const t = performance.now();
      await index.queryItems(Array.from(v), '', 60);
      qs.push(performance.now() - t);
    }
    return { jsonMb, bulkMs, insertMs: stat(ins).p50, query: stat(qs) };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 80) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ driver

function parseArgs(argv: string[]) {
  const get = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : def;
  };
  return {
    child: get('child', ''),
    sizes: get('sizes', '1000,10000,100000').split(',').map(Number),
    dims: get('dims', '384').split(',').map(Number),
    backends: get('backends', 'file,postgres').split(',') as Backend[],
    big: get('big', '100000x1536'),
    vectraMax: Number(get('vectra-max', '10000')),
    queries: Number(get('queries', '200')),
    writes: Number(get('writes', '60')),
  };
}

async function childMain(): Promise<void> {
  const { c, dir, url, what, first } = JSON.parse(args.child) as { c: Case; dir: string; url?: string; what: 'open' | 'measure' | 'vectra'; first?: Opened };
  const out = what === 'open' ? await measureFirstOpen(c, dir, url) : what === 'measure' ? await measure(c, dir, url, first!) : await measureVectra(c.size, c.dims);
  process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`);
}

function inChild<T>(payload: unknown): T {
  const res = spawnSync(process.execPath, ['--max-old-space-size=8192', process.argv[1], '--child', JSON.stringify(payload), '--queries', String(args.queries), '--writes', String(args.writes)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = res.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) throw new Error(`child failed (${res.status}): ${res.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(9)) as T;
}

async function main(): Promise<void> {
  const started = performance.now();
  const cases: Case[] = [];
  for (const backend of args.backends) for (const dims of args.dims) for (const size of args.sizes) cases.push({ backend, size, dims });
  if (args.big && args.big !== 'none') {
    const [size, dims] = args.big.split('x').map(Number);
    if (!cases.some((c) => c.backend === 'file' && c.size === size && c.dims === dims)) cases.push({ backend: 'file', size, dims });
  }
  let pgServer: { url: string; stop(): Promise<void> } | undefined;
  if (cases.some((c) => c.backend === 'postgres')) {
    const { startPostgres } = await import('../test/support/postgres');
    pgServer = await startPostgres();
  }
  console.log(`# Memory bank benchmark — ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Node ${process.version}`);
  console.log(`queries per case: ${args.queries}, write rounds per case: ${args.writes}, load average at start: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  const rows: { c: Case; setupMs: number; m: Measured }[] = [];
  try {
    for (const c of cases) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pm-bench-${c.backend}-`));
      try {
        const setupMs = await setupBank(c, dir, pgServer?.url);
        const first = inChild<Opened>({ c, dir, url: pgServer?.url, what: 'open' });
        const m = inChild<Measured>({ c, dir, url: pgServer?.url, what: 'measure', first });
        rows.push({ c, setupMs, m });
        process.stderr.write(`done ${c.backend} ${c.size}x${c.dims} (setup ${(setupMs / 1000).toFixed(1)} s)\n`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await pgServer?.stop();
  }
  const vectra: { size: number; dims: number; v: VectraResult }[] = [];
  for (const size of args.sizes) {
    for (const dims of args.dims) {
      if (size > args.vectraMax) continue;
      vectra.push({ size, dims, v: inChild<VectraResult>({ c: { backend: 'file', size, dims }, dir: '', what: 'vectra' }) });
      process.stderr.write(`done vectra ${size}x${dims}\n`);
    }
  }
  printTables(rows, vectra);
  console.log(`\nload average at end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const ps = (s: Stat | undefined) => (s ? `${ms(s.p50)} / ${ms(s.p95)}` : '—');

function printTables(rows: { c: Case; setupMs: number; m: Measured }[], vectra: { size: number; dims: number; v: VectraResult }[]): void {
  const label = (c: Case) => `${c.backend} ${c.size / 1000}k×${c.dims}`;
  console.log('## Open and memory\n');
  console.log('First open: the whole history is folded (closing it writes the snapshot, file store from 2,000 records). Next open: what every later open costs.\n');
  console.log('| bank | bulk setup s | first open ms | RSS Δ MB | heap Δ MB | next open from | next open ms | longest event-loop stall ms | RSS Δ MB | heap Δ MB | history MB | vectors MB |');
  console.log('|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const { c, setupMs, m } of rows) {
    console.log(
      `| ${label(c)} | ${(setupMs / 1000).toFixed(1)} | ${ms(m.first.openMs)} | ${m.first.rssMb.toFixed(0)} | ${m.first.heapMb.toFixed(0)} | ${m.from} | ${ms(m.openMs)} | ${ms(m.stallMs)} | ${m.rssMb.toFixed(0)} | ${m.heapMb.toFixed(0)} | ${m.historyMb?.toFixed(1) ?? '—'} | ${m.vectorsMb?.toFixed(1) ?? '—'} |`,
    );
  }
  console.log('\n## Search, top-60, ms p50 / p95\n');
  console.log('| bank | hybrid (dense+BM25, RRF) | dense (bank) | plain Float32Array scan | dense / plain p50 | same ranking | BM25 only | embed query | pgvector `<#>` in SQL (agrees) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { c, m } of rows) {
    console.log(
      `| ${label(c)} | ${ps(m.searchHybrid)} | ${ps(m.searchDense)} | ${ps(m.plainScan)} | ${(m.searchDense.p50 / m.plainScan.p50).toFixed(2)}× | ${m.agree} | ${ps(m.searchLexical)} | ${ps(m.embedQuery)} | ${m.pgvector ? `${ps(m.pgvector)} (${m.pgvectorAgree})` : '—'} |`,
    );
  }
  console.log('\n## Writes and engine-side cost, ms p50 / p95 (one acknowledged, durable operation)\n');
  console.log('Opened from a snapshot, the history is read on the first call that needs it (the p95 of lastUndoable).\n');
  console.log('| bank | add / edit | batch UPDATE+ADD | list first page after a write | lastUndoable | undo | per fact: dedupe + search top-10 + apply |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const { c, m } of rows) {
    console.log(`| ${label(c)} | ${ps(m.write)} | ${ps(m.batch)} | ${ps(m.list)} | ${ps(m.lastUndoable)} | ${ps(m.undo)} | ${ps(m.perFact)} |`);
  }
  if (vectra.length) {
    console.log('\n## vectra 0.15 used naively (LocalIndex, auto-commit insertItem, queryItems)\n');
    console.log('| index | index.json MB | bulk build s | one insert ms | query top-60 ms p50 / p95 |');
    console.log('|---|---:|---:|---:|---:|');
    for (const { size, dims, v } of vectra) {
      if (v.error) console.log(`| ${size / 1000}k×${dims} | fails: ${v.error} | | | |`);
      else console.log(`| ${size / 1000}k×${dims} | ${v.jsonMb!.toFixed(0)} | ${(v.bulkMs! / 1000).toFixed(1)} | ${ms(v.insertMs)} | ${ps(v.query)} |`);
    }
  }
}

if (args.child) {
  childMain().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
