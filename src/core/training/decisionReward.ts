// Rewards for the per-fact protocol on the decision benchmark's dev split: the model's decision is run
// through the engine (no rule, re-ask or check to rescue it) on a real bank, and the reward is the
// outcome, the bank it leaves (`decisionOutcome`: 1 gold, 0.5 a safe miss, 0 a lost fact, a destroyed
// memory or an invalid output).
import * as path from 'node:path';
import { type ManagerCase, OWN_DECISION_OPTIONS, ReplayModel, decisionOutcome, loadManagerCases, runManagerCase } from '../eval/managerCases';
import type { ChatMessage } from '../types';
import { TrainingDataError } from './dataset';

/** What the trainer needs to roll out one decision: the exact prompt, and the choices constrained decoding allows. */
export interface DecisionExample {
  id: string;
  category: string;
  messages: ChatMessage[];
  decisions: string[];
  ids: string[];
}

/** Loads decision cases for training. The benchmark's test split never trains: a file named test.jsonl is refused. */
export function loadDecisionCases(file: string): Map<string, ManagerCase> {
  if (/^test\b/i.test(path.basename(file))) {
    throw new TrainingDataError(`${file} is the decision benchmark's test split: it measures the trained manager and never trains it. Use bench/fixtures/manager/dev.jsonl.`);
  }
  const cases = loadManagerCases(file);
  const map = new Map<string, ManagerCase>();
  for (const c of cases) {
    if (!c.id || typeof c.fact !== 'string' || !Array.isArray(c.candidates) || !c.gold?.op) throw new TrainingDataError(`${file}: case ${JSON.stringify(c.id)} is not a decision case (id, fact, candidates, gold)`);
    if (map.has(c.id)) throw new TrainingDataError(`${file}: case id ${c.id} appears twice`);
    map.set(c.id, c);
  }
  return map;
}

/**
 * The prompt the engine sends the manager for each case, captured at the model boundary. Cases the
 * engine decides without a call (no related memory, or one that plainly holds the fact) are left out:
 * the model never sees them.
 */
export async function decisionExamples(cases: Iterable<ManagerCase>): Promise<DecisionExample[]> {
  const out: DecisionExample[] = [];
  for (const c of cases) {
    const model = new ReplayModel(['']);
    await runManagerCase(c, model, OWN_DECISION_OPTIONS);
    const req = model.requests[0];
    if (!req) continue;
    const props = (req.json?.schema as { properties?: Record<string, { enum?: string[] }> } | undefined)?.properties;
    out.push({ id: c.id, category: c.category, messages: req.messages, decisions: props?.decision?.enum ?? [], ids: props?.id?.enum ?? [] });
  }
  return out;
}

export interface DecisionRewardResult {
  reward: number;
  valid: boolean;
  invalidReason?: string;
  /** The effective operation and its target (fixture ids), and the gold ones. */
  op: string;
  target?: string;
  gold: ManagerCase['gold'];
  kept: boolean;
  destructive: boolean;
}

export async function decisionReward(c: ManagerCase, completion: string): Promise<DecisionRewardResult> {
  const r = await runManagerCase(c, new ReplayModel([completion]), OWN_DECISION_OPTIONS);
  return {
    reward: decisionOutcome(r),
    valid: !r.invalid,
    ...(r.invalid ? { invalidReason: 'no usable decision (JSON {"decision", "id"} naming a memory shown)' } : {}),
    op: r.op,
    target: r.target,
    gold: r.gold,
    kept: r.kept,
    destructive: r.destructive,
  };
}
