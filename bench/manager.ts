// Memory Manager decision benchmark: does the manager keep every fact, hit the right memory, and never
// destroy one it should not? Each case's decision runs through MemoryEngine.manageFact on a real bank (the
// engine's own rules, re-ask and fallback included), with the fixture's candidates as the retrieved ones.
//
//   node scripts/run-ts.mjs bench/manager.ts --endpoint http://127.0.0.1:8089/v1 --model <name> \
//     [--protocol per-fact,paper] [--split dev|test] [--limit N] [--per-category N] [--categories a,b] [--reask | --no-reask] [--by-category] [--resume] [--out <dir>]
//   node scripts/run-ts.mjs bench/manager.ts --report [--out <dir>]           # the table of every saved run
//
// Tune on dev only: the test split never enters a prompt (the prompts have no examples from either split).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineOptions } from '../src/core/engine';
import { OpenAIChatModel } from '../src/core/llm/openaiChatModel';
import type { ManagerProtocol } from '../src/core/agents/prompts';
import { type CaseResult, type ManagerCase, ReplayModel, loadManagerCases, runManagerCase } from '../src/core/eval/managerCases';
import { flag, has } from './argv';

interface RunFile {
  model: string;
  protocol: ManagerProtocol;
  split: string;
  reask: boolean;
  /** Per-fact: supersedes checked with a yes/no question first (MEMORY_R1_VERIFY_UPDATES=0 turns it off). */
  verify?: boolean;
  sample: string;
  time: string;
  results: CaseResult[];
}

const outDir = path.resolve(flag('out') ?? '.cache/bench-manager');

function loadCases(split: string): ManagerCase[] {
  return loadManagerCases(path.resolve('bench/fixtures/manager', `${split}.jsonl`));
}

/**
 * The first N cases of every category (a stratified sample that keeps the mix of the split), in
 * round-robin order over the categories, so a run cut off by a time limit is still a stratified sample.
 */
function sample(cases: ManagerCase[], perCategory?: number, limit?: number): ManagerCase[] {
  const byCat = new Map<string, ManagerCase[]>();
  for (const c of cases) byCat.set(c.category, [...(byCat.get(c.category) ?? []), c]);
  const rr: ManagerCase[] = [];
  for (let i = 0; rr.length < cases.length; i++) for (const list of byCat.values()) if (list[i]) rr.push(list[i]);
  let out = rr;
  if (perCategory) {
    const seen = new Map<string, number>();
    out = out.filter((c) => {
      const k = seen.get(c.category) ?? 0;
      seen.set(c.category, k + 1);
      return k < perCategory;
    });
  }
  return limit ? out.slice(0, limit) : out;
}

interface Row {
  label: string;
  n: number;
  opAcc: number;
  targetAcc: number;
  kept: number;
  destructive: number;
  invalid: number;
  guarded: number;
  p50: number;
  p95: number;
}

function summarize(label: string, rs: CaseResult[]): Row {
  const share = (f: (r: CaseResult) => boolean, of = rs) => (of.length ? (100 * of.filter(f).length) / of.length : NaN);
  const withTarget = rs.filter((r) => r.gold.op !== 'ADD');
  const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
  const q = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] : NaN);
  return {
    label,
    n: rs.length,
    opAcc: share((r) => r.opOk),
    targetAcc: share((r) => r.targetOk, withTarget),
    kept: share((r) => r.kept),
    destructive: share((r) => r.destructive),
    invalid: share((r) => r.invalid),
    guarded: share((r) => !!r.guard),
    p50: q(0.5),
    p95: q(0.95),
  };
}

function printRows(title: string, rows: Row[]): void {
  const f = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(1));
  const s = (ms: number) => (Number.isNaN(ms) ? '—' : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);
  console.log(`\n${title}\n`);
  console.log('| run | cases | op acc % | target acc % | facts kept % | destructive % | invalid % | rule acted % | latency p50 | p95 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.label} | ${r.n} | ${f(r.opAcc)} | ${f(r.targetAcc)} | ${f(r.kept)} | ${f(r.destructive)} | ${f(r.invalid)} | ${f(r.guarded)} | ${s(r.p50)} | ${s(r.p95)} |`);
}

function printConfusion(rs: CaseResult[]): void {
  const cats = [...new Set(rs.map((r) => r.category))];
  console.log('\n| category | cases | op acc % | kept % | destructive | decided ops |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const c of cats) {
    const x = rs.filter((r) => r.category === c);
    const ops = new Map<string, number>();
    for (const r of x) ops.set(r.op, (ops.get(r.op) ?? 0) + 1);
    console.log(`| ${c} (gold ${x[0].gold.op}) | ${x.length} | ${((100 * x.filter((r) => r.opOk).length) / x.length).toFixed(0)} | ${((100 * x.filter((r) => r.kept).length) / x.length).toFixed(0)} | ${x.filter((r) => r.destructive).length} | ${[...ops].map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  }
}

async function main(): Promise<void> {
  if (has('report')) {
    const files = fs.existsSync(outDir) ? fs.readdirSync(outDir).filter((f) => f.endsWith('.json')).sort() : [];
    const runs = files.map((f) => JSON.parse(fs.readFileSync(path.join(outDir, f), 'utf8')) as RunFile);
    printRows('Memory Manager decisions (saved runs)', runs.map((r) => summarize(`${r.model} · ${r.protocol}${r.protocol === 'per-fact' && r.verify ? ' · verify' : ''}${r.reask ? ' · re-ask' : ''} · ${r.split} (${r.sample})`, r.results)));
    return;
  }
  const endpoint = flag('endpoint') ?? process.env.MEMORY_R1_BASE_URL;
  const model = flag('model') ?? process.env.MEMORY_R1_MANAGER_MODEL ?? process.env.MEMORY_R1_MODEL;
  if (!endpoint || !model) {
    console.error('usage: bench/manager.ts --endpoint <url> --model <name> [--protocol per-fact,paper] [--split dev|test] [--limit N] [--per-category N] [--no-reask] | --report');
    process.exit(2);
  }
  const split = flag('split') ?? 'dev';
  const protocols = (flag('protocol') ?? 'per-fact').split(',') as ManagerProtocol[];
  const perCategory = flag('per-category') ? Number(flag('per-category')) : undefined;
  const limit = flag('limit') ? Number(flag('limit')) : undefined;
  const reask = !has('no-reask');
  const reaskOpt: EngineOptions['managerReask'] = has('no-reask') ? false : has('reask') ? true : 'paper';
  const only = flag('categories')?.split(',');
  const cases = sample(loadCases(split).filter((c) => !only || only.includes(c.category)), perCategory, limit);
  const sampleLabel = perCategory || limit || only ? `${cases.length} cases${perCategory ? `, ${perCategory} per category` : ''}${only ? `, ${only.length} categories` : ''}` : 'all';
  const manager = new OpenAIChatModel({ baseURL: endpoint, apiKey: process.env.MEMORY_R1_API_KEY, model, timeoutMs: 300_000, maxRetries: 1 });
  fs.mkdirSync(outDir, { recursive: true });
  const rows: Row[] = [];
  for (const protocol of protocols) {
    const results: CaseResult[] = [];
    const reaskOn = reaskOpt === true || (reaskOpt === 'paper' && protocol === 'paper');
    const file = path.join(outDir, `${model.replace(/[^\w.-]+/g, '_')}-${protocol}${process.env.MEMORY_R1_VERIFY_UPDATES === '1' && protocol === 'per-fact' ? '-verify' : ''}${reaskOn ? "" : "-noreask"}-${split}-${perCategory ?? 'all'}-${limit ?? 'all'}${only ? '-' + only.length + 'cats' : ''}.json`);
    const verify = process.env.MEMORY_R1_VERIFY_UPDATES === '1';
    const save = () => fs.writeFileSync(file, JSON.stringify({ model, protocol, split, reask: reaskOn, verify, sample: sampleLabel, time: new Date().toISOString(), results } satisfies RunFile, null, 1));
    // --resume: keep the cases a run cut by a time limit already finished, and run the rest.
    if (has('resume') && fs.existsSync(file)) {
      const done = new Set(cases.map((c) => c.id));
      results.push(...(JSON.parse(fs.readFileSync(file, 'utf8')) as RunFile).results.filter((r) => done.has(r.id)));
      process.stderr.write(`[${protocol}] resuming ${file}: ${results.length} of ${cases.length} cases done\n`);
    }
    const finished = new Set(results.map((r) => r.id));
    for (const [i, c] of cases.entries()) {
      if (finished.has(c.id)) continue;
      const r = await runManagerCase(c, manager, { managerProtocol: protocol, managerReask: reaskOpt });
      results.push(r);
      save(); // a run cut off by a time limit still leaves its cases
      process.stderr.write(`[${protocol}] ${i + 1}/${cases.length} ${c.id} ${c.category}: gold ${c.gold.op}${c.gold.target ? ' ' + c.gold.target : ''} -> ${r.op}${r.target ? ' ' + r.target : ''}${r.opOk ? '' : ' ✗'}${r.kept ? '' : ' LOST'}${r.destructive ? ' DESTRUCTIVE' : ''}${r.guard ? ' [' + r.guard.slice(0, 80) + ']' : ''} ${(r.ms / 1000).toFixed(1)}s\n`);
    }
    rows.push(summarize(`${model} · ${protocol}${protocol === 'per-fact' && process.env.MEMORY_R1_VERIFY_UPDATES === '1' ? ' · verify' : ''}${reaskOn ? ' · re-ask' : ''} · ${split} (${sampleLabel})`, results));
    if (has('by-category')) printConfusion(results);
  }
  printRows('Memory Manager decisions', rows);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
