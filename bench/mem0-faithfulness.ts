// How faithful are this project's re-implementations of Mem0 (`mem0-v2`, `add-only`) to the real mem0ai
// package (`mem0`)? Reads a finished `memory-r1 eval locomo` run that included `mem0` and prints, per
// pipeline: its decisions, how often they agree with real Mem0's on the same facts, and the F1 / J gap.
//
//   node scripts/run-ts.mjs bench/mem0-faithfulness.ts <eval out dir> [--match 0.5]
//
// Fact by fact: in each event, every memory real Mem0 wrote (its SQLite history, exported per event into
// banks/mem0/<sample>/decisions.jsonl) is paired with the pipeline's extracted fact that shares most of its
// content (both ways, at least --match of one side's content words; one-to-one, best pairs first). For a pair,
// the pipeline's decision on its fact (ADD, UPDATE, DELETE, NOOP; an exact duplicate dropped before the
// manager counts as NOOP) is compared with Mem0's (ADD: mem0ai 2.2.1's add() writes nothing else). Facts on
// one side only are counted apart: they are extraction differences, not decision differences.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { carriesFact, factCoverage, relatedTo } from '../src/core/eval/factOverlap';
import { type EventDecisions, readDecisions } from '../src/core/eval/pipelines/decisions';
import type { EvalReport } from '../src/core/eval/report';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
const mi = args.indexOf('--match');
const MATCH = mi >= 0 ? Number(args[mi + 1]) : 0.5;
if (!dir || !fs.existsSync(path.join(dir, 'run.json'))) {
  console.error('usage: node scripts/run-ts.mjs bench/mem0-faithfulness.ts <eval out dir> [--match 0.5]');
  process.exit(2);
}
/** Per pipeline: its answered questions (from results.json, or from the answer cache of a run still going). */
interface Scored {
  pipeline: string;
  sampleId: string;
  scores: Record<string, number>;
}
let questions: Scored[];
let cfg: Record<string, unknown>;
let partial = false;
if (fs.existsSync(path.join(dir, 'results.json'))) {
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as EvalReport;
  questions = report.questions;
  cfg = report.config as Record<string, unknown>;
} else {
  partial = true;
  cfg = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
  questions = [];
  for (const p of (cfg.pipelines as string[]) ?? []) {
    const d = path.join(dir, 'cache', p);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) {
      const byKey = new Map<string, Scored>();
      for (const line of fs.readFileSync(path.join(d, f), 'utf8').split('\n')) {
        try {
          const r = JSON.parse(line) as Scored & { key: string };
          byKey.set(r.key, r);
        } catch {
          // blank or torn line
        }
      }
      questions.push(...byKey.values());
    }
  }
}
const names = ((cfg.pipelines as string[]) ?? []).filter((n) => fs.existsSync(path.join(dir, 'banks', n)));
if (!names.includes('mem0')) {
  console.error(`${dir} has no mem0 pipeline (pipelines: ${names.join(', ')}); run the eval with --pipelines mem0,mem0-v2,add-only`);
  process.exit(2);
}
const samples = (cfg.samples as string[]) ?? [...new Set(questions.map((q) => q.sampleId))];
const banks = (pipeline: string, sample: string) => readDecisions(path.join(dir, 'banks', pipeline, sample.replace(/[^A-Za-z0-9._-]/g, '_')));

/** The pipeline's decision on one of its facts in an event. */
function decisionOn(fact: string, d: EventDecisions): string {
  if (d.ops.some((o) => o.type === 'SKIP' && o.text === fact)) return 'NOOP';
  const keeping = d.ops.filter((o) => (o.type === 'ADD' || o.type === 'UPDATE') && o.text && carriesFact(o.text, fact).ok);
  if (keeping.some((o) => o.type === 'UPDATE')) return 'UPDATE';
  if (keeping.length > 0) return 'ADD';
  if (d.ops.some((o) => o.type === 'DELETE' && o.target && relatedTo(o.target, fact))) return 'DELETE';
  return 'NOOP';
}

const similarity = (a: string, b: string) => Math.max(factCoverage(a, b), factCoverage(b, a));

interface Tally {
  pairs: number;
  agree: number;
  confusion: Map<string, number>;
  onlyMem0: number;
  onlyOurs: number;
  ops: Map<string, number>;
  examples: string[];
}

const mem0Ops = new Map<string, number>();
let mem0Memories = 0;
const tallies = new Map<string, Tally>();
for (const pipeline of names.filter((n) => n === 'mem0-v2' || n === 'add-only' || n === 'memory-r1')) {
  const t: Tally = { pairs: 0, agree: 0, confusion: new Map(), onlyMem0: 0, onlyOurs: 0, ops: new Map(), examples: [] };
  for (const sample of samples) {
    const real = banks('mem0', sample);
    const ours = banks(pipeline, sample);
    if (ours.size === 0) continue;
    for (const [event, r] of real) {
      const o = ours.get(event);
      if (!o) continue;
      const mem0Facts = r.ops.filter((x) => x.type === 'ADD' && x.text).map((x) => x.text!);
      const ourFacts = [...new Set(o.facts)];
      for (const f of ourFacts) t.ops.set(decisionOn(f, o), (t.ops.get(decisionOn(f, o)) ?? 0) + 1);
      // Greedy one-to-one pairing, most similar first.
      const cand: { i: number; j: number; s: number }[] = [];
      mem0Facts.forEach((m, i) => ourFacts.forEach((f, j) => cand.push({ i, j, s: similarity(m, f) })));
      cand.sort((a, b) => b.s - a.s);
      const usedI = new Set<number>();
      const usedJ = new Set<number>();
      for (const c of cand) {
        if (c.s < MATCH || usedI.has(c.i) || usedJ.has(c.j)) continue;
        usedI.add(c.i);
        usedJ.add(c.j);
        const ourOp = decisionOn(ourFacts[c.j], o);
        t.pairs++;
        const key = `ADD→${ourOp}`;
        t.confusion.set(key, (t.confusion.get(key) ?? 0) + 1);
        if (ourOp === 'ADD') t.agree++;
        else if (t.examples.length < 4) t.examples.push(`event ${event}: Mem0 ADD "${mem0Facts[c.i]}"; ${pipeline} ${ourOp} "${ourFacts[c.j]}"`);
      }
      t.onlyMem0 += mem0Facts.length - usedI.size;
      t.onlyOurs += ourFacts.length - usedJ.size;
    }
  }
  tallies.set(pipeline, t);
}
for (const sample of samples) {
  for (const r of banks('mem0', sample).values()) {
    for (const x of r.ops) mem0Ops.set(x.type, (mem0Ops.get(x.type) ?? 0) + 1);
    mem0Memories += r.ops.filter((x) => x.type === 'ADD').length;
  }
}

const answered = (name: string) => questions.filter((q) => q.pipeline === name);
const overall = (name: string, metric: string) => {
  const qs = answered(name).filter((q) => q.scores[metric] !== undefined);
  return qs.length ? qs.reduce((s, q) => s + q.scores[metric], 0) / qs.length : undefined;
};
const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : (x * 100).toFixed(1));
const gap = (name: string, metric: string) => {
  const a = overall(name, metric);
  const b = overall('mem0', metric);
  return a === undefined || b === undefined ? '—' : `${a - b >= 0 ? '+' : ''}${((a - b) * 100).toFixed(1)}`;
};
const fmtOps = (m: Map<string, number>) => [...m.entries()].sort().map(([k, v]) => `${k} ${v}`).join(', ') || '—';

console.log(`\nFaithfulness to the real mem0ai — ${dir}${partial ? ' (run not finished: scores over the questions answered so far)' : ''}`);
console.log(`samples ${samples.join(', ')}; max turns ${cfg.maxTurns ?? 'all'}, ${cfg.turnsPerEvent} turn(s) per event; model ${JSON.stringify(cfg.models)}; pairing threshold ${MATCH}\n`);
console.log('| pipeline | decisions on its facts | paired with Mem0 facts | agree with Mem0 % | disagreements (Mem0→ours) | Mem0-only facts | ours-only facts | questions | F1 (Mem0) | ΔF1 vs mem0 | J | ΔJ vs mem0 |');
console.log('|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| mem0 (real) | ${fmtOps(mem0Ops)} (${mem0Memories} memories) | — | — | — | — | — | ${answered('mem0').length} | ${pct(overall('mem0', 'mem0F1'))} | — | ${pct(overall('mem0', 'judge'))} | — |`);
for (const [name, t] of tallies) {
  const dis = [...t.confusion.entries()].filter(([k]) => k !== 'ADD→ADD').map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  console.log(
    `| ${name} | ${fmtOps(t.ops)} | ${t.pairs} | ${t.pairs ? pct(t.agree / t.pairs) : '—'} | ${dis} | ${t.onlyMem0} | ${t.onlyOurs} | ${answered(name).length} | ${pct(overall(name, 'mem0F1'))} | ${gap(name, 'mem0F1')} | ${pct(overall(name, 'judge'))} | ${gap(name, 'judge')} |`,
  );
}
for (const [name, t] of tallies) {
  if (t.examples.length) {
    console.log(`\n${name}, disagreements:`);
    for (const e of t.examples) console.log(`- ${e}`);
  }
}
