// Freshness on real repositories replayed commit by commit: hand-labelled memories about a repository at a
// start commit are cited against its tree, then every first-parent commit up to the end is applied as the
// extension sees it (the paths the commit changed, renames said as moves), and the flags are compared with
// the labels (bench/fixtures/freshness/README.md). With --endpoint, each memory flagged on time is then
// reviewed by the Memory Manager and its answer compared with the label (rewrite with the new value, or
// retire). --speed times the check a save triggers on a 1,000-memory bank.
//
//   node scripts/run-ts.mjs bench/freshness.ts [--split dev|test|all] [--repos /work/.mirror] \
//     [--endpoint http://127.0.0.1:8089/v1 --model <name>] [--speed]
//
// Repositories: <repos>/<owner>+<name>/repo, a bare clone (e.g. `git clone --bare https://github.com/tj/commander.js
// <repos>/tj+commander.js/repo`). Baselines, run the same way: flag nothing; flag a memory whenever a file it cites
// changed (what a citation check without evidence kinds does).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { MemoryBank } from '../src/core/bank/memoryBank';
import { MemoryEngine } from '../src/core/engine';
import { createModels } from '../src/core/config';
import { HashingEmbedder } from '../src/core/embeddings/hashingEmbedder';
import { evidencePaths } from '../src/core/evidence/evidence';
import { FreshnessChecker, changeFact } from '../src/core/evidence/freshness';
import { FolderWorkspace, MAX_EVIDENCE_FILE_BYTES, type WorkspaceReader } from '../src/core/evidence/workspace';
import { parseArgs, flag } from '../src/cli/args';

const args = parseArgs(process.argv.slice(2), new Set(['speed']));
const split = flag(args, 'split') ?? 'dev';
const reposDir = path.resolve(flag(args, 'repos') ?? process.env.FRESHNESS_REPOS ?? '/work/.mirror');
const fixturesDir = path.resolve(flag(args, 'fixtures') ?? 'bench/fixtures/freshness');

interface Label {
  id: string;
  text: string;
  stale: null | { at: string; why: string; expect: 'rewrite' | 'retire'; mustContain?: string[] };
  note?: string;
}
interface Fixture {
  repo: string;
  split: 'dev' | 'test';
  start: string;
  end: string;
  memories: Label[];
}

function git(gitDir: string, argv: string[], maxBuffer = 64 * 1024 * 1024): string {
  return execFileSync('git', ['--git-dir', gitDir, ...argv], { encoding: 'utf8', maxBuffer, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** A repository's tree at one commit, read from git objects (no checkout). */
class GitTree implements WorkspaceReader {
  private files = new Set<string>();
  private dirs = new Set<string>();
  private texts = new Map<string, string | undefined>();
  readonly label: string;

  constructor(
    private readonly gitDir: string,
    readonly commit: string,
  ) {
    this.label = commit.slice(0, 10);
    for (const p of git(gitDir, ['ls-tree', '-r', '--name-only', '-z', commit]).split('\0')) {
      if (!p) continue;
      this.files.add(p);
      for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) this.dirs.add(p.slice(0, i));
    }
  }

  kind(p: string): 'file' | 'dir' | undefined {
    return this.files.has(p) ? 'file' : this.dirs.has(p) ? 'dir' : undefined;
  }

  read(p: string): string | undefined {
    if (!this.files.has(p)) return undefined;
    if (!this.texts.has(p)) {
      let text: string | undefined;
      try {
        text = git(this.gitDir, ['cat-file', '-p', `${this.commit}:${p}`]);
      } catch {
        text = undefined;
      }
      this.texts.set(p, text !== undefined && text.length <= MAX_EVIDENCE_FILE_BYTES ? text : undefined);
    }
    return this.texts.get(p);
  }
}

/** What one commit changed, against its first parent: paths (old and new) and renames. */
function commitChanges(gitDir: string, commit: string): { paths: string[]; renames: Map<string, string> } {
  const out = git(gitDir, ['diff-tree', '-r', '-M', '--name-status', '-z', '--no-commit-id', `${commit}^`, commit]).split('\0').filter(Boolean);
  const paths: string[] = [];
  const renames = new Map<string, string>();
  for (let i = 0; i < out.length; ) {
    const status = out[i++];
    if (status.startsWith('R') || status.startsWith('C')) {
      const from = out[i++];
      const to = out[i++];
      paths.push(from, to);
      if (status.startsWith('R')) renames.set(from, to);
    } else paths.push(out[i++]);
  }
  return { paths, renames };
}

interface RepoResult {
  repo: string;
  commits: number;
  memories: number;
  stale: number;
  cited: number;
  /** Per policy: stale memories flagged at the labelled commit, flags on memories that were not stale then, memories wrongly flagged. */
  policies: Record<string, { onTime: number; late: number; flags: number; falseFlags: number; falselyFlagged: Set<string> }>;
  /** Memories flagged on time, with what the check said (for the review pass). */
  onTimeFlags: { label: Label; changes: string[]; gone: boolean; index: number; context: string }[];
  falseFlagDetails: { label: Label; changes: string[]; gone: boolean; commit: string; context: string }[];
  missed: { label: Label; flaggedAt?: string }[];
  checkMs: number[];
}

async function replay(fx: Fixture): Promise<RepoResult> {
  const gitDir = path.join(reposDir, fx.repo.replace('/', '+'), 'repo');
  if (!fs.existsSync(gitDir)) throw new Error(`${fx.repo}: no bare clone at ${gitDir} (git clone --bare https://github.com/${fx.repo} ${gitDir})`);
  const commits = git(gitDir, ['rev-list', '--first-parent', '--reverse', `${fx.start}..${fx.end}`]).split('\n').filter(Boolean);
  const index = new Map(commits.map((c, i) => [c, i]));
  for (const m of fx.memories) if (m.stale && !index.has(m.stale.at)) throw new Error(`${fx.repo} ${m.id}: stale.at ${m.stale.at} is not on the first-parent line start..end`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-fresh-bench-'));
  const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(256), watchIntervalMs: 0 });
  try {
    const idOf = new Map<string, Label>();
    for (const m of fx.memories) idOf.set((await bank.addManual(m.text)).memoryId, m);
    const checker = new FreshnessChecker(bank);
    const startTree = new GitTree(gitDir, fx.start);
    await checker.cite(startTree);
    const citedPaths = new Map<string, Set<string>>();
    for (const id of idOf.keys()) citedPaths.set(id, new Set((checker.ledger.state(id)?.evidence ?? []).flatMap(evidencePaths)));
    const result: RepoResult = {
      repo: fx.repo,
      commits: commits.length,
      memories: fx.memories.length,
      stale: fx.memories.filter((m) => m.stale).length,
      cited: [...citedPaths.values()].filter((s) => s.size).length,
      policies: {},
      onTimeFlags: [],
      falseFlagDetails: [],
      missed: [],
      checkMs: [],
    };
    const policy = (name: string) => (result.policies[name] ??= { onTime: 0, late: 0, flags: 0, falseFlags: 0, falselyFlagged: new Set() });
    for (const name of ['evidence', 'cited file changed', 'flag nothing']) policy(name);
    const firstFlag = new Map<string, Map<string, number>>();
    const record = (name: string, id: string, i: number) => {
      const label = idOf.get(id)!;
      const p = policy(name);
      p.flags++;
      const staleAt = label.stale ? index.get(label.stale.at)! : Infinity;
      if (i < staleAt) {
        p.falseFlags++;
        p.falselyFlagged.add(id);
      }
      const firsts = firstFlag.get(name) ?? new Map<string, number>();
      firstFlag.set(name, firsts);
      if (!firsts.has(id) && i >= staleAt) firsts.set(id, i);
    };
    for (let i = 0; i < commits.length; i++) {
      const { paths, renames } = commitChanges(gitDir, commits[i]);
      const tree = new GitTree(gitDir, commits[i]);
      const started = performance.now();
      // What the extension passes when HEAD moves: the commit's subject, for the manager's review.
      const context = git(gitDir, ['log', '-1', '--format=%s', commits[i]]).trim();
      const report = await checker.check(tree, { paths, renames, context });
      result.checkMs.push(performance.now() - started);
      for (const f of report.flagged) {
        if (!idOf.has(f.memoryId)) continue;
        record('evidence', f.memoryId, i);
        const label = idOf.get(f.memoryId)!;
        if (label.stale && index.get(label.stale.at) === i) result.onTimeFlags.push({ label, changes: f.changes, gone: f.gone, index: i, context });
        if (!label.stale || i < index.get(label.stale.at)!) result.falseFlagDetails.push({ label, changes: f.changes, gone: f.gone, commit: commits[i], context });
      }
      // The baseline: any change to a path the memory cites flags it (each commit once per memory).
      const changed = new Set(paths);
      for (const [id, cited] of citedPaths) if ([...cited].some((p) => changed.has(p))) record('cited file changed', id, i);
    }
    for (const [name, p] of Object.entries(result.policies)) {
      const firsts = firstFlag.get(name) ?? new Map();
      for (const [id, label] of idOf) {
        if (!label.stale) continue;
        const at = firsts.get(id);
        if (at === index.get(label.stale.at)) p.onTime++;
        else if (at !== undefined) p.late++;
        if (name === 'evidence' && at !== index.get(label.stale.at)) result.missed.push({ label, flaggedAt: at !== undefined ? commits[at] : undefined });
      }
    }
    return result;
  } finally {
    await bank.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The manager's review of each memory flagged on time (rewrite/retire expected) and each false flag (keep expected). */
async function reviewFlags(results: { fx: Fixture; r: RepoResult }[], endpoint: string, model: string): Promise<{ correct: number; total: number; kept: number; falseTotal: number; lines: string[] }> {
  const models = createModels({ baseURL: endpoint, models: { extractor: model, manager: model, answer: model }, timeoutMs: 600_000, maxRetries: 1 });
  let correct = 0;
  let total = 0;
  let kept = 0;
  let falseTotal = 0;
  const lines: string[] = [];
  const ask = async (text: string, changes: string[], gone: boolean, context: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-fresh-review-'));
    const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(256), watchIntervalMs: 0 });
    try {
      const engine = new MemoryEngine({ bank, ...models, options: { temperature: 0 } });
      const id = (await bank.addManual(text)).memoryId;
      const res = await engine.reviewMemory(id, changeFact(changes, context), { gone });
      const now = bank.get(id)!;
      const rewritten = now.supersededBy ? bank.get(now.supersededBy)?.text : undefined;
      return { decision: res.decision, rewritten };
    } finally {
      await bank.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  for (const { r } of results) {
    for (const f of r.onTimeFlags) {
      const s = f.label.stale!;
      const got = await ask(f.label.text, f.changes, f.gone, f.context);
      const ok =
        s.expect === 'retire'
          ? got.decision === 'RETIRE'
          : got.decision === 'REWRITE' && !!got.rewritten && (s.mustContain ?? []).every((w) => got.rewritten!.toLowerCase().includes(w.toLowerCase()));
      total++;
      if (ok) correct++;
      lines.push(`${ok ? 'ok  ' : 'MISS'} ${r.repo} ${f.label.id} expect ${s.expect}${s.mustContain ? ` [${s.mustContain.join(', ')}]` : ''}: ${got.decision}${got.rewritten ? ` "${got.rewritten}"` : ''}  (change: ${f.changes.join('; ')} | commit: ${f.context})`);
    }
    for (const f of r.falseFlagDetails) {
      const got = await ask(f.label.text, f.changes, f.gone, f.context);
      falseTotal++;
      if (got.decision === 'KEEP') kept++;
      lines.push(`${got.decision === 'KEEP' ? 'kept' : 'LOST'} ${r.repo} ${f.label.id} (false flag: ${f.changes.join('; ')}): ${got.decision}${got.rewritten ? ` "${got.rewritten}"` : ''}`);
    }
  }
  return { correct, total, kept, falseTotal, lines };
}

const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '—');
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : 0;
}

/** The check a save triggers, timed on a 1,000-memory bank citing this repository's own files. */
async function speed(): Promise<void> {
  const root = process.cwd();
  const files = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter((f) => f && fs.existsSync(f) && fs.statSync(f).size < 200_000);
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
  const scripts = Object.keys(pkg.scripts);
  const deps = Object.keys(pkg.devDependencies);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-fresh-speed-'));
  const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(256), watchIntervalMs: 0 });
  try {
    const texts: string[] = [];
    for (let i = 0; texts.length < 1000; i++) {
      const f = files[(i * 7919) % files.length];
      const kind = i % 4;
      texts.push(
        kind === 0
          ? `Memory ${i}: the code for this lives in ${f}.`
          : kind === 1
            ? `Memory ${i}: run npm run ${scripts[i % scripts.length]} before pushing.`
            : kind === 2
              ? `Memory ${i}: we depend on ${deps[i % deps.length]} for this.`
              : `Memory ${i}: a decision with nothing to check (${i}).`,
      );
    }
    for (const t of texts) await bank.addManual(t);
    const checker = new FreshnessChecker(bank);
    const ws = new FolderWorkspace(root);
    const citeStart = performance.now();
    await checker.cite(ws);
    const citeMs = performance.now() - citeStart;
    const saveMs: number[] = [];
    for (let i = 0; i < 300; i++) {
      const f = i % 10 === 0 ? 'package.json' : files[(i * 104729) % files.length];
      const t = performance.now();
      await checker.check(ws, { paths: [f] });
      saveMs.push(performance.now() - t);
    }
    const fullStart = performance.now();
    const full = await checker.check(ws, { limit: 500 });
    const fullMs = performance.now() - fullStart;
    console.log(`\nValidation cost, 1,000 memories citing ${files.length} files of this repository (${checker.ledger.cited().length} with evidence), real files on disk:`);
    console.log('| what | p50 ms | p95 ms | max ms |');
    console.log('|---|---|---|---|');
    console.log(`| check after one save (300 saves, every 10th package.json) | ${percentile(saveMs, 50).toFixed(2)} | ${percentile(saveMs, 95).toFixed(2)} | ${Math.max(...saveMs).toFixed(2)} |`);
    console.log(`| first citation of all 1,000 (once per memory) | ${citeMs.toFixed(0)} total | | |`);
    console.log(`| one slice of a full check (HEAD moved; ${full.checked} memories) | ${fullMs.toFixed(1)} total | | |`);
  } finally {
    await bank.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const fixtures = fs
    .readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(fixturesDir, f), 'utf8')) as Fixture)
    .filter((fx) => split === 'all' || fx.split === split);
  const results: { fx: Fixture; r: RepoResult }[] = [];
  for (const fx of fixtures) {
    process.stderr.write(`replaying ${fx.repo} ...\n`);
    results.push({ fx, r: await replay(fx) });
  }
  const memories = results.reduce((n, x) => n + x.r.memories, 0);
  const stale = results.reduce((n, x) => n + x.r.stale, 0);
  const notStale = memories - stale;
  console.log(`\nFreshness, split ${split}: ${results.length} repositories, ${results.reduce((n, x) => n + x.r.commits, 0)} commits replayed, ${memories} memories (${stale} become stale; ${results.reduce((n, x) => n + x.r.cited, 0)} cite something).`);
  console.log('| policy | stale flagged on time | flagged late | flags | false flags (share of flags) | memories falsely flagged (of never-stale-yet) |');
  console.log('|---|---|---|---|---|---|');
  for (const name of ['evidence', 'cited file changed', 'flag nothing']) {
    const sum = (k: 'onTime' | 'late' | 'flags' | 'falseFlags') => results.reduce((n, x) => n + x.r.policies[name][k], 0);
    const wrong = results.reduce((n, x) => n + x.r.policies[name].falselyFlagged.size, 0);
    console.log(`| ${name} | ${sum('onTime')}/${stale} = ${pct(sum('onTime'), stale)} | ${sum('late')} | ${sum('flags')} | ${sum('falseFlags')} = ${pct(sum('falseFlags'), sum('flags'))} | ${wrong}/${notStale + stale} = ${pct(wrong, memories)} |`);
  }
  console.log('\nPer repository (evidence): on time / stale, false flags');
  for (const { r } of results) console.log(`  ${r.repo.padEnd(22)} ${r.commits} commits  ${r.policies.evidence.onTime}/${r.stale}  false ${r.policies.evidence.falseFlags}  check p95 ${percentile(r.checkMs, 95).toFixed(1)} ms`);
  console.log('\nStale memories not flagged on time:');
  for (const { r } of results) for (const m of r.missed) console.log(`  ${r.repo} ${m.label.id} "${m.label.text}" (${m.label.stale!.why})${m.flaggedAt ? ` flagged later at ${m.flaggedAt.slice(0, 10)}` : ''}`);
  console.log('\nFalse flags:');
  for (const { r } of results) for (const f of r.falseFlagDetails) console.log(`  ${r.repo} ${f.label.id} "${f.label.text}" at ${f.commit.slice(0, 10)}: ${f.changes.join('; ')}`);
  const endpoint = flag(args, 'endpoint');
  if (endpoint) {
    const rv = await reviewFlags(results, endpoint, flag(args, 'model') ?? 'default');
    console.log(`\nReview by the Memory Manager (${flag(args, 'model') ?? 'default'}): correct updates ${rv.correct}/${rv.total} = ${pct(rv.correct, rv.total)}; false flags kept ${rv.kept}/${rv.falseTotal} = ${pct(rv.kept, rv.falseTotal)}`);
    for (const l of rv.lines) console.log(`  ${l}`);
  }
  if (args.flags.get('speed') === true) await speed();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
