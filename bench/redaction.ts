// Redaction quality and speed: per-kind true/false positives on the labelled corpus, overall precision/recall
// at secret level, and throughput on a large mixed file. Run: npm run bench:redaction
import * as fs from 'node:fs';
import * as path from 'node:path';
import { redactSecrets, SECRET_PATTERNS } from '../src/core/privacy/redact';
import { parseCorpus, scoreRedaction } from '../src/core/privacy/evaluation';

const corpusPath = path.resolve('test/fixtures/redaction/corpus.jsonl');
const examples = parseCorpus(fs.readFileSync(corpusPath, 'utf8'));
const score = scoreRedaction(examples);

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const padL = (s: string | number, n: number) => String(s).padStart(n);

console.log(`Redaction corpus: ${examples.length} lines (${examples.filter((e) => e.secrets.length).length} with secrets, ${examples.filter((e) => !e.secrets.length).length} hard negatives), ${SECRET_PATTERNS.length} pattern kinds\n`);
console.log(`${pad('kind', 34)}${padL('TP', 5)}${padL('FN', 5)}${padL('FP', 5)}${padL('label ok', 10)}`);
console.log('-'.repeat(59));
const kinds = [...new Set([...SECRET_PATTERNS.map((p) => p.kind), ...score.perKind.keys()])];
for (const kind of kinds) {
  const k = score.perKind.get(kind) ?? { truePositives: 0, falseNegatives: 0, falsePositives: 0, labelledAsExpected: 0 };
  console.log(`${pad(kind, 34)}${padL(k.truePositives, 5)}${padL(k.falseNegatives, 5)}${padL(k.falsePositives, 5)}${padL(k.labelledAsExpected, 10)}`);
}
console.log('-'.repeat(59));
console.log(`${pad('total', 34)}${padL(score.truePositives, 5)}${padL(score.falseNegatives, 5)}${padL(score.falsePositives, 5)}`);
console.log(`\nsecrets ${score.secrets}  findings ${score.findings}`);
console.log(`precision ${score.precision.toFixed(4)}  recall ${score.recall.toFixed(4)}  kind accuracy ${score.kindAccuracy.toFixed(4)}  leaked ${score.leaked.length}`);
for (const m of score.missed) console.log(`  MISSED [${m.kind}] ${m.note}: ${JSON.stringify(m.secret).slice(0, 80)}\n     -> ${JSON.stringify(m.redacted).slice(0, 200)}`);
for (const s of score.spurious) console.log(`  FALSE POSITIVE [${s.kind}] ${s.note}: ${JSON.stringify(s.text).slice(0, 100)}`);

// Throughput: a large mixed file made of the corpus and ordinary source code, repeated.
// Ordinary code: the engine's own sources (not this privacy module, whose sources hold sample secrets on purpose).
const sourceFiles = ['src/core/bank', 'src/core/retrieval', 'src/core/agents', 'src/core/llm', 'src/core/capture']
  .filter((d) => fs.existsSync(d))
  .flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.ts')).map((f) => path.join(d, f)))
  .concat(['package.json', 'README.md'].filter((f) => fs.existsSync(f)));
const ordinary = sourceFiles.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
const corpusText = examples.map((e) => e.text).join('\n');
const unit = ordinary + '\n' + corpusText + '\n';
const targetChars = 8 * 1024 * 1024;
const big = unit.repeat(Math.ceil(targetChars / unit.length)).slice(0, targetChars);
const chunks: string[] = [];
for (let i = 0; i < big.length; i += 8000) chunks.push(big.slice(i, i + 8000));

function time(label: string, fn: () => number) {
  fn(); // warm up
  const runs = 3;
  const t0 = process.hrtime.bigint();
  let findings = 0;
  for (let i = 0; i < runs; i++) findings = fn();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9 / runs;
  const mb = big.length / (1024 * 1024);
  console.log(`${pad(label, 44)}${padL(mb.toFixed(1) + ' MB', 9)}${padL((mb / secs).toFixed(1) + ' MB/s', 13)}${padL(findings + ' findings', 16)}`);
}
console.log('\nThroughput (Node ' + process.versions.node + ')');
time('one call on the whole 8 MB-ish text (capped)', () => redactSecrets(big.slice(0, 4_000_000)).findings.length);
time('8000-char event chunks', () => chunks.reduce((n, c) => n + redactSecrets(c).findings.length, 0));
const plainCode = ordinary.repeat(Math.ceil(targetChars / ordinary.length)).slice(0, targetChars);
const plainChunks: string[] = [];
for (let i = 0; i < plainCode.length; i += 8000) plainChunks.push(plainCode.slice(i, i + 8000));
time('8000-char chunks of ordinary source only', () => plainChunks.reduce((n, c) => n + redactSecrets(c).findings.length, 0));

// False positives on real, secret-free code: this repository's sources plus some installed packages.
// Nothing here is labelled, so every finding is counted (a few may be genuine sample credentials in docs).
// Skips this module's own sources, tests and corpus, which hold synthetic secrets on purpose.
const SKIP_DIRS = new Set(['.git', '.cache', 'redaction', 'privacy']);
function walk(dir: string, out: string[]) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(p, out);
    } else if (/\.(ts|js|mjs|cjs|json|md|py|sh|ya?ml|toml|css|html)$/.test(e.name) && !e.name.startsWith('privacy.') && fs.statSync(p).size < 400_000) {
      out.push(p);
    }
  }
}
const realRoots = ['src', 'test', 'scripts', 'node_modules/openai', 'node_modules/vitest', 'node_modules/@vitest', 'node_modules/playwright-core/lib', 'node_modules/vectra'];
const realFiles: string[] = [];
for (const r of realRoots) walk(r, realFiles);
let realChars = 0;
const realFindings: string[] = [];
for (const f of realFiles) {
  const t = fs.readFileSync(f, 'utf8');
  realChars += t.length;
  for (const x of redactSecrets(t).findings) realFindings.push(`  ${f}: [${x.kind}] ${JSON.stringify(t.slice(Math.max(0, x.start - 30), x.end + 10)).slice(0, 120)}`);
}
console.log(`\nUnlabelled real code (${realRoots.filter((r) => fs.existsSync(r)).join(', ')}): ${realFiles.length} files, ${(realChars / 1048576).toFixed(1)} MB, ${realFindings.length} findings (${(realFindings.length / (realChars / 1048576)).toFixed(2)} per MB)`);
for (const line of realFindings.slice(0, 15)) console.log(line);
