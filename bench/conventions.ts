// The convention benchmark: do the conventions a team states in conversation reach the code an agent writes?
// 20 multi-session conversations written for this project (bench/fixtures/conventions/, split dev/test by
// conversation): small talk with conventions stated and some changed, then coding tasks whose code is checked
// by AST rules (names, decorators, imports, docstrings, annotations, exports) in Python and TypeScript.
// Conditions, same model: no memory; the whole conversation history in the prompt; the memory as delivered
// (the generated instruction section, built by the engine from the conversation). Also scores the bank:
// conventions delivered that are current (active precision), replaced rules still active, recall.
//
//   node scripts/run-ts.mjs bench/conventions.ts --endpoint http://127.0.0.1:8089/v1 --model <id> [--split test|dev|all] [--only c06,c07]
//   node scripts/run-ts.mjs bench/conventions.ts --report [--split test]     (the table from saved results)
//   node scripts/run-ts.mjs bench/conventions.ts --extract-only --split dev ...  (extraction alone: facts, kinds, precision)
// Model answers are cached in .cache/conventions/llm-cache.jsonl: a rerun asks only what changed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../src/core/bank/memoryBank';
import { MemoryEngine } from '../src/core/engine';
import { createEmbedder, createModels } from '../src/core/config';
import type { Embedder } from '../src/core/embeddings/embedder';
import { renderInstructionSection } from '../src/core/conventions/instructions';
import type { MemoryKind } from '../src/core/kinds';
import type { Memory } from '../src/core/types';
import type { ChatModel } from '../src/core/llm/chatModel';
import { extractFactsFromText } from '../src/core/agents/extraction';
import { CachedChatModel, loadCache } from './llmCache';
import { statesLabel } from '../src/core/eval/bankQuality';
import { INSTRUCTION_KINDS } from '../src/core/kinds';
import { CONDITIONS, type BankScore, type Condition, type Conversation, type Task, checkAnswers, loadConversations, scoreConventionBank, sessionText, taskMessages } from './conventions/benchmark';
import { flag, has } from './argv';

interface TaskResult {
  task: string;
  condition: Condition;
  answer: string;
  /** Per convention of the task: followed (all its checks pass), and why not. */
  conventions: { id: string; ok: boolean; why: string[] }[];
  ms: number;
}

interface ConversationResult {
  conversation: string;
  split: 'dev' | 'test';
  model: string;
  bank: BankScore;
  section: string;
  memories: { text: string; kind?: string; status: string }[];
  tasks: TaskResult[];
  ingestMs: number;
}

const resultsDir = path.resolve(flag('results') ?? '.cache/conventions');

/** Extraction alone, session by session: every fact with its kind and whether it states a labelled convention. */
async function extractOnly(conversations: Conversation[], extractor: ChatModel): Promise<void> {
  let facts = 0;
  let instruction = 0;
  let instructionCurrent = 0;
  let current = 0;
  let found = 0;
  for (const c of conversations) {
    const texts: string[] = [];
    console.log(`${c.id}`);
    for (const s of c.sessions) {
      const r = await extractFactsFromText(extractor, sessionText(s), { eventTime: s.date });
      r.facts.forEach((f, i) => {
        const kind = r.kinds[i];
        const conv = c.conventions.find((x) => statesLabel(f, x.match, x.exclude));
        console.log(`  ${(kind ?? '-').padEnd(12)} ${conv ? `[${conv.status === 'current' ? 'CUR' : 'OLD'} ${conv.id}]` : '[-]'} ${f}`);
        facts++;
        if (kind && INSTRUCTION_KINDS.includes(kind)) {
          instruction++;
          if (conv?.status === 'current') instructionCurrent++;
        }
      });
      texts.push(...r.facts);
    }
    const cur = c.conventions.filter((x) => x.status === 'current');
    current += cur.length;
    found += cur.filter((x) => texts.some((t) => statesLabel(t, x.match, x.exclude))).length;
  }
  console.log(`\n${facts} facts; ${instruction} of a delivered kind, ${instructionCurrent} of them state a current convention (${((100 * instructionCurrent) / Math.max(1, instruction)).toFixed(1)}%); current conventions stated by some fact: ${found}/${current}`);
}

async function runConversation(c: Conversation, model: string, models: { extractor: ChatModel; manager: ChatModel; answerer: ChatModel }, embedder: Embedder, log: (l: string) => void): Promise<ConversationResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-conventions-'));
  const bank = await MemoryBank.open(dir, { embedder, watchIntervalMs: 0 });
  try {
    const engine = new MemoryEngine({ bank, ...models, options: { recordTrajectories: false } });
    const extracted: { text: string; kind?: MemoryKind }[] = [];
    const t0 = Date.now();
    for (const [i, s] of c.sessions.entries()) {
      const r = await engine.ingest({ id: `${c.id}:s${i + 1}`, source: { kind: 'dialogue', ref: `${c.id}:s${i + 1}` }, text: sessionText(s), time: s.date, eventTime: s.date });
      if (r.unusable) log(`    session ${i + 1}: ${r.unusable}`);
      r.facts.forEach((text, k) => extracted.push({ text, kind: r.kinds?.[k] }));
      log(`    session ${i + 1}: ${r.facts.length} facts, ${r.operations.map((o) => o.type).join(' ') || 'nothing'}`);
    }
    const ingestMs = Date.now() - t0;
    const memories = bank.list({ status: 'all' }).items;
    const section = renderInstructionSection(memories).text;
    const bankScore = scoreConventionBank(c, memories, extracted);
    const answers: { task: Task; condition: Condition; answer: string; ms: number }[] = [];
    for (const task of c.tasks) {
      for (const condition of CONDITIONS) {
        const t = Date.now();
        const res = await (models.answerer as ChatModel).complete({ messages: taskMessages(condition, c, task, section), temperature: 0, maxTokens: 450 });
        answers.push({ task, condition, answer: res.text, ms: Date.now() - t });
      }
    }
    const checked = checkAnswers(c, answers);
    const tasks = answers.map((a, i) => ({ task: a.task.id, condition: a.condition, answer: a.answer, conventions: checked[i], ms: a.ms }));
    return {
      conversation: c.id,
      split: c.split,
      model,
      bank: bankScore,
      section,
      memories: memories.map((m) => ({ text: m.text, kind: m.kind, status: m.status })),
      tasks,
      ingestMs,
    };
  } finally {
    await bank.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '–');

function report(results: ConversationResult[], split: string): void {
  const rs = results.filter((r) => split === 'all' || r.split === split);
  if (!rs.length) {
    console.log(`No saved results for the ${split} split in ${resultsDir}.`);
    return;
  }
  const model = [...new Set(rs.map((r) => r.model))].join(', ');
  console.log(`\nConvention benchmark, ${split} split: ${rs.length} conversations (${rs.map((r) => r.conversation).join(', ')}), model ${model}\n`);
  console.log('Conventions followed in the code (a convention counts when all its AST checks pass)');
  console.log('| condition | followed | tasks with every convention followed |');
  console.log('|---|---|---|');
  for (const cond of CONDITIONS) {
    const ts = rs.flatMap((r) => r.tasks.filter((t) => t.condition === cond));
    const conv = ts.flatMap((t) => t.conventions);
    const label = { none: 'no memory', history: 'whole history in the prompt', memory: 'memory as delivered (generated instruction section)' }[cond];
    console.log(`| ${label} | ${conv.filter((x) => x.ok).length}/${conv.length} = ${pct(conv.filter((x) => x.ok).length, conv.length)} | ${ts.filter((t) => t.conventions.every((x) => x.ok)).length}/${ts.length} |`);
  }
  // Results saved before a measure existed are rescored from their memories (no model call).
  const conversations = loadConversations();
  for (const r of rs) {
    if (r.bank.staleDelivered !== undefined) continue;
    const c = conversations.find((x) => x.id === r.conversation)!;
    const memories = r.memories.map((m, i) => ({ id: String(i), text: m.text, status: m.status, kind: m.kind, tags: [], pinned: false, createdAt: '', updatedAt: '', source: { kind: 'dialogue' } }) as Memory);
    r.bank.staleDelivered = scoreConventionBank(c, memories, []).staleDelivered;
  }
  const sum = (f: (b: BankScore) => number) => rs.reduce((a, r) => a + f(r.bank), 0);
  console.log('\nConventions in the bank (matched to the hand labels by their phrases, as bank-quality does)');
  console.log('| what is delivered | memories | current conventions among them (precision) | replaced rules present | current conventions recalled |');
  console.log('|---|---|---|---|---|');
  console.log(`| keep everything (every extracted fact, no manager) | ${sum((b) => b.extracted)} | ${sum((b) => b.extractedCurrent)} (${pct(sum((b) => b.extractedCurrent), sum((b) => b.extracted))}) | ${sum((b) => b.extractedStale)}/${sum((b) => b.staleConventions)} | – |`);
  console.log(`| every active memory (no kinds: the engine before) | ${sum((b) => b.active)} | ${sum((b) => b.activeCurrent)} (${pct(sum((b) => b.activeCurrent), sum((b) => b.active))}) | ${sum((b) => b.staleActive)}/${sum((b) => b.staleConventions)} | – |`);
  console.log(`| the instruction section (active conventions, decisions, workflows) | ${sum((b) => b.delivered)} | ${sum((b) => b.deliveredCurrent)} (${pct(sum((b) => b.deliveredCurrent), sum((b) => b.delivered))}) | ${sum((b) => b.staleDelivered)}/${sum((b) => b.staleConventions)} | ${sum((b) => b.recalled)}/${sum((b) => b.currentConventions)} = ${pct(sum((b) => b.recalled), sum((b) => b.currentConventions))} |`);
  const ms = rs.flatMap((r) => r.tasks.map((t) => t.ms));
  console.log(`\nIngest ${(rs.reduce((a, r) => a + r.ingestMs, 0) / 1000).toFixed(0)} s for ${rs.reduce((a, r) => a + r.bank.currentConventions, 0)} current conventions; code answers ${(ms.reduce((a, b) => a + b, 0) / 1000).toFixed(0)} s for ${ms.length} answers.`);
}

async function main(): Promise<void> {
  const split = flag('split') ?? 'test';
  fs.mkdirSync(resultsDir, { recursive: true });
  const saved = () => fs.readdirSync(resultsDir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(path.join(resultsDir, f), 'utf8')) as ConversationResult);
  if (has('report')) return report(saved(), split);
  const endpoint = flag('endpoint') ?? process.env.MEMORY_R1_BASE_URL;
  const model = flag('model') ?? process.env.MEMORY_R1_MODEL;
  if (!endpoint || !model) {
    console.error('usage: bench/conventions.ts --endpoint <url> --model <name> [--split dev|test|all] [--only c06,c07] [--embedder onnx:<dir>|hashing] | --report [--split s]');
    process.exit(2);
  }
  const only = flag('only')?.split(',');
  const conversations = loadConversations().filter((c) => (split === 'all' || c.split === split) && (!only || only.some((o) => c.id.startsWith(o))));
  const raw = createModels({ baseURL: endpoint, models: { extractor: model, manager: model, answer: model }, timeoutMs: 600_000, maxRetries: 1 });
  const cacheFile = path.join(resultsDir, 'llm-cache.jsonl');
  const cache = loadCache(cacheFile);
  const stats = { hits: 0, calls: 0, ms: 0 };
  const wrap = (m: ChatModel) => new CachedChatModel(m, cache, cacheFile, stats);
  const models = { extractor: wrap(raw.extractor), manager: wrap(raw.manager), answerer: wrap(raw.answerer) };
  if (has('extract-only')) return extractOnly(conversations, models.extractor);
  const embedderSpec = flag('embedder') ?? `onnx:${path.resolve('.cache/models/all-MiniLM-L6-v2')}`;
  // Loaded once for the run: every conversation's fresh bank uses it.
  const embedder = await createEmbedder(embedderSpec === 'hashing' ? { provider: 'hashing' } : { provider: 'onnx', modelDir: path.resolve(embedderSpec.replace(/^onnx:/, '')) });
  for (const c of conversations) {
    const file = path.join(resultsDir, `${c.id}.json`);
    if (fs.existsSync(file) && !has('fresh')) {
      console.log(`${c.id}: saved result (rerun with --fresh)`);
      continue;
    }
    const t0 = Date.now();
    console.log(`${c.id} (${c.split}): ${c.sessions.length} sessions, ${c.tasks.length} tasks`);
    const r = await runConversation(c, model, models, embedder, (l) => console.log(l));
    fs.writeFileSync(file, JSON.stringify(r, null, 1));
    const by = (cond: Condition) => r.tasks.filter((t) => t.condition === cond).flatMap((t) => t.conventions);
    console.log(`  ${c.id}: followed ${CONDITIONS.map((cond) => `${cond} ${by(cond).filter((x) => x.ok).length}/${by(cond).length}`).join(', ')} · section ${r.bank.delivered} rules (${r.bank.deliveredCurrent} current), stale active ${r.bank.staleActive} · ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  console.log(`Model calls: ${stats.calls} asked (${(stats.ms / 1000).toFixed(0)} s), ${stats.hits} from the cache.`);
  report(saved(), split);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
