// The convention benchmark's data, prompts and scoring (bench/conventions.ts runs it; the tests check the
// scoring and the references with it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { statesLabel } from '../../src/core/eval/bankQuality';
import { INSTRUCTION_KINDS, type MemoryKind } from '../../src/core/kinds';
import type { Memory } from '../../src/core/types';
import { codeOf, runChecks, type CheckResult, type CodeCheck } from './checks';

export interface Convention {
  id: string;
  session: number;
  status: 'current' | 'stale';
  replacedBy?: string;
  claim: string;
  lang: string;
  match: string[][];
  exclude?: string[];
  checks: CodeCheck[];
}
export interface Task {
  id: string;
  lang: 'python' | 'typescript';
  prompt: string;
  conventions: string[];
  reference: string;
}
export interface Conversation {
  id: string;
  split: 'dev' | 'test';
  about: string;
  sessions: { date: string; turns: [string, string][] }[];
  conventions: Convention[];
  tasks: Task[];
}

export const CONVERSATIONS_DIR = path.join('bench', 'fixtures', 'conventions', 'conversations');
export const CONDITIONS = ['none', 'history', 'memory'] as const;
export type Condition = (typeof CONDITIONS)[number];

export function loadConversations(dir = CONVERSATIONS_DIR): Conversation[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Conversation);
}

/** A session as capture renders a conversation between people: one line per turn. */
export function sessionText(s: Conversation['sessions'][number]): string {
  return s.turns.map(([who, text]) => `${who}: ${text}`).join('\n');
}

export function historyText(c: Conversation): string {
  return c.sessions.map((s, i) => `Session ${i + 1} (${s.date.slice(0, 10)}):\n${sessionText(s)}`).join('\n\n');
}

const SYSTEM = 'You are a coding assistant working in this project. Write the code the task asks for. Reply with one fenced code block and nothing else.';

export function taskMessages(condition: Condition, c: Conversation, task: Task, section: string) {
  const lang = task.lang === 'python' ? 'Python' : 'TypeScript';
  const context =
    condition === 'history'
      ? `Conversations of the team working on this project so far:\n<<<\n${historyText(c)}\n>>>\n\n`
      : condition === 'memory'
        ? `Project instructions (.github/copilot-instructions.md):\n<<<\n${section.trim()}\n>>>\n\n`
        : '';
  return [
    { role: 'system' as const, content: SYSTEM },
    { role: 'user' as const, content: `${context}Task (${lang}): ${task.prompt}` },
  ];
}

export interface BankScore {
  /** Memories the instruction section delivers (active, of a delivered kind). */
  delivered: number;
  /** Of those, the ones stating a current convention. */
  deliveredCurrent: number;
  /** Replaced conventions an active memory still states (and no current one). */
  staleActive: number;
  /** Replaced conventions the section still delivers. */
  staleDelivered: number;
  /** Current conventions the section states. */
  recalled: number;
  currentConventions: number;
  staleConventions: number;
  /** The same for every active memory, whatever its kind (the engine before kinds delivered everything). */
  active: number;
  activeCurrent: number;
  /** The same for every extracted fact (keep everything: no manager). */
  extracted: number;
  extractedCurrent: number;
  extractedStale: number;
}

export function scoreConventionBank(c: Conversation, memories: Memory[], extracted: { text: string; kind?: MemoryKind }[]): BankScore {
  const current = c.conventions.filter((x) => x.status === 'current');
  const stale = c.conventions.filter((x) => x.status === 'stale');
  const states = (text: string, x: Convention) => statesLabel(text, x.match, x.exclude);
  const active = memories.filter((m) => m.status === 'active');
  const delivered = active.filter((m) => m.kind && INSTRUCTION_KINDS.includes(m.kind));
  const isCurrent = (t: string) => current.some((x) => states(t, x));
  const staleOnly = (texts: string[]) => stale.filter((x) => texts.some((t) => states(t, x) && !isCurrent(t))).length;
  return {
    delivered: delivered.length,
    deliveredCurrent: delivered.filter((m) => isCurrent(m.text)).length,
    staleActive: staleOnly(active.map((m) => m.text)),
    staleDelivered: staleOnly(delivered.map((m) => m.text)),
    recalled: current.filter((x) => delivered.some((m) => states(m.text, x))).length,
    currentConventions: current.length,
    staleConventions: stale.length,
    active: active.length,
    activeCurrent: active.filter((m) => isCurrent(m.text)).length,
    extracted: extracted.length,
    extractedCurrent: extracted.filter((f) => isCurrent(f.text)).length,
    extractedStale: staleOnly(extracted.map((f) => f.text)),
  };
}

export function checkAnswers(c: Conversation, items: { task: Task; answer: string }[]): { id: string; ok: boolean; why: string[] }[][] {
  const jobs = items.flatMap(({ task, answer }) => task.conventions.map((id) => ({ lang: task.lang, code: codeOf(answer), checks: c.conventions.find((x) => x.id === id)!.checks })));
  const res = runChecks(jobs);
  let k = 0;
  return items.map(({ task }) =>
    task.conventions.map((id) => {
      const r = res[k++] as CheckResult[];
      return { id, ok: r.every((x) => x.ok), why: r.filter((x) => !x.ok).map((x) => x.why) };
    }),
  );
}

