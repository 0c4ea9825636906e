// The LoCoMo evaluation harness: builds each conversation's memory with every pipeline, asks the
// scored questions (categories 1–4), scores the answers and writes results.json, summary.md and an SVG.
// Everything is cached on disk as it is produced, so an interrupted run continues with --resume.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readAppendedJsonLines, writeFileAtomic } from '../util/atomicFile';
import { LlmError } from '../errors';
import type { Embedder } from '../embeddings/embedder';
import type { ChatModel } from '../llm/chatModel';
import { textHash } from '../util/text';
import { judge } from './judge';
import { CATEGORY_NAMES, type LocomoCategory, type LocomoQa, type LocomoSample, nonAdversarial, turnText } from './locomo';
import { exactMatch, locomoF1, mem0Bleu1, mem0F1 } from './scoring';
import {
  type DialogueEvent,
  type IngestStats,
  MeteredChatModel,
  PIPELINES,
  type PipelineName,
  addUsage,
  emptyIngestStats,
} from './pipelines';
import { type EvalReport, buildReport, renderCategorySvg, renderSummaryMarkdown } from './report';
import type { QuestionResult, SampleRun } from './results';

export type { QuestionResult, SampleRun } from './results';

/** A run that cannot start as asked (bad options, an output folder in the way, a --resume that does not match). */
export class EvalSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalSetupError';
  }
}

// ---------------------------------------------------------------- feeding the dialogue

/**
 * The sample's dialogue as events: consecutive turns of one session, `turnsPerEvent` at a time (never
 * across a session boundary, whose date differs), stopping after `maxTurns` turns in all.
 */
export function dialogueEvents(sample: LocomoSample, opts: { maxTurns?: number; turnsPerEvent?: number } = {}): DialogueEvent[] {
  const perEvent = Math.max(1, opts.turnsPerEvent ?? 1);
  let budget = opts.maxTurns ?? Number.POSITIVE_INFINITY;
  const events: DialogueEvent[] = [];
  for (const session of sample.sessions) {
    for (let i = 0; i < session.turns.length && budget > 0; i += perEvent) {
      const turns = session.turns.slice(i, i + Math.min(perEvent, budget));
      budget -= turns.length;
      events.push({
        index: events.length,
        sessionIndex: session.index,
        sessionDate: session.dateTime,
        ...(session.isoDate ? { eventTime: session.isoDate } : {}),
        diaIds: turns.map((t) => t.diaId),
        speakers: turns.map((t) => t.speaker),
        lines: turns.map(turnText),
      });
    }
    if (budget <= 0) break;
  }
  return events;
}

export interface SelectedQuestion {
  qaIndex: number;
  qa: LocomoQa;
}

/**
 * The questions scored for a sample: categories 1–4, in file order. When only part of the dialogue is
 * fed (`ingested`), questions whose evidence lies outside it (or that list no evidence) are left out,
 * since no pipeline could answer them. `limit` caps the count after that.
 */
export function selectQuestions(
  sample: LocomoSample,
  ingested: ReadonlySet<string> | undefined,
  limit?: number,
): { questions: SelectedQuestion[]; outsideIngested: number } {
  const questions: SelectedQuestion[] = [];
  let outsideIngested = 0;
  sample.qa.forEach((qa, qaIndex) => {
    if (!nonAdversarial(qa)) return;
    if (ingested && (qa.evidence.length === 0 || qa.evidence.some((id) => !ingested.has(id)))) {
      outsideIngested++;
      return;
    }
    questions.push({ qaIndex, qa });
  });
  return { questions: limit === undefined ? questions : questions.slice(0, limit), outsideIngested };
}

// ---------------------------------------------------------------- options and records

export interface LocomoEvalOptions {
  samples: LocomoSample[];
  pipelines: PipelineName[];
  outDir: string;
  /** Continue the run in `outDir`; without it `outDir` must be new or empty. */
  resume: boolean;
  /** Scored questions per sample (the first N). */
  limit?: number;
  /** Turns fed per sample (from the start of the conversation). */
  maxTurns?: number;
  turnsPerEvent: number;
  /** Memories / turns retrieved per answer. */
  topK: number;
  /** The answer model's context window, for full-context. */
  contextTokens: number;
  /** (pipeline, sample) jobs run at once. */
  parallel: number;
  models: { extractor: ChatModel; manager: ChatModel; answerer: ChatModel };
  /** Undefined: no LLM judge. */
  judgeModel?: ChatModel;
  embedder: Embedder;
  /** The endpoint's base URL and key, for the real Mem0 (its own OpenAI client calls the same server). */
  endpoint?: { baseURL: string; apiKey?: string };
  /** What the run is, recorded in run.json and checked on --resume. */
  identity: RunIdentity;
  onProgress?: (p: ProgressUpdate) => void;
  signal?: AbortSignal;
}

export interface RunIdentity {
  data: string;
  endpoint: string;
  models: { extractor: string; manager: string; answer: string };
  judgeModel?: string;
  embedder: string;
}

export interface ProgressUpdate {
  /** Work units (events fed + questions answered) done in this run, and to do in all. */
  done: number;
  total: number;
  label: string;
}

export interface LocomoEvalResult {
  report: EvalReport;
  files: { results: string; summary: string; svg: string };
  /** Work done in this run (not taken from the cache). */
  fresh: { events: number; questions: number; judged: number };
}

const RUN_FILE = 'run.json';
/** Run settings that change banks or answers: a --resume must keep them. */
const IDENTITY_KEYS = ['maxTurns', 'turnsPerEvent', 'topK', 'contextTokens', 'endpoint', 'models', 'embedder'] as const;

// ---------------------------------------------------------------- the run

export async function runLocomoEval(opts: LocomoEvalOptions): Promise<LocomoEvalResult> {
  if (opts.samples.length === 0) throw new EvalSetupError('No samples to evaluate.');
  if (opts.pipelines.length === 0) throw new EvalSetupError('No pipelines to evaluate.');
  const outDir = path.resolve(opts.outDir);
  const runConfig = {
    data: opts.identity.data,
    samples: opts.samples.map((s) => s.sampleId),
    pipelines: opts.pipelines,
    limit: opts.limit ?? null,
    maxTurns: opts.maxTurns ?? null,
    turnsPerEvent: opts.turnsPerEvent,
    topK: opts.topK,
    contextTokens: opts.contextTokens,
    endpoint: opts.identity.endpoint,
    models: opts.identity.models,
    judgeModel: opts.identity.judgeModel ?? null,
    embedder: opts.identity.embedder,
  };
  prepareOutDir(outDir, opts.resume, runConfig);

  // Plan every (sample, pipeline) job first, so the progress bar knows the whole amount of work.
  const jobs = opts.samples.flatMap((sample) => {
    const events = dialogueEvents(sample, { maxTurns: opts.maxTurns, turnsPerEvent: opts.turnsPerEvent });
    const ingestedIds = opts.maxTurns === undefined ? undefined : new Set(events.flatMap((e) => e.diaIds));
    const { questions, outsideIngested } = selectQuestions(sample, ingestedIds, opts.limit);
    return opts.pipelines.map((pipeline) => {
      const folder = path.join(outDir, 'banks', pipeline, safeSegment(sample.sampleId));
      const progress = readProgress(folder);
      const cacheFile = path.join(outDir, 'cache', pipeline, `${safeSegment(sample.sampleId)}.jsonl`);
      const cached = readCache(cacheFile);
      const needsWork = (q: SelectedQuestion) => {
        const r = cached.get(questionKey(q));
        return !r || (opts.judgeModel !== undefined && r.judge?.model !== opts.judgeModel.name && !r.judgeError);
      };
      return { sample, pipeline, events, questions, outsideIngested, folder, progress, cacheFile, cached, needsWork };
    });
  });
  const total = jobs.reduce(
    (n, j) => n + Math.max(0, j.events.length - (j.progress?.eventsIngested ?? 0)) + j.questions.filter(j.needsWork).length,
    0,
  );
  let done = 0;
  const fresh = { events: 0, questions: 0, judged: 0 };
  const tick = (label: string) => {
    done++;
    opts.onProgress?.({ done, total, label });
  };
  opts.onProgress?.({ done: 0, total, label: 'starting' });

  const sampleRuns: SampleRun[] = [];
  const results: QuestionResult[] = [];

  const runJob = async (job: (typeof jobs)[number]): Promise<void> => {
    const { sample, pipeline, events, questions, folder } = job;
    const tag = `${pipeline} ${sample.sampleId}`;
    const models = {
      extractor: new MeteredChatModel(opts.models.extractor),
      manager: new MeteredChatModel(opts.models.manager),
      answerer: new MeteredChatModel(opts.models.answerer),
    };
    fs.mkdirSync(folder, { recursive: true });
    const session = await PIPELINES[pipeline].open({
      sample,
      folder,
      models,
      embedder: opts.embedder,
      topK: opts.topK,
      contextTokens: opts.contextTokens,
      events,
      endpoint: opts.endpoint,
    });
    const progress: BankProgress = job.progress ?? {
      pipeline,
      sampleId: sample.sampleId,
      eventsIngested: 0,
      turnsIngested: 0,
      stats: emptyIngestStats(),
      eventMs: [],
    };
    const run: SampleRun = {
      pipeline,
      sampleId: sample.sampleId,
      eventsIngested: 0,
      turnsIngested: 0,
      stats: progress.stats,
      eventMs: progress.eventMs,
      questionsPlanned: questions.length,
      questionsOutsideIngested: job.outsideIngested,
    };
    try {
      if (session.skipped) {
        // Nothing to do for this job: take its units off the bar.
        run.skipped = session.skipped;
        for (let i = progress.eventsIngested; i < events.length; i++) tick(`${tag}: skipped`);
        for (const q of questions) if (job.needsWork(q)) tick(`${tag}: skipped`);
        return;
      }
      for (let i = progress.eventsIngested; i < events.length; i++) {
        opts.signal?.throwIfAborted();
        const started = performance.now();
        const stats = await session.ingest(events[i]);
        progress.eventMs.push(performance.now() - started);
        mergeStats(progress.stats, stats);
        progress.eventsIngested = i + 1;
        progress.turnsIngested += events[i].diaIds.length;
        writeFileAtomic(path.join(folder, PROGRESS_FILE), JSON.stringify(progress));
        fresh.events++;
        tick(`${tag}: ingest ${i + 1}/${events.length}`);
      }
      run.eventsIngested = progress.eventsIngested;
      run.turnsIngested = progress.turnsIngested;

      fs.mkdirSync(path.dirname(job.cacheFile), { recursive: true });
      let asked = 0;
      for (const q of questions) {
        asked++;
        const key = questionKey(q);
        let record = job.cached.get(key);
        if (record && !job.needsWork(q)) {
          results.push(record);
          continue;
        }
        opts.signal?.throwIfAborted();
        if (!record) {
          const a = await session.answer(q.qa.question);
          record = {
            pipeline,
            sampleId: sample.sampleId,
            qaIndex: q.qaIndex,
            key,
            question: q.qa.question,
            gold: q.qa.answer,
            category: q.qa.category,
            categoryName: CATEGORY_NAMES[q.qa.category],
            evidence: q.qa.evidence,
            prediction: a.prediction,
            raw: a.raw,
            scores: scoreAnswer(a.prediction, q.qa),
            latencyMs: { search: round(a.searchMs), answer: round(a.answerMs) },
            tokens: { prompt: a.usage.promptTokens, completion: a.usage.completionTokens },
            retrieved: a.retrieved,
          };
          fresh.questions++;
        }
        if (opts.judgeModel) {
          await judgeRecord(record, opts.judgeModel);
          fresh.judged++;
        }
        fs.appendFileSync(job.cacheFile, JSON.stringify(record) + '\n');
        job.cached.set(key, record);
        results.push(record);
        tick(`${tag}: question ${asked}/${questions.length}`);
      }
    } finally {
      sampleRuns.push(run);
      await session.close();
    }
  };

  await runPool(jobs, Math.max(1, opts.parallel), runJob);

  const order = new Map(jobs.map((j, i) => [`${j.pipeline}\u0000${j.sample.sampleId}`, i]));
  const jobIndex = (p: string, s: string) => order.get(`${p}\u0000${s}`) ?? 0;
  sampleRuns.sort((a, b) => jobIndex(a.pipeline, a.sampleId) - jobIndex(b.pipeline, b.sampleId));
  results.sort((a, b) => jobIndex(a.pipeline, a.sampleId) - jobIndex(b.pipeline, b.sampleId) || a.qaIndex - b.qaIndex);

  const report = buildReport({ config: runConfig, pipelines: opts.pipelines, sampleRuns, results, judged: opts.judgeModel !== undefined });
  const files = {
    results: path.join(outDir, 'results.json'),
    summary: path.join(outDir, 'summary.md'),
    svg: path.join(outDir, 'per-category.svg'),
  };
  writeFileAtomic(files.results, JSON.stringify(report, null, 1));
  writeFileAtomic(files.summary, renderSummaryMarkdown(report));
  writeFileAtomic(files.svg, renderCategorySvg(report));
  return { report, files, fresh };
}

/** The four scores of one answer against the gold (the judge is added separately). */
export function scoreAnswer(prediction: string, qa: LocomoQa): Record<string, number> {
  return {
    mem0F1: mem0F1(prediction, qa.answer),
    mem0Bleu1: mem0Bleu1(prediction, qa.answer),
    locomoF1: locomoF1(prediction, qa.answer, qa.category),
    exactMatch: exactMatch(prediction, qa.answer),
  };
}

async function judgeRecord(record: QuestionResult, model: ChatModel): Promise<void> {
  const started = performance.now();
  try {
    const v = await judge(model, record.question, record.gold, record.prediction);
    record.judge = {
      label: v.label,
      model: model.name,
      raw: v.raw,
      ms: round(performance.now() - started),
      promptTokens: v.promptTokens,
      completionTokens: v.completionTokens,
    };
    record.scores.judge = v.score;
    delete record.judgeError;
  } catch (err) {
    // A judge that gives no label leaves this question unjudged; a dead endpoint stops the run.
    if (!(err instanceof LlmError) || err.code !== 'BAD_OUTPUT') throw err;
    record.judgeError = err.message;
    delete record.scores.judge;
  }
}

// ---------------------------------------------------------------- on-disk state

const PROGRESS_FILE = 'eval-progress.json';

interface BankProgress {
  pipeline: PipelineName;
  sampleId: string;
  eventsIngested: number;
  turnsIngested: number;
  stats: IngestStats;
  eventMs: number[];
}

function readProgress(folder: string): BankProgress | undefined {
  const file = path.join(folder, PROGRESS_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as BankProgress;
  } catch (err) {
    throw new EvalSetupError(`Cannot read ${file}: ${(err as Error).message}. Delete ${folder} to rebuild that bank.`);
  }
}

/** Cached answers by question key; a later line for the same key wins, a torn last line is ignored (asked again). */
function readCache(file: string): Map<string, QuestionResult> {
  return new Map(readAppendedJsonLines<QuestionResult>(file).filter((r) => typeof r.key === 'string').map((r) => [r.key, r]));
}

function questionKey(q: SelectedQuestion): string {
  return `${q.qaIndex}:${textHash(q.qa.question).slice(0, 12)}`;
}

function prepareOutDir(outDir: string, resume: boolean, runConfig: Record<string, unknown>): void {
  const runFile = path.join(outDir, RUN_FILE);
  const exists = fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0;
  if (exists && !resume) {
    throw new EvalSetupError(`${outDir} already holds a run; pass --resume to continue it, or choose another --out.`);
  }
  if (exists && resume && fs.existsSync(runFile)) {
    let previous: Record<string, unknown>;
    try {
      previous = JSON.parse(fs.readFileSync(runFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new EvalSetupError(`Cannot read ${runFile}: ${(err as Error).message}`);
    }
    const differing = IDENTITY_KEYS.filter((k) => JSON.stringify(previous[k] ?? null) !== JSON.stringify(runConfig[k] ?? null));
    if (differing.length > 0) {
      const detail = differing.map((k) => `${k}: was ${JSON.stringify(previous[k] ?? null)}, now ${JSON.stringify(runConfig[k] ?? null)}`);
      throw new EvalSetupError(`--resume with different settings than the run in ${outDir} (${detail.join('; ')}). Use the same settings or a new --out.`);
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(runFile, JSON.stringify({ ...runConfig, updatedAt: new Date().toISOString() }, null, 1));
}

function mergeStats(into: IngestStats, add: IngestStats): void {
  into.facts += add.facts;
  for (const [type, n] of Object.entries(add.operations)) {
    const t = type as keyof IngestStats['operations'];
    into.operations[t] = (into.operations[t] ?? 0) + (n ?? 0);
  }
  into.extractMs.push(...add.extractMs.map(round));
  into.managerMs.push(...add.managerMs.map(round));
  addUsage(into.usage, add.usage);
}

async function runPool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** A sample id as a folder name. */
function safeSegment(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
