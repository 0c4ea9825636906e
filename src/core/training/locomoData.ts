// Memory-R1's training data from LoCoMo (arXiv 2508.19828, Section 3): one manager example per fact of a
// dialogue turn that questions depend on, with the memory bank built from the preceding turns; one answer
// example per question with its 60 retrieved memories.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openBank, openEngine } from '../config';
import type { Embedder } from '../embeddings/embedder';
import type { EngineModels } from '../engine';
import { answerMessages, managerMessages } from '../agents/prompts';
import { dialogueEvents } from '../eval/harness';
import { eventSource } from '../eval/pipelines/common';
import { type LocomoQa, type LocomoSample, nonAdversarial } from '../eval/locomo';
import type { CandidateView, Memory } from '../types';
import {
  type AnswerExample,
  type LinkedQuestion,
  type ManagerExample,
  type SplitSummary,
  TRAINING_FORMAT,
  type TrainingDataMeta,
  TrainingDataError,
  writeJsonl,
} from './dataset';

export interface BuildTrainingDataOptions {
  samples: LocomoSample[];
  /** Split name → sample id, e.g. { train: 'conv-26', val: 'conv-30' }. */
  splits: Record<string, string>;
  outDir: string;
  embedder: Embedder;
  /** With models, the extractor turns each turn into facts and the manager builds the bank (as in the paper). Without, each turn is one fact and one memory. */
  models?: EngineModels & { names?: { extractor: string; manager: string } };
  managerTopK?: number;
  answerTopK?: number;
  source?: string;
  onProgress?: (split: string, done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Builds `<out>/meta.json` and `<out>/<split>/{manager,answer}.jsonl` plus `<split>/banks/*.json`. */
export async function buildLocomoTrainingData(opts: BuildTrainingDataOptions): Promise<TrainingDataMeta> {
  const managerTopK = opts.managerTopK ?? 10;
  const answerTopK = opts.answerTopK ?? 60;
  const meta: TrainingDataMeta = {
    format: TRAINING_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    source: opts.source ?? '',
    mode: opts.models ? 'extracted' : 'turns',
    embedder: opts.embedder.id,
    managerTopK,
    answerTopK,
    ...(opts.models?.names ? { models: opts.models.names } : {}),
    splits: {},
  };
  for (const [split, sampleId] of Object.entries(opts.splits)) {
    if (!/^[A-Za-z0-9_-]+$/.test(split)) throw new TrainingDataError(`split name "${split}" must be letters, digits, - or _`);
    const sample = opts.samples.find((s) => s.sampleId === sampleId);
    if (!sample) throw new TrainingDataError(`no sample "${sampleId}" in the data; it has ${opts.samples.map((s) => s.sampleId).join(', ')}`);
    meta.splits[split] = await buildSplit(sample, path.join(opts.outDir, split), { ...opts, managerTopK, answerTopK }, (d, t) => opts.onProgress?.(split, d, t));
  }
  fs.mkdirSync(opts.outDir, { recursive: true });
  fs.writeFileSync(path.join(opts.outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/**
 * Links each question to the last of its evidence turns: only once that turn is in memory can the answer
 * agent see all the evidence, so that is the step whose operations decide whether the question is answerable.
 */
export function linkQuestionsToTurns(sample: LocomoSample): { byTurn: Map<string, LocomoQa[]>; unlinked: LocomoQa[] } {
  const order = new Map<string, number>();
  for (const s of sample.sessions) for (const t of s.turns) order.set(t.diaId, order.size);
  const byTurn = new Map<string, LocomoQa[]>();
  const unlinked: LocomoQa[] = [];
  for (const qa of sample.qa.filter(nonAdversarial)) {
    const known = qa.evidence.filter((e) => order.has(e));
    if (!known.length) {
      unlinked.push(qa);
      continue;
    }
    const last = known.reduce((a, b) => (order.get(b)! > order.get(a)! ? b : a));
    const list = byTurn.get(last) ?? [];
    list.push(qa);
    byTurn.set(last, list);
  }
  return { byTurn, unlinked };
}

async function buildSplit(
  sample: LocomoSample,
  splitDir: string,
  opts: BuildTrainingDataOptions & { managerTopK: number; answerTopK: number },
  progress: (done: number, total: number) => void,
): Promise<SplitSummary> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'memory-r1-build-'));
  const bank = await openBank({ bank: { folder: work, watchIntervalMs: 0, limits: { maxMemoryChars: 20_000 } } }, { embedder: opts.embedder });
  const engine = opts.models
    ? await openEngine(
        { bank: { folder: work }, engine: { managerTopK: opts.managerTopK, recordTrajectories: false, minDestructiveOps: Number.MAX_SAFE_INTEGER, managerProtocol: 'paper' } },
        { bank, models: opts.models },
      )
    : undefined;
  fs.rmSync(splitDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(splitDir, 'banks'), { recursive: true });
  try {
    const { byTurn, unlinked } = linkQuestionsToTurns(sample);
    const events = dialogueEvents(sample, { turnsPerEvent: 1 });
    const managerRows: ManagerExample[] = [];
    const linkedTurns = new Set<string>();
    let banks = 0;
    for (const [i, event] of events.entries()) {
      opts.signal?.throwIfAborted();
      const diaId = event.diaIds[0];
      const source = eventSource(sample.sampleId, event);
      const linked = byTurn.get(diaId);
      const facts = engine
        ? (await engine.extractFacts({ id: `${sample.sampleId}-${i}`, source, text: event.lines.join('\n'), time: event.eventTime ?? new Date().toISOString(), eventTime: event.eventTime }, opts.signal)).facts
        : [event.lines[0]];
      for (const [fi, fact] of facts.entries()) {
        if (linked && !bank.findDuplicate(fact)) {
          // The engine never asks the manager about an exact duplicate, so neither does training.
          const hits = await bank.search(fact, { topK: opts.managerTopK });
          const candidates: CandidateView[] = hits.map((h, k) => ({ key: String(k), memoryId: h.memory.id, text: h.memory.text }));
          const bankFile = `banks/${safeFileName(`${diaId}-${fi}`)}.json`;
          const bundle = { ...bank.exportBundle(), history: [], feedback: [] };
          fs.writeFileSync(path.join(splitDir, bankFile), JSON.stringify(bundle));
          banks++;
          linkedTurns.add(diaId);
          managerRows.push({
            id: `${sample.sampleId}:${diaId}:${fi}`,
            sampleId: sample.sampleId,
            diaId,
            fact,
            ...(event.eventTime ? { eventTime: event.eventTime } : {}),
            bank: bankFile,
            candidates,
            prompt: managerMessages(fact, candidates),
            questions: linked.map(toLinked),
          });
        }
        if (engine) await engine.manageFact(fact, source, event.eventTime, opts.signal);
        else if (!bank.findDuplicate(fact)) await bank.applyBatch([{ type: 'ADD', text: fact, reason: 'dialogue turn' }], { fact, source, eventTime: event.eventTime, model: 'turn' });
      }
      progress(i + 1, events.length);
    }
    const answerRows: AnswerExample[] = [];
    for (const [qi, qa] of sample.qa.entries()) {
      if (!nonAdversarial(qa)) continue;
      const hits = await bank.search(qa.question, { topK: opts.answerTopK });
      const memories = hits.map((h, k) => ({ key: String(k + 1), text: h.memory.text, date: memoryDate(h.memory) }));
      answerRows.push({
        id: `${sample.sampleId}:q${qi}`,
        sampleId: sample.sampleId,
        question: qa.question,
        answer: qa.answer,
        category: qa.category,
        evidence: qa.evidence,
        memories,
        prompt: answerMessages(qa.question, memories),
      });
    }
    writeJsonl(path.join(splitDir, 'manager.jsonl'), managerRows);
    writeJsonl(path.join(splitDir, 'answer.jsonl'), answerRows);
    const linkedQuestions = [...linkedTurns].reduce((n, t) => n + (byTurn.get(t)?.length ?? 0), 0);
    return {
      sample: sample.sampleId,
      managerExamples: managerRows.length,
      answerExamples: answerRows.length,
      questions: sample.qa.filter(nonAdversarial).length,
      linkedQuestions,
      unlinkedQuestions: unlinked.length,
      banks,
    };
  } finally {
    await bank.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The date shown next to a memory in the answer prompt, as `MemoryEngine.answer` shows it. */
export function memoryDate(m: Memory): string {
  return m.eventTime ? m.eventTime.slice(0, 10) : m.updatedAt.slice(0, 10);
}

function toLinked(qa: LocomoQa): LinkedQuestion {
  return { question: qa.question, answer: qa.answer, category: qa.category };
}

function safeFileName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '_');
}
