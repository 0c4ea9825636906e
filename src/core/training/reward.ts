// Outcome rewards of Memory-R1 (arXiv 2508.19828, Section 3): the manager is rewarded by whether a frozen
// answer agent answers the linked questions exactly right from the bank its operations produced; the
// answer agent by exact match of its own answer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Embedder } from '../embeddings/embedder';
import type { ChatModel } from '../llm/chatModel';
import { parseManagerOutput } from '../agents/managerOutput';
import { parseDecisionOutput } from '../agents/managerRules';
import { holdsFact } from '../eval/factOverlap';
import { exactMatch, extractAnswer } from '../eval/scoring';
import type { PlannedOperation } from '../types';
import { newId } from '../util/text';
import { type AnswerExample, type LoadedTrainingData, type ManagerExample, TrainingDataError, checkManagerExample } from './dataset';
import { openBank, openEngine } from '../config';
import type { ManagerCase } from '../eval/managerCases';
import { type DecisionRewardResult, decisionReward } from './decisionReward';

export interface RewardItem {
  kind: 'manager' | 'answer' | 'decision';
  /** Example id from the training data the reward engine was loaded with. */
  id?: string;
  /** Or the example itself (a manager example's `bank` is resolved against the data folder, or absolute). */
  example?: ManagerExample | AnswerExample | ManagerCase;
  /** The model's output to score. */
  completion: string;
  /** Manager items: the protocol the completion answers (default the paper's list of operations). */
  protocol?: 'paper' | 'per-fact';
}

export interface QuestionOutcome {
  question: string;
  gold: string;
  predicted: string;
  exactMatch: number;
}

export interface RewardResult {
  reward: number;
  /** False when the output could not be parsed or applied (reward 0). */
  valid: boolean;
  /** Why the output was invalid. */
  invalidReason?: string;
  /** Manager: the operations that were applied (after validation). */
  operations?: { type: PlannedOperation['type']; memoryId?: string; text?: string }[];
  /** Manager: items of the output refused by validation. */
  rejected?: number;
  /** Manager: the frozen answer agent's answers. */
  answers?: QuestionOutcome[];
  /** Manager: after the operations, an active memory holds the fact (the decision reward's "kept"). */
  kept?: boolean;
  /** Decision: the effective operation and target, the gold ones, and what the bank kept. */
  decision?: Omit<DecisionRewardResult, 'reward' | 'valid' | 'invalidReason'>;
}

/** A request the reward engine cannot score at all (unknown id, no answer model): the whole batch fails loudly. */
export class RewardRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RewardRequestError';
  }
}

export interface RewardEngineOptions {
  embedder: Embedder;
  /** The frozen answer agent used for manager rewards. */
  answerer?: ChatModel;
  data?: LoadedTrainingData;
  /** Labelled per-fact decisions (the decision benchmark's dev split), rewarded by the bank they leave. */
  decisions?: Map<string, ManagerCase>;
  /** Memories the answer agent retrieves (Memory-R1: 60). */
  answerTopK?: number;
  /** Items scored at once within a batch. */
  concurrency?: number;
  /** Where bank copies live (default: a temp folder, removed on close). */
  workDir?: string;
}

/** Scores batches of completions. One bank template per example; each rollout works on its own copy. */
export class RewardEngine {
  private readonly workDir: string;
  private readonly ownsWorkDir: boolean;
  private readonly templates = new Map<string, Promise<string>>();
  private closed = false;

  constructor(private readonly opts: RewardEngineOptions) {
    this.ownsWorkDir = !opts.workDir;
    this.workDir = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'memory-r1-reward-'));
    fs.mkdirSync(this.workDir, { recursive: true });
    if (opts.data && opts.data.meta.embedder !== opts.embedder.id) {
      throw new TrainingDataError(`The training data was built with the embedder ${opts.data.meta.embedder}, but the reward uses ${opts.embedder.id}; candidates would not match the prompts.`);
    }
  }

  async rewardBatch(items: readonly RewardItem[]): Promise<RewardResult[]> {
    const resolved = items.map((it, i) => this.resolve(it, i));
    const out: RewardResult[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < resolved.length) {
        const i = next++;
        const r = resolved[i];
        out[i] =
          r.kind === 'manager' ? await this.managerReward(r.example, r.splitDir, r.completion, r.protocol) : r.kind === 'decision' ? await this.decisionReward(r.example, r.completion) : this.answerReward(r.example, r.completion);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.opts.concurrency ?? 8, resolved.length)) }, worker));
    return out;
  }

  /** The outcome of one per-fact decision, judged on the bank it leaves (no rule rescues it). */
  async decisionReward(example: ManagerCase, completion: string): Promise<RewardResult> {
    const { reward, valid, invalidReason, ...decision } = await decisionReward(example, completion);
    return { reward, valid, ...(invalidReason ? { invalidReason } : {}), decision };
  }

  /** Exact match of the answer agent's output (text after `**Answer:**`) against the gold answer. */
  answerReward(example: AnswerExample, completion: string): RewardResult {
    const predicted = extractAnswer(completion);
    const em = exactMatch(predicted, example.answer);
    return { reward: em, valid: predicted.length > 0, ...(predicted ? {} : { invalidReason: 'empty answer' }), answers: [{ question: example.question, gold: example.answer, predicted, exactMatch: em }] };
  }

  /**
   * Applies the manager's output to a copy of the example's bank exactly as `MemoryEngine.manageFact`
   * does (same parser, same NOOP rule, `MemoryBank.applyBatch`), then lets the frozen answer agent
   * answer the linked questions; the reward is the mean exact match. Unusable output earns 0.
   */
  async managerReward(example: ManagerExample, splitDir: string, completion: string, protocol: RewardItem['protocol'] = 'paper'): Promise<RewardResult> {
    if (!this.opts.answerer) throw new RewardRequestError('Manager rewards need a frozen answer model: pass --answer-endpoint <url> (or set MEMORY_R1_BASE_URL).');
    const decision = protocol === 'per-fact' ? parseDecisionOutput(completion, example.candidates, example.fact) : parseManagerOutput(completion, example.candidates);
    if (decision.unparseable) return { reward: 0, valid: false, invalidReason: 'no JSON list of operations', rejected: decision.rejected.length };
    if (decision.ops.length === 0) return { reward: 0, valid: false, invalidReason: `no usable operation (${decision.rejected.map((r) => r.reason).join('; ') || 'empty list'})`, rejected: decision.rejected.length };
    const changes = decision.ops.filter((o) => o.type !== 'NOOP');
    const template = await this.template(example, splitDir);
    const copy = path.join(this.workDir, 'rollouts', newId());
    fs.cpSync(template, copy, { recursive: true });
    const bank = await openBank({ bank: { folder: copy, watchIntervalMs: 0, limits: { maxMemoryChars: 20_000 } } }, { embedder: this.opts.embedder });
    try {
      if (changes.length) {
        try {
          await bank.applyBatch(changes, { fact: example.fact, candidates: example.candidates, eventTime: example.eventTime, model: 'policy' });
        } catch (err) {
          return { reward: 0, valid: false, invalidReason: `operations could not be applied: ${(err as Error).message}`, rejected: decision.rejected.length };
        }
      }
      const a = this.opts.answerer;
      const engine = await openEngine(
        { bank: { folder: copy }, engine: { answerTopK: this.opts.answerTopK ?? 60, recordTrajectories: false, temperature: 0 } },
        { bank, models: { extractor: a, manager: a, answerer: a } },
      );
      const answers = await Promise.all(
        example.questions.map(async (q): Promise<QuestionOutcome> => {
          const res = await engine.answer(q.question);
          const predicted = extractAnswer(res.raw);
          return { question: q.question, gold: q.answer, predicted, exactMatch: exactMatch(predicted, q.answer) };
        }),
      );
      const reward = answers.length ? answers.reduce((s, a) => s + a.exactMatch, 0) / answers.length : 0;
      const kept = bank.list({ status: 'active' }).items.some((m) => holdsFact(m.text, example.fact).ok);
      return {
        reward,
        valid: true,
        kept,
        operations: (changes.length ? changes : [decision.ops[0]]).map((o) => ({ type: o.type, memoryId: o.memoryId, text: o.text })),
        rejected: decision.rejected.length,
        answers,
      };
    } finally {
      await bank.close();
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.templates.values());
    if (this.ownsWorkDir) fs.rmSync(this.workDir, { recursive: true, force: true });
    else fs.rmSync(path.join(this.workDir, 'rollouts'), { recursive: true, force: true });
  }

  private resolve(
    item: RewardItem,
    index: number,
  ): { kind: 'manager'; example: ManagerExample; splitDir: string; completion: string; protocol?: RewardItem['protocol'] } | { kind: 'answer'; example: AnswerExample; completion: string } | { kind: 'decision'; example: ManagerCase; completion: string } {
    const where = `item ${index}`;
    if (!item || typeof item !== 'object') throw new RewardRequestError(`${where}: not an object`);
    if (typeof item.completion !== 'string') throw new RewardRequestError(`${where}: "completion" must be a string`);
    if (item.kind === 'manager') {
      if (item.id !== undefined) {
        const hit = this.opts.data?.manager.get(String(item.id));
        if (!hit) throw new RewardRequestError(`${where}: no manager example "${item.id}"${this.opts.data ? '' : ' (no --data folder was given)'}`);
        return { kind: 'manager', example: hit.example, splitDir: hit.splitDir, completion: item.completion, protocol: item.protocol };
      }
      const ex = item.example as ManagerExample;
      try {
        checkManagerExample(ex, where);
      } catch (err) {
        throw new RewardRequestError((err as Error).message);
      }
      let splitDir = path.dirname(ex.bank);
      if (!path.isAbsolute(ex.bank)) {
        const split = this.splitOf(ex.sampleId);
        if (!split) throw new RewardRequestError(`${where}: a relative bank path needs the --data folder holding sample "${ex.sampleId}"`);
        splitDir = path.join(this.opts.data!.dir, split);
      }
      return { kind: 'manager', example: ex, splitDir, completion: item.completion, protocol: item.protocol };
    }
    if (item.kind === 'decision') {
      const ex = item.id !== undefined ? this.opts.decisions?.get(String(item.id)) : (item.example as unknown as ManagerCase | undefined);
      if (!ex || typeof ex.fact !== 'string') throw new RewardRequestError(`${where}: no decision case ${item.id !== undefined ? `"${item.id}"${this.opts.decisions ? '' : ' (no --decisions file was given)'}` : 'given'}`);
      return { kind: 'decision', example: ex, completion: item.completion };
    }
    if (item.kind === 'answer') {
      const ex = item.id !== undefined ? this.opts.data?.answer.get(String(item.id)) : (item.example as AnswerExample | undefined);
      if (!ex || typeof ex.answer !== 'string') throw new RewardRequestError(`${where}: no answer example ${item.id !== undefined ? `"${item.id}"` : 'given'}`);
      return { kind: 'answer', example: ex, completion: item.completion };
    }
    throw new RewardRequestError(`${where}: "kind" must be "manager", "answer" or "decision"`);
  }

  private splitOf(sampleId: string): string | undefined {
    const splits = this.opts.data?.meta.splits ?? {};
    return Object.keys(splits).find((s) => splits[s].sample === sampleId);
  }

  /** A bank folder holding the example's memories, built once and copied per rollout. */
  private template(example: ManagerExample, splitDir: string): Promise<string> {
    const file = path.resolve(splitDir, example.bank);
    let p = this.templates.get(file);
    if (!p) {
      p = (async () => {
        let bundle: unknown;
        try {
          bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (err) {
          throw new RewardRequestError(`Cannot read the bank of example ${example.id} (${file}): ${(err as Error).message}`);
        }
        const dir = path.join(this.workDir, 'templates', newId());
        const bank = await openBank({ bank: { folder: dir, watchIntervalMs: 0, limits: { maxMemoryChars: 20_000 } } }, { embedder: this.opts.embedder });
        try {
          await bank.importBundle(bundle, 'merge');
          for (const c of example.candidates) {
            if (!bank.get(c.memoryId)) throw new RewardRequestError(`Example ${example.id}: candidate ${c.key} (${c.memoryId}) is not in its bank ${file}.`);
          }
        } finally {
          await bank.close();
        }
        return dir;
      })();
      p.catch(() => this.templates.delete(file));
      this.templates.set(file, p);
    }
    return p;
  }
}
