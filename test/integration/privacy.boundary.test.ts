// The privacy boundary end to end: the labelled secret corpus goes in through every surface (engine API,
// CLI, manual add/edit, import, questions, the extension's commands and chat participant), and a model
// that writes secrets back in its output; no secret may appear in any bank file, trajectory, export, log
// or request the OpenAI-protocol server received.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { MemoryEngine } from '../../src/core/engine';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { OpenAIChatModel } from '../../src/core/llm/openaiChatModel';
import { parseCorpus, type LabelledExample as CorpusExample } from '../../src/core/privacy/evaluation';
import { scrubFileBank } from '../../src/core/bank/scrub';
import { main } from '../../src/cli/main';
import { startFakeOpenAIServer, type FakeOpenAIServer, type ReplyFn } from '../support/fakeOpenAIServer';
import { startHarness, type Harness } from '../support/extensionHarness';
import { testing, Uri } from '../support/vscodeShim';

const CORPUS = parseCorpus(fs.readFileSync(path.resolve(__dirname, '../fixtures/redaction/corpus.jsonl'), 'utf8')).filter((e) => e.secrets.length);
/** Secrets long enough that finding one by chance (in a prompt, a label) is impossible. */
const SECRETS = [...new Set(CORPUS.flatMap((e) => e.secrets))].filter((s) => s.length >= 8);

/** Every secret found in `text`, for the failure message (test data only, all synthetic). */
function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

/** All files under `dir` as one string (binary files as latin1, so a secret's bytes still match). */
function readTree(dir: string): string {
  let out = '';
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out += readTree(p);
    else out += `\n--- ${p}\n` + fs.readFileSync(p).toString(p.endsWith('.bin') ? 'latin1' : 'utf8');
  }
  return out;
}

function requestsText(server: FakeOpenAIServer): string {
  return server.requests.map((r) => JSON.stringify(r.body)).join('\n');
}

/**
 * A model that leaks: it writes back the raw example it "remembers" as an extracted fact, inside the
 * manager's memory text and reason, and in its answer. The example keeps its own lines (a secret is
 * recognised by its context, as in the corpus), whatever the model puts around them.
 */
function leakyModel(raw: () => CorpusExample): ReplyFn {
  return (req) => {
    const sys = req.messages.find((m) => m.role === 'system')?.content ?? '';
    const user = req.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
    const ex = raw();
    if (/selected memories/i.test(sys)) return `**Selected memories:** 1\n**Answer:** The value is in\n${ex.text}\nas you asked.`;
    if (/Event(?: \([^)]*\))?:\n<<<\n/.test(user)) {
      const event = /Event(?: \([^)]*\))?:\n<<<\n([\s\S]*)\n>>>/.exec(user)?.[1] ?? '';
      return JSON.stringify({ facts: [event.slice(0, 2000), ex.text] });
    }
    const factLine = user.split('\n').find((l) => l.startsWith('["')) ?? '[""]';
    const fact = (JSON.parse(factLine) as string[])[0];
    return JSON.stringify({ memory: [{ id: 'new', text: `${fact}\n${ex.text}`, event: 'ADD', reason: ex.text }] });
  };
}

let tmp: string;
let server: FakeOpenAIServer | undefined;
let current: CorpusExample = CORPUS[0];
beforeAll(() => {
  expect(SECRETS.length).toBeGreaterThan(200);
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function openEngine(folder: string, redaction?: 'on' | 'off') {
  server ??= await startFakeOpenAIServer({ reply: leakyModel(() => current) });
  const bank = await MemoryBank.open(folder, { embedder: new HashingEmbedder(64), watchIntervalMs: 0, ...(redaction ? { redaction } : {}) });
  const model = new OpenAIChatModel({ baseURL: server.url, apiKey: 'k', model: 'fake-model', maxRetries: 0 });
  return new MemoryEngine({ bank, extractor: model, manager: model, answerer: model });
}

describe('privacy boundary: engine, bank, CLI and import', () => {
  it('no corpus secret reaches a bank file, trajectory, export, result or request (engine API, manual add/edit, import, questions)', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-privacy-'));
    const folder = path.join(tmp, 'bank');
    const engine = await openEngine(folder);
    const bank = engine.bank;
    const outputs: string[] = [];
    let redacted = 0;
    for (const [i, ex] of CORPUS.entries()) {
      current = ex;
      const r = await engine.ingest({ id: `e${i}`, source: { kind: 'terminal', ref: ex.text.slice(0, 300) }, text: ex.text, time: new Date().toISOString() });
      redacted += Object.values(r.redactions ?? {}).reduce((a, b) => a + b, 0);
      outputs.push(JSON.stringify(r));
    }
    expect(redacted).toBeGreaterThanOrEqual(SECRETS.length);
    for (const ex of CORPUS.slice(0, 40)) {
      current = ex;
      outputs.push(JSON.stringify(await engine.remember(ex.text, { kind: 'chat', ref: 'remember' })));
      const a = await engine.answer(`What does this mean: ${ex.text}`);
      outputs.push(a.answer, a.raw);
      const rec = await bank.addManual(ex.text, { tags: [ex.text.slice(0, 300)], source: { kind: 'manual', ref: ex.text } });
      outputs.push(JSON.stringify(rec));
      outputs.push(JSON.stringify(await bank.edit(rec.memoryId, `${ex.text} (edited)`)));
      outputs.push(JSON.stringify(await bank.search(ex.text, { topK: 3 })));
    }
    await bank.side.recordFeedback({ answerId: 'a1', kind: 'helpful', question: CORPUS[1].text, answer: CORPUS[2].text });
    // An export made by an older version, with the secrets in it, imported into a fresh bank.
    const oldExport = {
      format: 'project-memory-bank',
      version: 1,
      exportedAt: new Date().toISOString(),
      embedder: 'x',
      memories: CORPUS.slice(40, 120).map((ex, i) => ({ id: `old-${i}`, text: ex.text, status: 'active', createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z', tags: [], pinned: false, source: { kind: 'cli', ref: ex.text } })),
      history: CORPUS.slice(40, 120).map((ex, i) => ({ seq: i + 1, opId: `op-${i}`, batchId: `op-${i}`, action: 'ADD', memoryId: `old-${i}`, time: '2024-01-01T00:00:00Z', fact: ex.text, reason: ex.text, after: { text: ex.text, status: 'active', tags: [], pinned: false } })),
      feedback: [{ answerId: 'old', kind: 'unhelpful', question: CORPUS[3].text }],
    };
    const imported = await MemoryBank.open(path.join(tmp, 'imported'), { embedder: new HashingEmbedder(64), watchIntervalMs: 0 });
    expect((await imported.importBundle(oldExport, 'merge')).imported).toBe(80);
    outputs.push(JSON.stringify(imported.exportBundle()), imported.toMarkdown(), JSON.stringify(bank.exportBundle()), bank.toMarkdown());
    await imported.close();
    await bank.close();

    expect(server!.requests.length).toBeGreaterThan(CORPUS.length * 2);
    const tree = readTree(tmp);
    for (const s of leaks(tree).slice(0, 2)) console.log('LEAKTREE', s, tree.slice(Math.max(0, tree.indexOf(s) - 300), tree.indexOf(s) + 100));
    expect(leaks(tree)).toEqual([]);
    expect(leaks(requestsText(server!))).toEqual([]);
    for (const o of outputs) if (leaks(o).length) { console.log('LEAKOUT', leaks(o)[0], o.slice(0, 600)); break; }
    expect(leaks(outputs.join('\n'))).toEqual([]);
    // What was found is recorded as counts, never as the secret.
    const history = fs.readFileSync(path.join(folder, 'history.jsonl'), 'utf8');
    expect(history).toMatch(/"redactions":\{"[a-z-]+":\d+/);
    expect(fs.readFileSync(path.join(folder, 'trajectories.jsonl'), 'utf8')).toMatch(/"redactions":\{/);
  }, 120_000);

  it('the CLI (ingest, remember, add, ask, import, export) stores, prints and sends no secret', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-privacy-cli-'));
    server = await startFakeOpenAIServer({ reply: leakyModel(() => current) });
    const bankDir = path.join(tmp, 'bank');
    const turns = path.join(tmp, 'turns.jsonl');
    const sample = CORPUS.filter((_, i) => i % 4 === 0);
    fs.writeFileSync(turns, sample.map((ex) => JSON.stringify({ text: ex.text, speaker: 'ada' })).join('\n'));
    const printed: string[] = [];
    const spyOut = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
    const spyErr = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
    const common = ['--bank', bankDir, '--endpoint', server.url, '--model', 'fake-model'];
    try {
      current = sample[0];
      expect(await main(['ingest', turns, ...common])).toBe(0);
      current = sample[1];
      expect(await main(['remember', sample[1].text, ...common])).toBe(0);
      expect(await main(['add', sample[2].text, '--tags', 'ops', ...common])).toBe(0);
      expect(await main(['ask', `Is this still valid: ${sample[3].text}`, ...common])).toBe(0);
      expect(await main(['export', path.join(tmp, 'out.json'), ...common])).toBe(0);
      expect(await main(['export', path.join(tmp, 'out.md'), ...common])).toBe(0);
      expect(await main(['import', path.join(tmp, 'out.json'), ...common])).toBe(0);
      expect(await main(['list', '--status', 'all', ...common])).toBe(0);
      expect(await main(['history', ...common])).toBe(0);
    } finally {
      spyOut.mockRestore();
      spyErr.mockRestore();
    }
    expect(printed.join('')).toMatch(/redacted \d+ secrets?/);
    for (const s of leaks(printed.join(''))) console.log('LEAK', printed.find((p) => p.includes(s))?.slice(0, 400));
    expect(leaks(printed.join(''))).toEqual([]);
    expect(leaks(readTree(tmp).replace(fs.readFileSync(turns, 'utf8'), ''))).toEqual([]);
    expect(leaks(requestsText(server))).toEqual([]);
  }, 120_000);

  it('redaction is on unless the bank is opened with exactly redaction: "off" (the documented opt-out)', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-privacy-optout-'));
    const secret = 'sk_live_' + 'Zq8vN3kL0pR7sT2wX5yB9cD4';
    for (const [mode, raw] of [[undefined, false], ['on', false], ['bogus', false], ['off', true]] as const) {
      const bank = await MemoryBank.open(path.join(tmp, String(mode)), { embedder: new HashingEmbedder(64), watchIntervalMs: 0, redaction: mode as 'on' });
      await bank.addManual(`payments use ${secret}`);
      expect(bank.privacy.enabled).toBe(!raw);
      expect(fs.readFileSync(path.join(tmp, String(mode), 'history.jsonl'), 'utf8').includes(secret)).toBe(raw);
      await bank.close();
    }
  });
});

describe('privacy boundary: the extension', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('chat questions, /remember, Add Memory, Import, capture and the log carry no secret; Scrub Secrets cleans an old bank', async () => {
    let ex = CORPUS[0];
    h = await startHarness({ reply: leakyModel(() => ex), keepRoot: (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-privacy-ext-'))) });
    const sample = CORPUS.filter((_, i) => i % 8 === 0);
    for (const e of sample) {
      ex = e;
      const q = await h.chat(`What is ${e.text}?`);
      const r = await h.chat(e.text, 'remember');
      const shown = JSON.stringify(q.stream.parts) + JSON.stringify(r.stream.parts);
      if (leaks(shown).length) console.log('LEAKCHAT', leaks(shown)[0], shown.slice(0, 1500));
      expect(leaks(shown)).toEqual([]);
      testing.answer((c) => {
        expect(leaks(String(c.message)), 'the "Remembered" toast shows a secret').toEqual([]);
        return undefined;
      });
      await h.command('projectMemory.addMemory', e.text);
      h.api.capture.record('terminal', e.text);
    }
    h.api.capture.flush();
    await h.api.capture.idle();
    const file = path.join(h.root, 'old-export.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ format: 'project-memory-bank', version: 1, exportedAt: '2024-01-01T00:00:00Z', embedder: 'x', memories: sample.map((e, i) => ({ id: `imp-${i}`, text: e.text, status: 'active', createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z', tags: [], pinned: false, source: { kind: 'cli' } })), history: [], feedback: [] }),
    );
    testing.answer((c) => (c.items as { mode: string }[]).find((i) => i.mode === 'merge'));
    testing.answer(() => 'Import');
    testing.answer(() => undefined);
    expect(await h.command('projectMemory.import', Uri.file(file))).toBe(sample.length);
    fs.rmSync(file);
    const bankFolder = h.api.pm.bankFolder;
    expect(fs.readdirSync(bankFolder)).toContain('history.jsonl');
    expect(leaks(readTree(h.root))).toEqual([]);
    expect(leaks(requestsText(h.server))).toEqual([]);
    expect(leaks(testing.state.logs.join('\n'))).toEqual([]);

    // A bank written raw (as older versions did): Scrub Secrets finds and removes what it holds.
    await h.api.pm.closeBank();
    const old = await MemoryBank.open(bankFolder, { embedder: new HashingEmbedder(256), watchIntervalMs: 0, redaction: 'off' });
    for (const e of sample) await old.addManual(e.text);
    await old.side.recordTrajectory({ kind: 'answer', question: sample[0].text });
    await old.close();
    fs.writeFileSync(path.join(h.workspace, 'project-memory.md'), `# Project memory\n\n- ${sample[1].text.replace(/\n/g, ' ')}\n`);
    expect(leaks(readTree(bankFolder)).length).toBeGreaterThan(0);
    testing.answer((c) => {
      expect(c.kind).toBe('warning');
      expect(leaks(`${c.message}\n${JSON.stringify(c.options)}`)).toEqual([]);
      return 'Scrub';
    });
    testing.answer(() => undefined); // the done toast
    const done = (await h.command('projectMemory.scrubSecrets')) as Awaited<ReturnType<typeof scrubFileBank>>;
    expect(done.applied).toBe(true);
    expect(done.total).toBeGreaterThanOrEqual(sample.length);
    expect(leaks(readTree(h.root))).toEqual([]);
    expect(leaks(testing.state.logs.join('\n'))).toEqual([]);
    const bank = await h.api.pm.getBank();
    expect(bank.history().at(-1)?.action).toBe('SCRUB');
    expect(bank.list().counts.active).toBeGreaterThanOrEqual(sample.length * 3);
  }, 120_000);
});
