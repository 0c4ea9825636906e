// One labelled Memory Manager decision, run through MemoryEngine.manageFact on a real bank and judged by
// the bank it leaves. Shared by the decision benchmark (bench/manager.ts) and the trainer's reward, so a
// trained manager is scored by the same code that measures it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openBank, openEngine } from '../config';
import type { EngineOptions } from '../engine';
import { HashingEmbedder } from '../embeddings/hashingEmbedder';
import type { ChatModel, ChatRequest, ChatResponse } from '../llm/chatModel';
import { holdsFact } from './factOverlap';
import { parseManagerOutput } from '../agents/managerOutput';
import { parseDecisionOutput } from '../agents/managerRules';

export interface ManagerCase {
  id: string;
  category: string;
  domain: 'project' | 'conversation';
  fact: string;
  candidates: { id: string; text: string }[];
  gold: { op: 'ADD' | 'UPDATE' | 'NONE'; target?: string };
  eventTime?: string;
}

export interface CaseResult {
  id: string;
  category: string;
  gold: ManagerCase['gold'];
  op: string;
  target?: string;
  opOk: boolean;
  targetOk: boolean;
  kept: boolean;
  destructive: boolean;
  invalid: boolean;
  guard?: string;
  ms: number;
  /** The model's first output, for replays (--ablate) and rewards. */
  output: string;
}

export function loadManagerCases(file: string): ManagerCase[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ManagerCase);
}

/** Answers with recorded outputs, in order, and keeps what it was asked: the model boundary, nothing else, is replaced. */
export class ReplayModel implements ChatModel {
  readonly name = 'replay';
  readonly requests: ChatRequest[] = [];
  constructor(private outputs: string[]) {}
  async complete(req: ChatRequest): Promise<ChatResponse> {
    this.requests.push(req);
    return { text: this.outputs.shift() ?? '', model: 'replay', usage: { promptTokens: 0, completionTokens: 0 } };
  }
  stream(req: ChatRequest): Promise<ChatResponse> {
    return this.complete(req);
  }
}

/**
 * Runs one case: the candidates go into a fresh bank, the engine decides about the fact with them as the
 * retrieved memories, and the bank it leaves is judged: is the fact held by an active memory (kept), was
 * a memory that is still true superseded or deleted (destructive), and were the operation and target the
 * gold ones.
 */
export async function runManagerCase(c: ManagerCase, manager: ChatModel, options: Partial<EngineOptions>): Promise<CaseResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-mgr-case-'));
  const cfg = { bank: { folder: dir, watchIntervalMs: 0 }, engine: { recordTrajectories: false, ...options } };
  const bank = await openBank(cfg, { embedder: new HashingEmbedder(256) });
  try {
    const idOf = new Map<string, string>();
    for (const cand of c.candidates) idOf.set(cand.id, (await bank.addManual(cand.text)).memoryId);
    const fixtureId = new Map([...idOf].map(([k, v]) => [v, k]));
    const engine = await openEngine(cfg, { bank, models: { extractor: manager, manager, answerer: manager } });
    const t0 = performance.now();
    const r = await engine.manageFact(c.fact, { kind: 'cli', ref: c.id }, c.eventTime ?? '2025-06-01', undefined, { candidateIds: c.candidates.map((x) => idOf.get(x.id)!) });
    const ms = performance.now() - t0;
    const applied = r.operations.filter((o) => !o.rejected && !o.held);
    const upd = applied.find((o) => o.type === 'UPDATE');
    const del = applied.find((o) => o.type === 'DELETE');
    const addOp = applied.find((o) => o.type === 'ADD');
    const noop = applied.find((o) => o.type === 'NOOP');
    let op: string;
    let target: string | undefined;
    if (upd) [op, target] = ['UPDATE', fixtureId.get(upd.supersededId ?? upd.memoryId ?? '')];
    else if (del) [op, target] = ['DELETE', fixtureId.get(del.memoryId ?? '')];
    else if (addOp) op = 'ADD';
    else if (r.operations.some((o) => o.held)) op = 'HELD';
    else [op, target] = ['NONE', noop?.memoryId ? fixtureId.get(noop.memoryId) : undefined];
    const opOk = op === c.gold.op || (op === 'DELETE' && c.gold.op === 'UPDATE');
    const targetOk = opOk && (c.gold.op === 'ADD' || target === c.gold.target);
    const active = bank.list({ status: 'active' }).items;
    const kept = active.some((m) => holdsFact(m.text, c.fact).ok) || (c.gold.op === 'NONE' && active.some((m) => m.id === idOf.get(c.gold.target!)));
    const destructive = c.candidates.some((cand) => {
      const m = bank.get(idOf.get(cand.id)!);
      return m!.status !== 'active' && !(c.gold.op === 'UPDATE' && cand.id === c.gold.target);
    });
    const output = r.output ?? '';
    const candidates = c.candidates.map((x, i) => ({ key: String(i), memoryId: idOf.get(x.id)!, text: x.text }));
    const parsed = options.managerProtocol === 'paper' ? parseManagerOutput(output, candidates) : parseDecisionOutput(output, candidates, c.fact);
    const invalid = r.output !== undefined && (parsed.unparseable || parsed.ops.length === 0);
    return { id: c.id, category: c.category, gold: c.gold, op, target, opOk, targetOk, kept, destructive, invalid, guard: r.guard, ms, output };
  } finally {
    await bank.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The engine's options for scoring the model's own decision: the per-fact protocol with no fallback, re-ask or check to rescue it. */
export const OWN_DECISION_OPTIONS: Partial<EngineOptions> = { managerProtocol: 'per-fact', managerFallback: false, managerReask: false, managerVerifyUpdates: false };

/**
 * The outcome of a decision, as one number: 1 when the bank ends as the gold decision leaves it (fact
 * kept, stale memory superseded, nothing true destroyed); 0.5 for a safe miss (the fact kept and nothing
 * destroyed, but a stale memory left active or a duplicate added); 0 when the fact is lost or a true
 * memory destroyed.
 */
export function decisionOutcome(r: CaseResult): number {
  if (!r.kept || r.destructive) return 0;
  return r.targetOk ? 1 : 0.5;
}
