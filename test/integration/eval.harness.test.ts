import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, UsageError } from '../../src/cli/args';
import type { CliIo } from '../../src/cli/command';
import { evalCommand } from '../../src/cli/commands/eval';
import { ingestCommand } from '../../src/cli/commands/bankCommands';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { LlmError } from '../../src/core/errors';
import type { EvalReport } from '../../src/core/eval/report';
import { exactMatch, locomoF1, mem0Bleu1, mem0F1 } from '../../src/core/eval/scoring';
import { protocolOf, roleOf, startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

const FIXTURE = path.resolve(__dirname, '../fixtures/eval/locomo-harness.json');
const PIPELINES = ['memory-r1', 'mem0-v2', 'add-only', 'rag', 'full-context'];
/** Scored (category 1–4) questions in the fixture: 5 in h-1, 2 in h-2. */
const SCORED = 7;
/** One event per turn: 6 turns in h-1, 2 in h-2. */
const EVENTS = 8;
const STOP = new Set(['the', 'and', 'what', 'who', 'when', 'where', 'which', 'did', 'does', 'how', 'is', 'of', 'in', 'to']);

const words = (s: string) => s.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 3 && !STOP.has(w));

/**
 * The scripted model. Extractor: every line of the event is a fact. Manager: ADD every new fact.
 * Every answer prompt: echo the context line sharing most words with the question, stripped of its
 * key and date. Judge: CORRECT when the answer contains the gold answer.
 */
function script(req: FakeChatRequest): string {
  const role = roleOf(req);
  const user = req.messages.at(-1)!.content;
  if (role === 'extractor') {
    const body = /<<<\n([\s\S]*?)\n>>>/.exec(user)![1];
    return JSON.stringify({ facts: body.split('\n').filter((l) => l.trim()) });
  }
  if (role === 'manager' && protocolOf(req) === 'per-fact') return JSON.stringify({ operation: 'ADD', id: 'none' });
  if (role === 'manager') {
    const facts = JSON.parse(/in the memory\.\n\n([\s\S]*?)\n\nReturn the JSON only/.exec(user)![1]) as string[];
    return JSON.stringify({ memory: facts.map((text) => ({ id: 'new', text, event: 'ADD' })) });
  }
  if (role === 'judge') {
    // The prompt's own example comes first: the real question is the last one.
    const gold = [...user.matchAll(/Gold answer: (.*)/g)].at(-1)![1].toLowerCase();
    const generated = [...user.matchAll(/Generated answer: (.*)/g)].at(-1)![1].toLowerCase();
    return JSON.stringify({ label: generated.includes(gold) ? 'CORRECT' : 'WRONG' });
  }
  const question = /Question: (.*)/.exec(user)![1];
  const qWords = new Set(words(question));
  let best = { line: '', score: 0 };
  for (const line of user.split('\n')) {
    if (line.startsWith('Question:')) continue;
    const score = words(line).filter((w) => qWords.has(w)).length;
    if (score > best.score) best = { line, score };
  }
  const key = /^\[(\d+)\]/.exec(best.line)?.[1];
  const text = best.line.replace(/^(\[\d+\]|-)\s*(\([^)]*\)\s*)?/, '');
  if (req.messages[0].content.includes('Selected memories')) return `**Selected memories:** ${key ?? 'none'}\n**Answer:** ${text || 'I do not know.'}`;
  return `Let me look.\nAnswer: ${text || 'unknown'}`;
}

function captureIo(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

describe('memory-r1 eval locomo, end to end against the fake OpenAI server', () => {
  let server: FakeOpenAIServer;
  let tmp: string;

  beforeEach(async () => {
    server = await startFakeOpenAIServer({ reply: script });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-eval-'));
  });

  afterEach(async () => {
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const chats = () => server.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as FakeChatRequest);
  const evalArgs = (out: string, ...extra: string[]) =>
    parseArgs(['locomo', '--data', FIXTURE, '--endpoint', server.url, '--model', 'fake-model', '--out', out, ...extra], new Set(evalCommand.switches));
  const readReport = (out: string) => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as EvalReport;

  it('runs every pipeline, scores categories 1–4 only, writes results.json, summary.md and the SVG, and resumes without a model call', async () => {
    const out = path.join(tmp, 'run');
    const io = captureIo();
    expect(await evalCommand.run(evalArgs(out), io)).toBe(0);

    const report = readReport(out);
    expect(report.pipelines.map((p) => p.name)).toEqual(PIPELINES);
    expect(report.questions).toHaveLength(PIPELINES.length * SCORED);
    expect(report.questions.some((q) => q.category === 5)).toBe(false);
    // The adversarial question is never asked, by any pipeline or the judge.
    expect(chats().some((c) => JSON.stringify(c.messages).includes('What did Ben sell'))).toBe(false);

    for (const q of report.questions) {
      // Every stored score is the scorer's value for the stored prediction.
      expect(q.scores.mem0F1).toBeCloseTo(mem0F1(q.prediction, q.gold), 10);
      expect(q.scores.mem0Bleu1).toBeCloseTo(mem0Bleu1(q.prediction, q.gold), 10);
      expect(q.scores.locomoF1).toBeCloseTo(locomoF1(q.prediction, q.gold, q.category), 10);
      expect(q.scores.exactMatch).toBe(exactMatch(q.prediction, q.gold));
      expect(q.scores.judge, JSON.stringify([q.prediction, q.gold, q.judge])).toBe(q.prediction.toLowerCase().includes(q.gold.toLowerCase()) ? 1 : 0);
      expect(q.tokens.prompt).toBeGreaterThan(0);
    }
    const dog = (p: string) => report.questions.find((q) => q.pipeline === p && q.question.includes("Ben's dog"))!;
    expect(dog('memory-r1').prediction).toBe('Ben: I adopted a dog named Pixel.');
    expect(dog('memory-r1').raw).toMatch(/^\*\*Selected memories:\*\* \d+/);
    expect(dog('rag').prediction).toBe('Ben: I adopted a dog named Pixel.');
    expect(dog('full-context').prediction).toBe('Ben: I adopted a dog named Pixel.');
    // Each pipeline answered with its own prompt: the memory-r1 Answer Agent distils, the baselines do not.
    const answerSystems = new Set(chats().filter((c) => roleOf(c) !== 'judge' && /Question: What is the name of Ben/.test(c.messages.at(-1)!.content)).map((c) => c.messages[0].content));
    expect(answerSystems.size).toBe(4); // memory-r1, Mem0-style (mem0-v2 and add-only), rag, full-context

    // Category grouping: single-hop has 3 questions (2 + 1), temporal 2, multi-hop 1, open-domain 1.
    for (const p of report.pipelines) {
      expect(p.scores.overall.count).toBe(SCORED);
      expect(Object.fromEntries(Object.entries(p.scores.byCategory).map(([k, v]) => [k, v!.count]))).toEqual({ '1': 1, '2': 2, '3': 1, '4': 3 });
      const mine = report.questions.filter((q) => q.pipeline === p.name && q.category === 4);
      expect(p.scores.byCategory[4]!.mean.mem0F1).toBeCloseTo(mine.reduce((s, q) => s + q.scores.mem0F1, 0) / mine.length, 10);
      expect(p.latencyMs.answer.n).toBe(SCORED);
    }
    const r1 = report.pipelines.find((p) => p.name === 'memory-r1')!;
    expect(r1.ingest).toMatchObject({ events: EVENTS, turns: EVENTS, facts: EVENTS });
    expect(r1.ingest.operations.ADD).toBe(EVENTS);
    // memory-r1's per-fact manager is called only for facts with related memories (the rest are added without a call).
    const perFactCalls = chats().filter((c) => roleOf(c) === 'manager' && protocolOf(c) === 'per-fact').length;
    expect(r1.latencyMs.manager.n).toBe(perFactCalls);
    expect(perFactCalls).toBeLessThanOrEqual(EVENTS);
    expect(report.pipelines.find((p) => p.name === 'rag')!.latencyMs.manager.n).toBe(0);
    expect(r1.tokens.ingestPerQuestion).toBeGreaterThan(0);

    const summary = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('| pipeline | single-hop | multi-hop | open-domain | temporal | overall |');
    for (const name of ['## F1 (Mem0)', '## BLEU-1 (Mem0)', '## F1 (LoCoMo official)', '## Exact match', '## LLM judge (J)', '## Latency and tokens']) {
      expect(summary).toContain(name);
    }
    const judgeTable = summary.split('## LLM judge (J)')[1];
    const pct = (v: number | undefined) => (v === undefined ? '—' : (v * 100).toFixed(1));
    const r1Row = `| memory-r1 | ${[4, 1, 3, 2].map((c) => pct(r1.scores.byCategory[c as 1]!.mean.judge)).join(' | ')} | ${pct(r1.scores.overall.mean.judge)} |`;
    expect(judgeTable).toContain(r1Row);

    const svg = fs.readFileSync(path.join(out, 'per-category.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // Panels: judge, F1 (Mem0), BLEU-1, F1 (LoCoMo); 5 groups (4 categories + overall); one bar per pipeline.
    expect(svg.match(/class="panel"/g)).toHaveLength(4);
    expect(svg.match(/class="bar"/g)).toHaveLength(4 * 5 * PIPELINES.length);
    expect(svg).toContain(`data-pipeline="memory-r1" data-group="overall" data-value="${pct(r1.scores.overall.mean.mem0F1)}"`);

    // --resume over a finished run: every bank is complete and every answer cached.
    const before = chats().length;
    const again = captureIo();
    expect(await evalCommand.run(evalArgs(out, '--resume'), again)).toBe(0);
    expect(chats().length).toBe(before);
    expect(again.lines[0]).toMatch(/^answered 0 question\(s\) and fed 0 event\(s\)/);
    expect(readReport(out).questions.map((q) => q.prediction)).toEqual(report.questions.map((q) => q.prediction));

    // Without --resume the finished run is not overwritten.
    await expect(evalCommand.run(evalArgs(out), captureIo())).rejects.toThrow(/--resume/);
  });

  it('continues an interrupted run where it stopped: no event fed twice, no cached question asked again', async () => {
    const out = path.join(tmp, 'interrupted');
    const isExtraction = (b: FakeChatRequest) => roleOf(b) === 'extractor';
    // 1st interruption: the third extraction call of the run fails (memory-r1, sample h-1, turn 3).
    let extractions = 0;
    server.setFault((p, body) => (p.endsWith('/chat/completions') && isExtraction(body) && ++extractions === 3 ? { status: 400 } : undefined));
    const err = await evalCommand.run(evalArgs(out), captureIo()).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(chats().filter(isExtraction)).toHaveLength(3);

    // 2nd interruption: the 4th judge call fails, after memory-r1 has answered and judged three questions of h-1.
    let judged = 0;
    server.setFault((p, body) => (p.endsWith('/chat/completions') && roleOf(body) === 'judge' && ++judged === 4 ? { status: 400 } : undefined));
    const mark = chats().length;
    expect(await evalCommand.run(evalArgs(out, '--resume'), captureIo()).catch((e) => e)).toBeInstanceOf(LlmError);
    const second = chats().slice(mark);
    // The two turns already in the bank were not fed again: h-1 has 6 turns, 2 were done.
    expect(second.filter(isExtraction)).toHaveLength(4);

    server.setFault(undefined);
    const mark2 = chats().length;
    const io = captureIo();
    expect(await evalCommand.run(evalArgs(out, '--resume'), io)).toBe(0);
    const third = chats().slice(mark2);
    // memory-r1 h-1 is fully built; mem0-v2 and add-only feed both samples; memory-r1 feeds h-2.
    expect(third.filter(isExtraction)).toHaveLength(EVENTS * 3 - 6);
    // Three memory-r1 answers were cached with their verdicts; the fourth lost its verdict and is asked again.
    const answers = third.filter((b) => roleOf(b) !== 'extractor' && roleOf(b) !== 'manager' && roleOf(b) !== 'judge');
    expect(answers).toHaveLength(PIPELINES.length * SCORED - 3);
    expect(third.filter((b) => roleOf(b) === 'judge')).toHaveLength(PIPELINES.length * SCORED - 3);

    const report = readReport(out);
    expect(report.questions).toHaveLength(PIPELINES.length * SCORED);
    // Over all three runs, every event of every extracting pipeline was extracted once (plus the failed call).
    expect(chats().filter(isExtraction)).toHaveLength(EVENTS * 3 + 1);
    const r1 = report.pipelines.find((p) => p.name === 'memory-r1')!;
    expect(r1.ingest.events).toBe(EVENTS);
    const bank = await MemoryBank.open(path.join(out, 'banks', 'memory-r1', 'h-1'), { embedder: new HashingEmbedder(384), watchIntervalMs: 0 });
    try {
      expect(bank.list().total).toBe(6);
    } finally {
      await bank.close();
    }
  });

  it('skips full-context with a note when the conversation does not fit, honours --max-turns, --limit and --no-judge', async () => {
    const out = path.join(tmp, 'slice');
    const io = captureIo();
    const code = await evalCommand.run(
      evalArgs(out, '--samples', 'h-1', '--pipelines', 'rag,full-context', '--max-turns', '3', '--limit', '2', '--context-tokens', '200', '--no-judge'),
      io,
    );
    expect(code).toBe(0);
    const report = readReport(out);
    expect(chats().some((c) => roleOf(c) === 'judge')).toBe(false);
    expect(report.metrics.map((m) => m.id)).not.toContain('judge');
    // Only session 1 was fed: the questions about the dog (session 2) are left out; --limit keeps the first 2.
    const rag = report.questions.filter((q) => q.pipeline === 'rag');
    expect(rag.map((q) => q.question)).toEqual(['What class did Ana start?', 'Which city does Ana\'s sister live in?']);
    expect(report.questions.filter((q) => q.pipeline === 'full-context')).toHaveLength(0);
    const fc = report.pipelines.find((p) => p.name === 'full-context')!;
    expect(fc.skipped[0].reason).toMatch(/more than the 200-token context/);
    const summary = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/full-context skipped h-1: conversation needs about \d+ tokens/);
    expect(summary).toMatch(/h-1: 2 scored question\(s\) left out because their evidence lies beyond the turns fed/);
    expect(report.pipelines.find((p) => p.name === 'rag')!.ingest.turns).toBe(3);
    // full-context has no bars; the chart says so in the legend.
    expect(fs.readFileSync(path.join(out, 'per-category.svg'), 'utf8')).toContain('full-context (no answers)');
  });

  it('rejects bad input with a clear message before touching the output folder', async () => {
    const out = path.join(tmp, 'bad');
    await expect(evalCommand.run(evalArgs(out, '--samples', 'nope'), captureIo())).rejects.toThrow(/no sample "nope".*h-1, h-2/);
    await expect(evalCommand.run(evalArgs(out, '--pipelines', 'memory-r1,mem1'), captureIo())).rejects.toThrow(UsageError);
    await expect(evalCommand.run(parseArgs(['locomo', '--data', path.join(tmp, 'missing.json'), '--endpoint', server.url]), captureIo())).rejects.toThrow(/not found/);
    await expect(evalCommand.run(parseArgs(['squad', '--data', FIXTURE]), captureIo())).rejects.toThrow(/only "locomo"/);
    expect(fs.existsSync(out)).toBe(false);
    expect(chats()).toHaveLength(0);
  });

  it('builds a bank from a LoCoMo sample with `ingest --locomo`', async () => {
    const bankDir = path.join(tmp, 'bank');
    const io = captureIo();
    const args = parseArgs(['--locomo', FIXTURE, '--sample', 'h-1', '--max-turns', '4', '--bank', bankDir, '--endpoint', server.url]);
    expect(await ingestCommand.run(args, io)).toBe(0);
    expect(io.lines.filter((l) => /^\[\d+\/4\]/.test(l))).toHaveLength(4);
    const bank = await MemoryBank.open(bankDir, { embedder: new HashingEmbedder(384), watchIntervalMs: 0 });
    try {
      const items = bank.list().items;
      expect(items.map((m) => m.text).sort()).toEqual(
        ['Ana: I started a pottery class on Monday.', 'Ana: My sister Clara lives in Lisbon.', 'Ben: I adopted a dog named Pixel.', 'Ben: Nice, I run five kilometres every morning.'],
      );
      expect(items.find((m) => m.text.includes('Pixel'))!.eventTime).toBe('2024-03-20T18:40:00.000Z');
      expect(items.find((m) => m.text.includes('Pixel'))!.source).toEqual({ kind: 'dialogue', ref: 'h-1/D2:1', actor: 'Ben' });
    } finally {
      await bank.close();
    }
    await expect(ingestCommand.run(parseArgs(['--locomo', FIXTURE, '--endpoint', server.url, '--bank', bankDir]), captureIo())).rejects.toThrow(/--sample/);
  });
});
