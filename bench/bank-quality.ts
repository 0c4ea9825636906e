// Bank quality on real project histories: replays hand-labelled event streams (public repositories' commits,
// CHANGELOG saves, chat turns restating real issue threads, noise; LoCoMo dev conversations) through a
// pipeline into a fresh bank per stream, then reads the bank as a user would: are the active memories
// current and durable, is anything stale, junk, duplicated or invented, were true facts retired, and can the
// questions be answered. Format and matcher: bench/fixtures/bank-quality/README.md.
//
//   node scripts/run-ts.mjs bench/bank-quality.ts --endpoint http://127.0.0.1:8089/v1 --model <name> \
//     [--split dev|test|all] [--streams a,b] [--pipelines engine,add-only,supersede-closest,engine-before] \
//     [--embedder onnx:.cache/models/all-MiniLM-L6-v2] [--label <run name>] [--timeout 600]
//   node scripts/run-ts.mjs bench/bank-quality.ts --report [--split test]   # the table of every saved run
//   node scripts/run-ts.mjs bench/bank-quality.ts --reanswer '<run label>' --endpoint … --model …
//     # the questions asked again on a saved run's banks by the current Answer Agent
//   node scripts/run-ts.mjs bench/bank-quality.ts --consolidate <run label> --split test --endpoint … --model …
//     # the consolidation pass on that run's banks: each scored before and after
//
// Every model call is cached by its exact request (.cache/bank-quality/llm-cache.jsonl), so the baselines
// reuse the engine's extraction calls and a run cut short resumes where it stopped. The test split is only
// measured: no prompt, example, threshold or training data comes from it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';
import { MemoryBank } from '../src/core/bank/memoryBank';
import { MemoryEngine } from '../src/core/engine';
import { createEmbedder, createModels } from '../src/core/config';
import { CachedChatModel, loadCache } from './llmCache';
import type { ChatModel, ChatResponse } from '../src/core/llm/chatModel';
import type { Embedder } from '../src/core/embeddings/embedder';
import type { HistoryRecord } from '../src/core/types';
import { type QualitySummary, type Stream, type StreamScore, loadStreams, renderEvent, scoreBank, streamEvents, summarize } from '../src/core/eval/bankQuality';
import { MAX_EVENT_CHARS, clip, formatSaveEvent, formatTerminalEvent, isTrivialCommand, summarizeChange } from '../src/core/capture/eventFormat';
import { flag, has } from './argv';

const cacheDir = path.resolve(flag('cache') ?? '.cache/bank-quality');
const runsDir = path.join(cacheDir, 'runs');

export const PIPELINES = ['engine', 'add-only', 'supersede-closest', 'engine-before'] as const;
type Pipeline = (typeof PIPELINES)[number];
/** The engine as it was before the bank-quality work (the commit the reliability and bank-quality issues were filed at). */
const ENGINE_BEFORE_COMMIT = '35e4336';

// ---------------------------------------------------------------------------------------------- model cache

// ---------------------------------------------------------------------------------------------- pipelines

interface RunContext {
  endpoint: string;
  models: { extractor: string; manager: string; answer: string };
  embedderSpec: string;
  embedder: Embedder;
  cache: Map<string, ChatResponse>;
  cacheFile: string;
  timeoutMs: number;
  stats: { hits: number; calls: number; ms: number };
}

function cachedModels(ctx: RunContext) {
  const raw = createModels({ baseURL: ctx.endpoint, models: ctx.models, timeoutMs: ctx.timeoutMs, maxRetries: 1 });
  const wrap = (m: ChatModel) => new CachedChatModel(m, ctx.cache, ctx.cacheFile, ctx.stats);
  return { extractor: wrap(raw.extractor), manager: wrap(raw.manager), answerer: wrap(raw.answerer) };
}

async function openStreamBank(dir: string, ctx: RunContext): Promise<MemoryBank> {
  fs.rmSync(dir, { recursive: true, force: true });
  return MemoryBank.open(dir, { embedder: ctx.embedder, watchIntervalMs: 0 });
}

/** Replays one stream through a pipeline into a fresh bank in `dir`; returns how to find each record's event. */
async function replay(pipeline: Pipeline, stream: Stream, dir: string, ctx: RunContext, log: (l: string) => void): Promise<(r: HistoryRecord | undefined) => string | undefined> {
  const events = streamEvents(stream);
  const fromEventId = (r: HistoryRecord | undefined) => r?.source?.event?.split(':').pop();
  if (pipeline === 'engine-before') {
    const cli = buildEngineBefore();
    const turns = path.join(dir + '.turns.jsonl');
    // Rendered as capture did then: commits with their --stat lines, every non-trivial command, every save.
    const before = eventsAsCapturedBefore(stream);
    fs.mkdirSync(path.dirname(turns), { recursive: true });
    fs.writeFileSync(turns, before.map((e) => JSON.stringify({ text: e.text, time: e.time })).join('\n') + '\n');
    fs.rmSync(dir, { recursive: true, force: true });
    const t0 = Date.now();
    execFileSync(process.execPath, [cli, 'ingest', turns, '--bank', dir, '--endpoint', ctx.endpoint, '--extractor-model', ctx.models.extractor, '--manager-model', ctx.models.manager, '--answer-model', ctx.models.answer, '--embedder', ctx.embedderSpec, '--timeout', String(ctx.timeoutMs / 1000)], { stdio: ['ignore', 'ignore', 'inherit'] });
    log(`    ${stream.id}: ${before.length} events through the engine at ${ENGINE_BEFORE_COMMIT} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    // Its records name the turn as `<file>#N` (1-based), in event order.
    return (r) => {
      const n = Number(/#(\d+)/.exec(r?.source?.ref ?? '')?.[1]);
      return n ? before[n - 1]?.id : undefined;
    };
  }
  const bank = await openStreamBank(dir, ctx);
  const engine = new MemoryEngine({ bank, ...cachedModels(ctx), options: { recordTrajectories: false } });
  try {
    const run = engine.startRun();
    for (const e of events) {
      if (pipeline === 'engine') {
        await engine.ingest(e, undefined, run);
        continue;
      }
      const source = { ...e.source, event: e.id };
      const { facts } = await engine.extractFacts(e);
      for (const fact of facts) {
        if (pipeline === 'add-only') {
          await bank.applyBatch([{ type: 'ADD', text: fact, reason: 'add-only baseline' }], { fact, source, eventTime: e.eventTime });
          continue;
        }
        // Always supersede the closest memory (the majority decision of a small model), else add.
        const [closest] = await bank.search(fact, { topK: 1 });
        const op = closest && closest.memory.text !== fact ? { type: 'UPDATE' as const, memoryId: closest.memory.id, text: fact, reason: 'supersede-closest baseline' } : { type: 'ADD' as const, text: fact };
        await bank.applyBatch([op], { fact, source, eventTime: e.eventTime });
      }
    }
  } finally {
    await bank.close();
  }
  return fromEventId;
}

/**
 * The stream as the extension captured it at ENGINE_BEFORE_COMMIT: a commit with up to 30 `--stat` lines,
 * every terminal command but the trivial ones (successes included), every save (whitespace-only ones too).
 */
function eventsAsCapturedBefore(stream: Stream): { id: string; text: string; time: string }[] {
  const out: { id: string; text: string; time: string }[] = [];
  for (const e of stream.events) {
    let text: string | undefined;
    if (e.kind === 'commit') {
      const c = e.commit!;
      const lines = [`Git commit ${c.sha.slice(0, 10)} by ${c.author}: ${c.subject}`];
      if (c.body.trim()) lines.push(c.body.trim());
      if (c.files.length) lines.push('Files:', ...c.files.slice(0, 30).map((f) => `  ${f}`), ...(c.files.length > 30 ? [`  … ${c.files.length - 30} more files`] : []));
      text = lines.join('\n');
    } else if (e.kind === 'terminal') {
      const t = e.terminal!;
      if (!isTrivialCommand(t.command)) text = formatTerminalEvent(t.command, t.exitCode, t.cwd, t.exitCode ? t.output : undefined);
    } else if (e.kind === 'save') {
      const sv = e.save!;
      text = formatSaveEvent(sv.path, sv.language, summarizeChange(sv.before, sv.after), !!sv.isNew);
    } else text = renderEvent(e)?.text;
    if (text) out.push({ id: e.id, text: clip(text, MAX_EVENT_CHARS), time: e.time });
  }
  return out;
}

/** The engine at ENGINE_BEFORE_COMMIT, bundled once into the cache (git archive of src/ + this checkout's node_modules). */
function buildEngineBefore(): string {
  const dir = path.join(cacheDir, `engine-${ENGINE_BEFORE_COMMIT}`);
  const cli = path.join(dir, 'cli.js');
  if (fs.existsSync(cli)) return cli;
  fs.mkdirSync(dir, { recursive: true });
  const src = path.join(dir, 'src-tree');
  fs.mkdirSync(src, { recursive: true });
  execFileSync('bash', ['-c', `git archive ${ENGINE_BEFORE_COMMIT} src package.json tsconfig.json | tar -x -C "${src}"`]);
  fs.symlinkSync(path.resolve('node_modules'), path.join(src, 'node_modules'));
  execFileSync(process.execPath, [
    '-e',
    `require('esbuild').buildSync({ entryPoints: [${JSON.stringify(path.join(src, 'src/cli/main.ts'))}], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: ${JSON.stringify(cli)}, external: ['vscode', 'node-llama-cpp', 'onnxruntime-node', 'onnxruntime-web', 'pg-native'], logLevel: 'error' })`,
  ]);
  return cli;
}

async function answers(stream: Stream, dir: string, ctx: RunContext): Promise<{ q: string; answer: string }[]> {
  const bank = await MemoryBank.open(dir, { embedder: ctx.embedder, watchIntervalMs: 0 });
  try {
    // The same answer agent for every pipeline: the table compares banks, not answerers.
    const engine = new MemoryEngine({ bank, ...cachedModels(ctx), options: { recordTrajectories: false } });
    const out: { q: string; answer: string }[] = [];
    for (const q of stream.labels.questions) out.push({ q: q.q, answer: (await engine.answer(q.q, { topK: 30 })).answer });
    return out;
  } finally {
    await bank.close();
  }
}

async function score(stream: Stream, dir: string, ctx: RunContext, eventOf: (r: HistoryRecord | undefined) => string | undefined, withAnswers: boolean): Promise<StreamScore> {
  const qa = withAnswers ? await answers(stream, dir, ctx) : [];
  const bank = await MemoryBank.open(dir, { embedder: ctx.embedder, watchIntervalMs: 0 });
  try {
    return scoreBank(stream, bank.list({ status: 'all' }).items, (id) => bank.history(id), eventOf, qa);
  } finally {
    await bank.close();
  }
}

// ---------------------------------------------------------------------------------------------- report

interface RunFile {
  label: string;
  pipeline: Pipeline;
  models: RunContext['models'];
  embedder: string;
  time: string;
  seconds: number;
  scores: StreamScore[];
}

const pct = (x: number) => (100 * x).toFixed(1);

function row(label: string, s: QualitySummary): string {
  return `| ${label} | ${s.streams} | ${s.active} | ${pct(s.activePrecision)} | ${pct(s.currentRecall)} | ${pct(s.staleActive)} | ${pct(s.wrongRetirements)} | ${pct(s.junkRate)} | ${s.duplicates} | ${s.invented} | ${pct(s.questionAccuracy)} |`;
}

function printTable(title: string, rows: [string, QualitySummary][]): void {
  console.log(`\n${title}\n`);
  console.log('| pipeline | streams | active | active precision | current recall | stale active | wrong retirements | junk | duplicates | invented refs | questions |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [label, s] of rows) console.log(row(label, s));
}

function eventsOf(streams: Stream[], names: Set<string>): number {
  return streams.filter((s) => names.has(s.id)).reduce((n, s) => n + streamEvents(s).length, 0);
}

function report(streams: Stream[], split: string): void {
  if (!fs.existsSync(runsDir)) return void console.log('No saved runs.');
  const runs = fs
    .readdirSync(runsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(runsDir, f), 'utf8')) as RunFile);
  for (const sp of split === 'all' ? ['dev', 'test'] : [split]) {
    const rows: [string, QualitySummary][] = [];
    for (const r of runs) {
      const scores = r.scores.filter((s) => s.split === sp);
      if (!scores.length) continue;
      rows.push([`${r.label}`, summarize(scores, eventsOf(streams, new Set(scores.map((s) => s.stream))))]);
    }
    if (rows.length) printTable(`Bank quality, ${sp} split (saved runs in ${runsDir})`, rows);
  }
}

/**
 * Scores a saved run's banks again with the labels as they are now (after a label fix), keeping the answers
 * it recorded; the run file is rewritten and the table printed. No model is called. With `ctx` (--reanswer)
 * the questions are asked again on the same banks by the current Answer Agent (calls it made before come
 * from the cache), so a change to the answerer reaches every pipeline's row the same way.
 */
async function rescoreRun(streams: Stream[], label: string, ctx?: RunContext): Promise<void> {
  const file = path.join(runsDir, `${label.replace(/[^\w.-]+/g, '_')}.json`);
  const run = JSON.parse(fs.readFileSync(file, 'utf8')) as RunFile;
  const { HashingEmbedder } = await import('../src/core/embeddings/hashingEmbedder');
  const scores: StreamScore[] = [];
  for (const old of run.scores) {
    const stream = streams.find((s) => s.id === old.stream)!;
    const dir = path.join(cacheDir, 'banks', run.label.replace(/[^\w.-]+/g, '_'), stream.id);
    // Asked before the bank is opened for scoring: the answerer opens it with the run's embedder.
    const qa = ctx ? await answers(stream, dir, ctx) : old.answers.map((a) => ({ q: a.q, answer: a.answer }));
    // Vectors are not needed to read memories and history: a lexical embedder opens the bank without the model.
    const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(384), watchIntervalMs: 0 });
    try {
      const before = run.pipeline === 'engine-before' ? eventsAsCapturedBefore(stream) : undefined;
      const eventOf = before
        ? (r: HistoryRecord | undefined) => {
            const n = Number(/#(\d+)/.exec(r?.source?.ref ?? '')?.[1]);
            return n ? before[n - 1]?.id : undefined;
          }
        : (r: HistoryRecord | undefined) => r?.source?.event?.split(':').pop();
      scores.push(scoreBank(stream, bank.list({ status: 'all' }).items, (id) => bank.history(id), eventOf, qa));
    } finally {
      await bank.close();
    }
  }
  fs.writeFileSync(file, JSON.stringify({ ...run, scores }, null, 1));
  const byStream = new Set(scores.map((s) => s.stream));
  printTable(`Rescored ${run.label} with the current labels${ctx ? ', questions asked again' : ''}`, [[run.label, summarize(scores, eventsOf(streams, byStream))]]);
}

/**
 * The consolidation pass on a saved run's banks: each bank is copied, the Memory Manager consolidates the
 * copy, and both are scored with the labels (questions are not asked again: the table compares the banks).
 */
async function consolidateRun(streams: Stream[], label: string, endpoint: string, model: string, embedder: Embedder, split: string): Promise<void> {
  const file = path.join(runsDir, `${label.replace(/[^\w.-]+/g, '_')}.json`);
  const run = JSON.parse(fs.readFileSync(file, 'utf8')) as RunFile;
  const models = createModels({ baseURL: endpoint, models: { extractor: model, manager: model, answer: model }, timeoutMs: 600_000, maxRetries: 1 });
  const { planConsolidation, applyConsolidation } = await import('../src/core/consolidation');
  const before: StreamScore[] = [];
  const after: StreamScore[] = [];
  const ids = new Set<string>();
  for (const old of run.scores) {
    const stream = streams.find((s) => s.id === old.stream)!;
    if (split !== 'all' && stream.split !== split) continue;
    ids.add(stream.id);
    const src = path.join(cacheDir, 'banks', run.label.replace(/[^\w.-]+/g, '_'), stream.id);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-consolidate-'));
    fs.cpSync(src, dir, { recursive: true });
    const bank = await MemoryBank.open(dir, { embedder, watchIntervalMs: 0 });
    try {
      const eventOf = (r: HistoryRecord | undefined) => r?.source?.event?.split(':').pop();
      const answers = old.answers.map((a) => ({ q: a.q, answer: a.answer }));
      before.push(scoreBank(stream, bank.list({ status: 'all' }).items, (id) => bank.history(id), eventOf, answers));
      const engine = new MemoryEngine({ bank, ...models, options: { temperature: 0 } });
      const t0 = Date.now();
      const plan = await planConsolidation(engine);
      await applyConsolidation(engine, plan.steps);
      after.push(scoreBank(stream, bank.list({ status: 'all' }).items, (id) => bank.history(id), eventOf, answers));
      console.log(`  ${stream.id}: ${plan.examined} examined, ${plan.steps.filter((x) => x.kind === 'duplicate').length} duplicates retired, ${plan.steps.filter((x) => x.kind === 'replaced').length} superseded, ${plan.unreadable} unreadable · ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      for (const st of plan.steps) console.log(`    ${st.kind === 'duplicate' ? 'dup ' : 'repl'} retire "${st.retire.text}"  <-  keep "${st.keep.text}"`);
    } finally {
      await bank.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const n = eventsOf(streams, ids);
  printTable(`Consolidation of ${run.label} (${split}), manager ${model}: the same banks before and after (questions not asked again)`, [
    [`${run.label} as built`, summarize(before, n)],
    [`${run.label} + consolidate`, summarize(after, n)],
  ]);
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const all = loadStreams();
  const split = flag('split') ?? 'dev';
  if (has('report')) return report(all, split);
  const rescore = flag('rescore');
  if (rescore) return rescoreRun(all, rescore);
  const names = flag('streams')?.split(',');
  const streams = all.filter((s) => (split === 'all' || s.split === split) && (!names || names.includes(s.id)));
  const endpoint = flag('endpoint') ?? process.env.MEMORY_R1_BASE_URL;
  const model = flag('model') ?? process.env.MEMORY_R1_MODEL;
  const consolidate = flag('consolidate');
  if (consolidate && endpoint && model) {
    const spec = flag('embedder') ?? `onnx:${path.resolve('.cache/models/all-MiniLM-L6-v2')}`;
    const emb = await createEmbedder(spec === 'hashing' ? { provider: 'hashing' } : { provider: 'onnx', modelDir: path.resolve(spec.replace(/^onnx:/, '')) });
    return consolidateRun(all, consolidate, endpoint, model, emb, split);
  }
  if (!endpoint || !model || !streams.length) {
    console.error('usage: bench/bank-quality.ts --endpoint <url> --model <name> [--split dev|test|all] [--streams a,b] [--pipelines engine,add-only,supersede-closest,engine-before] [--embedder onnx:<dir>|hashing] [--label name] | --report [--split s]');
    process.exit(2);
  }
  const embedderSpec = flag('embedder') ?? `onnx:${path.resolve('.cache/models/all-MiniLM-L6-v2')}`;
  const embedder = await createEmbedder(embedderSpec === 'hashing' ? { provider: 'hashing' } : { provider: 'onnx', modelDir: path.resolve(embedderSpec.replace(/^onnx:/, '')) });
  fs.mkdirSync(runsDir, { recursive: true });
  const cacheFile = path.join(cacheDir, 'llm-cache.jsonl');
  const ctx: RunContext = {
    endpoint,
    models: { extractor: flag('extractor-model') ?? model, manager: flag('manager-model') ?? model, answer: flag('answer-model') ?? model },
    embedderSpec,
    embedder,
    cache: loadCache(cacheFile),
    cacheFile,
    timeoutMs: Number(flag('timeout') ?? 600) * 1000,
    stats: { hits: 0, calls: 0, ms: 0 },
  };
  const reanswer = flag('reanswer');
  if (reanswer) return rescoreRun(all, reanswer, ctx);
  const pipelines = (flag('pipelines')?.split(',') ?? ['engine', 'add-only', 'supersede-closest']) as Pipeline[];
  for (const p of pipelines) if (!PIPELINES.includes(p)) throw new Error(`unknown pipeline ${p}: use ${PIPELINES.join(', ')}`);
  const rows: [string, QualitySummary][] = [];
  for (const pipeline of pipelines) {
    const label = `${flag('label') ?? `${ctx.models.manager}`} · ${pipeline}`;
    console.log(`\n== ${label}: ${streams.length} streams (${split})`);
    const t0 = Date.now();
    const scores: StreamScore[] = [];
    for (const stream of streams) {
      const dir = path.join(cacheDir, 'banks', label.replace(/[^\w.-]+/g, '_'), stream.id);
      const s0 = Date.now();
      const eventOf = await replay(pipeline, stream, dir, ctx, console.log);
      const sc = await score(stream, dir, ctx, eventOf, !has('no-questions'));
      scores.push(sc);
      console.log(`  ${stream.id} (${stream.split}): ${sc.active} active, ${sc.current} current, ${sc.stale} stale, ${sc.junk} junk, ${sc.unlabelled} unlabelled, recall ${sc.currentRecalled}/${sc.currentFacts}, questions ${sc.answered}/${sc.questions} · ${((Date.now() - s0) / 1000).toFixed(0)} s (model calls ${ctx.stats.calls}, cached ${ctx.stats.hits})`);
    }
    const run: RunFile = { label, pipeline, models: ctx.models, embedder: embedder.id, time: new Date().toISOString(), seconds: Math.round((Date.now() - t0) / 1000), scores };
    fs.writeFileSync(path.join(runsDir, `${label.replace(/[^\w.-]+/g, '_')}.json`), JSON.stringify(run, null, 1));
    rows.push([label, summarize(scores, eventsOf(streams, new Set(streams.map((s) => s.id))))]);
  }
  printTable(`Bank quality, ${split} split: ${streams.length} streams, ${eventsOf(streams, new Set(streams.map((s) => s.id)))} events; embedder ${embedder.id}`, rows);
  console.log(`\nModel calls ${ctx.stats.calls} (${(ctx.stats.ms / 1000).toFixed(0)} s), answered from the cache ${ctx.stats.hits}. Details per memory: ${runsDir}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
