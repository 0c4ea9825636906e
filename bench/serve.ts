// Serving speed of `memory-r1 serve` on the demo's call mix, per role (extraction, manager, answer).
//
//   node scripts/run-ts.mjs bench/serve.ts [--model <gguf>] [--configs old,new] [--limit N] [--requests <file>]
//   node scripts/run-ts.mjs bench/serve.ts --capture [--model <gguf>]   re-record the demo's requests
//
// The requests are those `memory-r1 demo` sends for examples/project-history.jsonl, recorded through a
// proxy (bench/fixtures/demo-requests.jsonl, made by --capture with the 1.5B model, so the manager and
// answer prompts carry what that model extracted). Each configuration starts a fresh server and replays
// them one after another, as the demo does. Configurations (comma-separated --configs):
//   old            one context sequence and cores − 1 threads: the server before prefix reuse
//   new            4 sequences (each system prompt keeps its evaluated prefix) and the default threads
//   seqN / tN      N sequences / N threads on top of "new", e.g. t1,t2 to measure threads
//   nogrammar      "new" without response_format: what grammar-constrained JSON costs
//   lookup         "new" with prompt-lookup decoding (--input-lookup)
// Prints per role: calls, prompt tokens, prompt tokens evaluated (the rest came from a kept prefix),
// prompt tokens/s, generated tokens, generated tokens/s, latency p50 / p95; and each run's wall time.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startModelServer, defaultThreads } from '../src/server/llamaServer';
import { findInstalledModel, modelSearchDirs } from '../src/core/models/modelStore';
import { ALL_MINILM_L6_V2, DEFAULT_CHAT_MODEL } from '../src/core/models/catalog';
import { ANSWER_SYSTEM, EXTRACTION_SYSTEM, MANAGER_SYSTEM } from '../src/core/agents/prompts';

// Run from the repository root (npm run bench:serve); the bundle itself lives in .cache/run-ts.
const ROOT = process.cwd();
const REQUESTS_FILE = path.join(ROOT, 'bench', 'fixtures', 'demo-requests.jsonl');

type Role = 'extraction' | 'manager' | 'answer' | 'other';
interface Recorded {
  role: Role;
  body: Record<string, unknown> & { messages: { role: string; content: string }[] };
}
interface Sample {
  role: Role;
  latencyMs: number;
  promptTokens: number;
  cached: number;
  promptMs: number;
  generated: number;
  predictedMs: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function roleOf(messages: { role: string; content: string }[]): Role {
  const system = messages.find((m) => m.role === 'system')?.content;
  if (system === EXTRACTION_SYSTEM) return 'extraction';
  if (system === MANAGER_SYSTEM) return 'manager';
  if (system === ANSWER_SYSTEM) return 'answer';
  return 'other';
}

function chatModelPath(): string {
  const given = arg('--model');
  if (given) return given;
  const found = findInstalledModel(DEFAULT_CHAT_MODEL, modelSearchDirs());
  if (!found) throw new Error(`${DEFAULT_CHAT_MODEL.id} is not installed: run bash scripts/setup-models.sh demo (or pass --model <file.gguf>).`);
  return found;
}

/** Runs the demo against a proxy in front of a fresh server and records every chat completion request. */
async function capture(modelPath: string, outFile: string): Promise<void> {
  const embPath = findInstalledModel(ALL_MINILM_L6_V2, modelSearchDirs());
  const server = await startModelServer({ modelPath, port: 0, gpu: false, embeddingModelPath: embPath && path.dirname(embPath) });
  const upstream = new URL(server.url);
  const recorded: Recorded[] = [];
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.url?.endsWith('/chat/completions')) {
        const body = JSON.parse(raw.toString('utf8'));
        recorded.push({ role: roleOf(body.messages), body });
      }
      const up = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      up.on('error', (e) => res.destroy(e));
      up.end(raw);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1`;
  const { demoCommand } = await import('../src/cli/commands/demo');
  const { parseArgs } = await import('../src/cli/args');
  const bank = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-serve-'));
  const history = path.join(ROOT, 'examples', 'project-history.jsonl');
  const argv = ['--endpoint', proxyUrl, '--model', server.model, '--bank', bank, '--history', history];
  if (server.embeddingModel) argv.push('--embedding-model', server.embeddingModel);
  const started = Date.now();
  await demoCommand.run(parseArgs(argv), { out: (l) => console.log(l), err: (l) => console.error(l) });
  console.log(`\ndemo took ${((Date.now() - started) / 1000).toFixed(0)} s; ${recorded.length} chat requests recorded`);
  proxy.close();
  await server.close();
  fs.rmSync(bank, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, recorded.map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.log(`wrote ${outFile}`);
}

interface Config {
  label: string;
  sequences: number;
  threads: number;
  grammar: boolean;
  lookup: boolean;
}

function parseConfig(name: string): Config {
  const cores = os.availableParallelism();
  if (name === 'old') return { label: `old: 1 sequence, ${Math.max(1, cores - 1)} thread(s)`, sequences: 1, threads: Math.max(1, cores - 1), grammar: true, lookup: false };
  const c: Config = { label: '', sequences: 4, threads: defaultThreads(), grammar: true, lookup: false };
  for (const part of name.split('+')) {
    if (part === 'new') continue;
    else if (part === 'nogrammar') c.grammar = false;
    else if (part === 'lookup') c.lookup = true;
    else if (/^seq\d+$/.test(part)) c.sequences = Number(part.slice(3));
    else if (/^t\d+$/.test(part)) c.threads = Number(part.slice(1));
    else throw new Error(`unknown configuration "${part}" (old, new, seqN, tN, nogrammar, lookup; join with +)`);
  }
  c.label = `${name === 'new' ? 'new' : name}: ${c.sequences} sequence${c.sequences === 1 ? '' : 's'}, ${c.threads} thread${c.threads === 1 ? '' : 's'}${c.grammar ? '' : ', no grammar'}${c.lookup ? ', input lookup' : ''}`;
  return c;
}

async function replay(modelPath: string, cfg: Config, requests: Recorded[]): Promise<{ samples: Sample[]; wallMs: number; loadMs: number; cpuMs: number }> {
  const t0 = performance.now();
  const server = await startModelServer({ modelPath, port: 0, gpu: false, sequences: cfg.sequences, threads: cfg.threads, inputLookup: cfg.lookup });
  const loadMs = performance.now() - t0;
  const samples: Sample[] = [];
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    for (const [i, r] of requests.entries()) {
      const body: Record<string, unknown> = { ...r.body, model: server.model, stream: false };
      delete body.stream_options;
      if (!cfg.grammar) delete body.response_format;
      const t = performance.now();
      const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as {
        usage?: { prompt_tokens: number; completion_tokens: number };
        timings?: { cache_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number };
        error?: { message: string };
      };
      if (!res.ok || !json.usage || !json.timings) throw new Error(`request ${i + 1} (${r.role}) failed: ${res.status} ${json.error?.message ?? ''}`);
      const s: Sample = {
        role: r.role,
        latencyMs: performance.now() - t,
        promptTokens: json.usage.prompt_tokens,
        cached: json.timings.cache_n,
        promptMs: json.timings.prompt_ms,
        generated: json.usage.completion_tokens,
        predictedMs: json.timings.predicted_ms,
      };
      samples.push(s);
      process.stderr.write(
        `  [${cfg.label}] ${i + 1}/${requests.length} ${r.role}: ${s.promptTokens} prompt tokens (${s.cached} kept), ${s.generated} generated, ${(s.latencyMs / 1000).toFixed(1)} s\n`,
      );
    }
  } finally {
    await server.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return { samples, wallMs: performance.now() - start, loadMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function pct(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function table(results: { cfg: Config; samples: Sample[]; wallMs: number; loadMs: number; cpuMs: number }[]): string {
  const head = ['configuration', 'role', 'calls', 'prompt tok', 'evaluated', 'prompt tok/s', 'gen tok', 'gen tok/s', 'p50 s', 'p95 s'];
  const rows: string[][] = [];
  for (const { cfg, samples } of results) {
    for (const role of ['extraction', 'manager', 'answer', 'other', 'all'] as const) {
      const ss = role === 'all' ? samples : samples.filter((s) => s.role === role);
      if (!ss.length) continue;
      const evaluated = sum(ss.map((s) => s.promptTokens - s.cached));
      // Generation rate excludes each call's first token, which is timed with the prompt.
      const genTokens = sum(ss.map((s) => Math.max(0, s.generated - 1)));
      rows.push([
        cfg.label,
        role,
        String(ss.length),
        (sum(ss.map((s) => s.promptTokens)) / ss.length).toFixed(0),
        (evaluated / ss.length).toFixed(0),
        (evaluated / (sum(ss.map((s) => s.promptMs)) / 1000)).toFixed(0),
        (sum(ss.map((s) => s.generated)) / ss.length).toFixed(0),
        (genTokens / (sum(ss.map((s) => s.predictedMs)) / 1000)).toFixed(1),
        (pct(ss.map((s) => s.latencyMs), 50) / 1000).toFixed(1),
        (pct(ss.map((s) => s.latencyMs), 95) / 1000).toFixed(1),
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const out = [line(head), `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...rows.map(line)];
  out.push('');
  // CPU time the process got per second of wall time: below the thread count, other work took the cores.
  for (const { cfg, wallMs, loadMs, cpuMs } of results) {
    out.push(`${cfg.label}: all calls ${(wallMs / 1000).toFixed(0)} s (model load ${(loadMs / 1000).toFixed(1)} s); CPU ${(cpuMs / wallMs).toFixed(2)} cores on average`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const modelPath = chatModelPath();
  const file = arg('--requests') ?? REQUESTS_FILE;
  if (process.argv.includes('--capture')) return capture(modelPath, file);
  let requests: Recorded[] = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Recorded);
  const limit = Number(arg('--limit') ?? 0);
  if (limit > 0) requests = requests.slice(0, limit);
  const configs = (arg('--configs') ?? 'old,new').split(',').map(parseConfig);
  const counts = requests.reduce<Record<string, number>>((m, r) => ((m[r.role] = (m[r.role] ?? 0) + 1), m), {});
  console.log(`model ${path.basename(modelPath)}; ${requests.length} requests from ${path.relative(process.cwd(), file)} (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}); ${os.availableParallelism()} cores`);
  const results = [];
  for (const cfg of configs) results.push({ cfg, ...(await replay(modelPath, cfg, requests)) });
  console.log('\n' + table(results));
}

main().catch((e) => {
  console.error(`bench/serve: ${(e as Error).message}`);
  process.exit(1);
});
