// Mem0's four known failure cases (bench/fixtures/mem0-failures.ts) on this engine with a real model: each
// case seeds a fresh bank on disk, sends the fact through MemoryEngine.remember (manager, rules, fallback),
// and checks that the fact is kept and that the memories it must not touch are still active and unchanged.
//
//   node dist/cli.js serve --model /path/to/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --port 8090 &
//   node scripts/run-ts.mjs bench/mem0-failures.ts --endpoint http://127.0.0.1:8090/v1 --model <name> \
//     [--protocol per-fact,paper]
//
// The scripted versions (the exact bad outputs Mem0 acted on) are test/integration/manager.mem0Failures.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../src/core/bank/memoryBank';
import { MemoryEngine } from '../src/core/engine';
import { HashingEmbedder } from '../src/core/embeddings/hashingEmbedder';
import { OpenAIChatModel } from '../src/core/llm/openaiChatModel';
import type { ChatModel, ChatRequest, ChatResponse } from '../src/core/llm/chatModel';
import { holdsFact } from '../src/core/eval/factOverlap';
import type { ManagerProtocol } from '../src/core/agents/prompts';
import { MEM0_FAILURE_CASES } from './fixtures/mem0-failures';
import { flag } from './argv';

const endpoint = flag('endpoint') ?? process.env.MEMORY_R1_BASE_URL;
const model = flag('model') ?? process.env.MEMORY_R1_MODEL;
if (!endpoint || !model) {
  console.error('usage: node scripts/run-ts.mjs bench/mem0-failures.ts --endpoint <url> --model <name> [--protocol per-fact,paper]');
  process.exit(2);
}
const protocols = (flag('protocol') ?? 'per-fact,paper').split(',') as ManagerProtocol[];

/** Counts the calls that reach the model, and keeps the last output. */
class Counting implements ChatModel {
  calls = 0;
  outputs: string[] = [];
  constructor(private readonly inner: ChatModel) {}
  get name() {
    return this.inner.name;
  }
  async complete(req: ChatRequest): Promise<ChatResponse> {
    this.calls++;
    const r = await this.inner.complete(req);
    this.outputs.push(r.text);
    return r;
  }
  stream(req: ChatRequest, onDelta: (d: string) => void): Promise<ChatResponse> {
    this.calls++;
    return this.inner.stream(req, onDelta);
  }
}

interface Row {
  id: string;
  protocol: string;
  called: number;
  decision: string;
  kept: boolean;
  untouched: boolean;
  pass: boolean;
  ms: number;
  output: string;
}

async function main(): Promise<void> {
const rows: Row[] = [];
for (const protocol of protocols) {
  for (const c of MEM0_FAILURE_CASES) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-mem0-failures-'));
    const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(384), watchIntervalMs: 0 });
    try {
      const ids = new Map<string, string>();
      for (const m of c.memories) ids.set(m, (await bank.addManual(m)).memoryId);
      const manager = new Counting(new OpenAIChatModel({ baseURL: endpoint!, model: model!, maxRetries: 1, timeoutMs: 300_000 }));
      const unused = new OpenAIChatModel({ baseURL: endpoint!, model: model!, maxRetries: 0, timeoutMs: 1000 });
      const engine = new MemoryEngine({ bank, extractor: unused, manager, answerer: unused, options: { managerProtocol: protocol } });
      const started = performance.now();
      const r = await engine.remember(c.fact, { kind: 'manual' });
      const ms = performance.now() - started;
      const active = bank.list().items.filter((m) => m.status === 'active');
      const kept = active.some((m) => holdsFact(m.text, c.fact).ok);
      const untouched = c.untouched.every((t) => bank.get(ids.get(t)!)?.status === 'active' && bank.get(ids.get(t)!)?.text === t);
      const decision = r.operations
        .filter((o) => !o.rejected)
        .map((o) => `${o.type}${o.memoryId && ids.get(c.mayReplace ?? '') === (o.supersededId ?? o.memoryId) ? ' (the related memory)' : ''}`)
        .join(' + ');
      const refused = r.operations.filter((o) => o.rejected).map((o) => o.rejected);
      rows.push({
        id: c.id,
        protocol,
        called: manager.calls,
        decision: decision + (refused.length ? `; refused: ${refused.join('; ')}` : ''),
        kept,
        untouched,
        pass: kept && untouched,
        ms,
        output: (manager.outputs.at(-1) ?? '').replace(/\s+/g, ' ').slice(0, 160),
      });
    } finally {
      await bank.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

console.log(`\nMem0's failure cases on this engine — model ${model} at ${endpoint}\n`);
console.log('| case | protocol | model calls | decision (after the rules) | fact kept | others untouched | pass | s |');
console.log('|---|---|---:|---|:-:|:-:|:-:|---:|');
for (const r of rows) {
  console.log(`| ${r.id} | ${r.protocol} | ${r.called} | ${r.decision} | ${r.kept ? 'yes' : 'NO'} | ${r.untouched ? 'yes' : 'NO'} | ${r.pass ? 'pass' : 'FAIL'} | ${(r.ms / 1000).toFixed(1)} |`);
}
console.log('\nModel outputs (last call per case):');
for (const r of rows) console.log(`- ${r.id} ${r.protocol}: ${r.output || '(no call)'}`);
const failed = rows.filter((r) => !r.pass).length;
console.log(`\n${rows.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
