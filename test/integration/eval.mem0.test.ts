// The real mem0ai package (scripts/setup-mem0.sh) as the `mem0` pipeline, against the fake OpenAI server:
// the bridge, Mem0's clock at the event times, its SQLite history recorded beside our decisions, the
// answer prompt from the package, resume, and the loopback-only guard.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args';
import type { CliIo } from '../../src/cli/command';
import { evalCommand } from '../../src/cli/commands/eval';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { Mem0Bridge, findMem0Install } from '../../src/core/eval/mem0Bridge';
import { readDecisions } from '../../src/core/eval/pipelines/decisions';
import type { EvalReport } from '../../src/core/eval/report';
import { roleOf, startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

const FIXTURE = path.resolve(__dirname, '../fixtures/eval/locomo-harness.json');

let install: ReturnType<typeof findMem0Install> | undefined;
try {
  install = findMem0Install();
} catch (err) {
  console.warn(`skipping the mem0 bridge tests: ${(err as Error).message}`);
}

const isMem0Extraction = (req: FakeChatRequest) => (req.messages[0]?.content ?? '').includes('Memory Extractor');
const isMem0Answer = (req: FakeChatRequest) => (req.messages[0]?.content ?? '').includes('expert at answering questions based on the provided memories');
const words = (s: string) => s.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 4);

/** Mem0's extraction: one memory per new message; its answer: the memory sharing most words with the question. */
function script(req: FakeChatRequest): string {
  const user = req.messages.at(-1)!.content;
  if (isMem0Extraction(req)) {
    const block = /## New Messages\n([\s\S]*?)\n\n## Observation Date/.exec(user)![1];
    const lines = block.split('\n').filter((l) => l.startsWith('user: ')).map((l) => l.slice(6));
    return JSON.stringify({ memory: lines.map((text, i) => ({ id: String(i), text })) });
  }
  if (roleOf(req) === 'extractor') return JSON.stringify({ facts: [/<<<\n([\s\S]*?)\n>>>/.exec(user)![1].split('\n')[0]] });
  if (roleOf(req) === 'manager') {
    const facts = JSON.parse(/in the memory\.\n\n([\s\S]*?)\n\nReturn the JSON only/.exec(user)![1]) as string[];
    return JSON.stringify({ memory: facts.map((text) => ({ id: 'new', text, event: 'ADD' })) });
  }
  const question = /Question: (.*)/.exec(user)![1];
  const q = new Set(words(question));
  let best = { line: '', score: -1 };
  for (const line of user.split('\n')) {
    if (!line.startsWith('- ')) continue;
    const score = words(line).filter((w) => q.has(w)).length;
    if (score > best.score) best = { line, score };
  }
  return best.line.replace(/^- (\([^)]*\) )?/, '') || 'unknown';
}

function captureIo(): CliIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: () => undefined };
}

describe.skipIf(!install)('the real mem0ai package as the mem0 pipeline (fake OpenAI server)', () => {
  let server: FakeOpenAIServer;
  let tmp: string;

  beforeEach(async () => {
    server = await startFakeOpenAIServer({ reply: script });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-mem0-'));
  });
  afterEach(async () => {
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const chats = () => server.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as FakeChatRequest);

  it('feeds the turns with their dates, records Mem0\'s history beside ours, answers with its prompt, and resumes', async () => {
    const out = path.join(tmp, 'run');
    const args = parseArgs(
      ['locomo', '--data', FIXTURE, '--samples', 'h-1', '--endpoint', server.url, '--model', 'fake-model', '--pipelines', 'mem0,mem0-v2', '--turns-per-event', '3', '--no-judge', '--out', out],
      new Set(evalCommand.switches),
    );
    expect(await evalCommand.run(args, captureIo())).toBe(0);

    const extractions = chats().filter(isMem0Extraction);
    expect(extractions).toHaveLength(2); // two sessions of three turns, one event each
    // Mem0's clock is the session date: the prompt's observation date and the memories' dates.
    expect(extractions[0].messages[1].content).toMatch(/## Observation Date\n2024-03-04/);
    expect(extractions[1].messages[1].content).toMatch(/## Observation Date\n2024-03-20/);
    expect(extractions[1].messages[1].content).toContain('Ana: My sister Clara lives in Lisbon.'); // existing memories / last messages

    const report = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as EvalReport;
    const mem0 = report.pipelines.find((p) => p.name === 'mem0')!;
    expect(mem0.ingest.operations.ADD).toBe(6);
    const dog = report.questions.find((q) => q.pipeline === 'mem0' && q.question.includes("Ben's dog"))!;
    expect(dog.prediction).toBe('Ben: I adopted a dog named Pixel.');
    const answerReq = chats().find((c) => isMem0Answer(c) && c.messages[1].content.includes("Ben's dog"))!;
    expect(answerReq.messages[1].content).toContain('- (20 March 2024) Ben: I adopted a dog named Pixel.');
    expect(answerReq.messages[1].content).toContain('- (4 March 2024) Ben: Nice, I run five kilometres every morning.');

    // Mem0's own SQLite history, its rows per event, and both pipelines' decisions per event.
    const folder = path.join(out, 'banks', 'mem0', 'h-1');
    expect(fs.existsSync(path.join(folder, 'mem0', 'history.db'))).toBe(true);
    const rows = fs.readFileSync(path.join(folder, 'mem0-history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.event_index, r.event, r.new_memory])).toEqual([
      [0, 'ADD', 'Ana: I started a pottery class on Monday.'],
      [0, 'ADD', 'Ben: Nice, I run five kilometres every morning.'],
      [0, 'ADD', 'Ana: My sister Clara lives in Lisbon.'],
      [1, 'ADD', 'Ben: I adopted a dog named Pixel.'],
      [1, 'ADD', 'Ana: I sold my first vase at the market. [shares a photo: a blue vase on a table]'],
      [1, 'ADD', 'Ben: Pixel loves the beach.'],
    ]);
    expect(rows[3].created_at).toMatch(/^2024-03-20T18:40:00/);
    expect([...readDecisions(folder).keys()]).toEqual([0, 1]);
    expect([...readDecisions(path.join(out, 'banks', 'mem0-v2', 'h-1')).values()].map((d) => d.ops.map((o) => o.type))).toEqual([['ADD'], ['ADD']]);

    // --resume: Mem0's Qdrant and SQLite are reopened from disk; nothing is fed or asked again.
    const before = chats().length;
    const again = captureIo();
    expect(await evalCommand.run(parseArgs([...args.positionals, '--data', FIXTURE, '--samples', 'h-1', '--endpoint', server.url, '--model', 'fake-model', '--pipelines', 'mem0,mem0-v2', '--turns-per-event', '3', '--no-judge', '--out', out, '--resume'], new Set(evalCommand.switches)), again)).toBe(0);
    expect(chats().length).toBe(before);
    expect(again.lines[0]).toMatch(/^answered 0 question\(s\) and fed 0 event\(s\)/);
  }, 120_000); // a Python start and mem0's import each take seconds on a busy 2-core machine

  it('refuses a non-loopback endpoint and any connection that would leave loopback', async () => {
    const folder = path.join(tmp, 'b');
    const bridge = Mem0Bridge.start(install!, folder);
    try {
      const embed = await bridge.serveEmbeddings(new HashingEmbedder(64));
      await expect(
        bridge.request('open', { folder, user_id: 'u', base_url: 'http://10.11.12.13:8089/v1', model: 'm', embedding_base_url: embed, embedding_dims: 64 }),
      ).rejects.toThrow(/not on loopback/);
    } finally {
      await bridge.close();
    }
    // The guard itself: a connect to a TEST-NET address is refused inside the process, before any packet.
    const check = spawnSync(install!.python, [install!.bridge, '--self-check'], { env: { ...process.env, MEM0_TELEMETRY: 'false', MEM0_DIR: path.join(tmp, 'home') }, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stderr).toContain("refused DNS lookup to '192.0.2.1'");
    expect(check.stderr).toContain('mem0ai 2.2.1, telemetry off, local Qdrant opened, non-loopback refused');
  }, 120_000);
});
