// Training data formats shared by the data builder, the reward and the Python trainer (training/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CandidateView, ChatMessage } from '../types';
import type { LocomoCategory } from '../eval/locomo';

export const TRAINING_FORMAT = 'memory-r1-training';

/** A question the frozen answer agent answers after the manager's operations are applied. */
export interface LinkedQuestion {
  question: string;
  answer: string;
  category: LocomoCategory;
}

/** One Memory Manager step: the bank before it, the fact, what the model was shown, the questions it serves. */
export interface ManagerExample {
  id: string;
  sampleId: string;
  /** Dialogue turn the fact comes from. */
  diaId: string;
  fact: string;
  eventTime?: string;
  /** Bank bundle (memories before this step), relative to the split folder. */
  bank: string;
  candidates: CandidateView[];
  /** `managerMessages(fact, candidates)`: exactly what the manager model sees. */
  prompt: ChatMessage[];
  questions: LinkedQuestion[];
}

/** One Answer Agent step: the question, the retrieved memories and the gold answer. */
export interface AnswerExample {
  id: string;
  sampleId: string;
  question: string;
  answer: string;
  category: LocomoCategory;
  evidence: string[];
  memories: { key: string; text: string; date?: string }[];
  /** `answerMessages(question, memories)`. */
  prompt: ChatMessage[];
}

export interface SplitSummary {
  sample: string;
  managerExamples: number;
  answerExamples: number;
  /** Non-adversarial questions of the sample. */
  questions: number;
  /** Questions linked to a manager example (through their evidence turns). */
  linkedQuestions: number;
  /** Questions whose evidence names no turn of the conversation. */
  unlinkedQuestions: number;
  banks: number;
}

export interface TrainingDataMeta {
  format: typeof TRAINING_FORMAT;
  version: 1;
  createdAt: string;
  source: string;
  /** `turns`: each dialogue turn is one fact and one memory; `extracted`: the extractor and manager built the banks. */
  mode: 'turns' | 'extracted';
  embedder: string;
  managerTopK: number;
  answerTopK: number;
  models?: { extractor: string; manager: string };
  splits: Record<string, SplitSummary>;
}

export class TrainingDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDataError';
  }
}

export function writeJsonl(file: string, rows: readonly unknown[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
}

/** Reads a JSONL file; a malformed line is an error naming the file and line (training data must be whole). */
export function readJsonl<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TrainingDataError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  const rows: T[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      rows.push(JSON.parse(line) as T);
    } catch (err) {
      throw new TrainingDataError(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
  });
  return rows;
}

export interface LoadedTrainingData {
  dir: string;
  meta: TrainingDataMeta;
  /** Examples by id, with the folder their `bank` path is relative to. */
  manager: Map<string, { example: ManagerExample; splitDir: string }>;
  answer: Map<string, AnswerExample>;
}

/** Loads every split of a `build-training-data` output folder and checks its shape. */
export function loadTrainingData(dir: string): LoadedTrainingData {
  const metaFile = path.join(dir, 'meta.json');
  let meta: TrainingDataMeta;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as TrainingDataMeta;
  } catch (err) {
    throw new TrainingDataError(`${metaFile}: not a training data folder (${(err as Error).message}); make one with \`memory-r1 build-training-data\`.`);
  }
  if (meta.format !== TRAINING_FORMAT || meta.version !== 1) throw new TrainingDataError(`${metaFile}: unknown format ${JSON.stringify(meta.format)} version ${JSON.stringify(meta.version)}.`);
  const manager = new Map<string, { example: ManagerExample; splitDir: string }>();
  const answer = new Map<string, AnswerExample>();
  for (const split of Object.keys(meta.splits ?? {})) {
    const splitDir = path.join(dir, split);
    const mFile = path.join(splitDir, 'manager.jsonl');
    const aFile = path.join(splitDir, 'answer.jsonl');
    readJsonl<ManagerExample>(mFile).forEach((ex, i) => {
      checkManagerExample(ex, `${mFile}:${i + 1}`);
      if (manager.has(ex.id)) throw new TrainingDataError(`${mFile}:${i + 1}: duplicate example id ${ex.id}`);
      manager.set(ex.id, { example: ex, splitDir });
    });
    readJsonl<AnswerExample>(aFile).forEach((ex, i) => {
      if (!ex || typeof ex.id !== 'string' || typeof ex.answer !== 'string') throw new TrainingDataError(`${aFile}:${i + 1}: an answer example needs "id" and "answer"`);
      if (answer.has(ex.id)) throw new TrainingDataError(`${aFile}:${i + 1}: duplicate example id ${ex.id}`);
      answer.set(ex.id, ex);
    });
  }
  return { dir, meta, manager, answer };
}

export function checkManagerExample(ex: ManagerExample, where: string): void {
  if (!ex || typeof ex !== 'object') throw new TrainingDataError(`${where}: not an object`);
  if (typeof ex.id !== 'string' || typeof ex.bank !== 'string' || typeof ex.fact !== 'string') {
    throw new TrainingDataError(`${where}: a manager example needs "id", "fact" and "bank"`);
  }
  if (!Array.isArray(ex.candidates) || ex.candidates.some((c) => typeof c?.key !== 'string' || typeof c?.memoryId !== 'string')) {
    throw new TrainingDataError(`${where}: "candidates" must be a list of {key, memoryId, text}`);
  }
  if (!Array.isArray(ex.questions) || ex.questions.some((q) => typeof q?.question !== 'string' || typeof q?.answer !== 'string')) {
    throw new TrainingDataError(`${where}: "questions" must be a list of {question, answer}`);
  }
}
