// The convention benchmark's code checks: a task's code (the first fenced block of the model's answer) against
// the checks of the conventions that apply, by AST: TypeScript in-process, Python through check_python.py.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { checkTypescript } from './checkTypescript';
import type { CheckResult, CodeCheck } from './checkTypes';

export type { CheckResult, CodeCheck } from './checkTypes';

/** Benchmarks and tests run from the repository's root. */
const PY_CHECKER = path.resolve('bench', 'conventions', 'check_python.py');

/** The code of an answer: its first fenced block (any language tag), else the whole answer. */
export function codeOf(answer: string): string {
  const m = /```[\w+-]*[ \t]*\r?\n([\s\S]*?)```/.exec(answer);
  if (m) return m[1];
  const open = /```[\w+-]*[ \t]*\r?\n([\s\S]*)$/.exec(answer);
  return open ? open[1] : answer;
}

export interface CheckJob {
  lang: 'python' | 'typescript';
  code: string;
  checks: CodeCheck[];
}

/** Every job's checks, in order. The Python jobs go to one `python3` process. */
export function runChecks(jobs: CheckJob[]): CheckResult[][] {
  const out: CheckResult[][] = jobs.map(() => []);
  const py = jobs.map((j, i) => [j, i] as const).filter(([j]) => j.lang === 'python');
  if (py.length) {
    const res = JSON.parse(execFileSync(process.env.PYTHON ?? 'python3', [PY_CHECKER], { input: JSON.stringify(py.map(([j]) => ({ code: j.code, checks: j.checks }))), maxBuffer: 64 << 20 }).toString('utf8')) as CheckResult[][];
    py.forEach(([, i], k) => (out[i] = res[k]));
  }
  jobs.forEach((j, i) => {
    if (j.lang === 'typescript') out[i] = checkTypescript(j.code, j.checks);
  });
  return out;
}
