import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testing, Diagnostic, Range, Uri } from '../support/vscodeShim';
import { agentReplies, startHarness, waitFor, type Harness } from '../support/extensionHarness';
import { EventQueue } from '../../src/core/capture/eventQueue';
import { QueueProcessor } from '../../src/core/capture/queueProcessor';
import { makeEvent } from '../../src/core/capture/eventFormat';
import { LlmError } from '../../src/core/errors';

let h: Harness | undefined;
const temps: string[] = [];
afterEach(async () => {
  await h?.dispose();
  h = undefined;
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-queue-'));
  temps.push(d);
  return d;
}
const ok = { facts: [], operations: [], usage: { promptTokens: 0, completionTokens: 0 } };

describe('capture queue (on disk)', () => {
  it('hands each event out once, also across a restart, and drops a torn tail', async () => {
    const dir = tempDir();
    const q = EventQueue.open(dir);
    const events = [1, 2, 3].map((i) => makeEvent('terminal', `Ran \`make ${i}\``));
    q.append(events);
    const seen: string[] = [];
    const p1 = new QueueProcessor({
      queue: q,
      ingest: async (e) => {
        seen.push(e.id);
        if (seen.length === 2) p1.pause(); // stop mid-way, as a window closing would
        return ok;
      },
    });
    await p1.kick();
    // Simulate a crash during an append: half a line at the end.
    fs.appendFileSync(q.queuePath, '{"id":"torn","sour');

    const q2 = EventQueue.open(dir);
    expect(q2.length).toBe(1);
    const p2 = new QueueProcessor({ queue: q2, ingest: async (e) => (seen.push(e.id), ok) });
    await p2.kick();
    expect(seen).toEqual(events.map((e) => e.id));
    expect(EventQueue.open(dir).length).toBe(0);
  });

  it('an event interrupted after it was applied is not applied again', async () => {
    const dir = tempDir();
    const q = EventQueue.open(dir);
    const e = makeEvent('commit', 'Git commit abc: switch to pnpm', 'abc');
    q.append([e]);
    q.markInFlight(e.id); // the previous session crashed after ingest, before the ack
    const q2 = EventQueue.open(dir);
    expect(q2.interrupted?.id).toBe(e.id);
    let ingested = 0;
    const p = new QueueProcessor({ queue: q2, ingest: async () => (ingested++, ok), wasApplied: (ev) => ev.id === e.id });
    await p.kick();
    expect(ingested).toBe(0);
    expect(q2.length).toBe(0);
  });

  it('keeps an event queued on a retryable failure and sets a bad one aside', async () => {
    const dir = tempDir();
    const q = EventQueue.open(dir);
    const [a, b] = [makeEvent('save', 'Edited a.ts'), makeEvent('save', 'Edited b.ts')];
    q.append([a, b]);
    let fail: 'retry' | 'bad' | undefined = 'retry';
    const p = new QueueProcessor({
      queue: q,
      retryDelaysMs: [60_000],
      ingest: async (e) => {
        if (fail === 'retry') throw new LlmError('UNREACHABLE', 'endpoint down', true);
        if (fail === 'bad' && e.id === a.id) throw new LlmError('BAD_OUTPUT', 'nonsense', false);
        return ok;
      },
    });
    await p.kick();
    expect(p.state.error).toMatch(/endpoint down/);
    expect(q.length).toBe(2);
    fail = 'bad';
    await p.retry();
    expect(q.length).toBe(0);
    expect(p.state.failed).toBe(1);
    expect(fs.readFileSync(q.failedPath, 'utf8')).toContain(a.id);
    p.dispose();
  });

  it('compaction keeps pending events and their order', () => {
    const dir = tempDir();
    const q = EventQueue.open(dir);
    const evs = Array.from({ length: 5 }, (_, i) => makeEvent('save', `Edited f${i}.ts`));
    q.append(evs);
    q.ack(evs[0].id);
    q.ack(evs[1].id);
    q.compact();
    expect(EventQueue.open(dir).peek(10).map((e) => e.id)).toEqual(evs.slice(2).map((e) => e.id));
  });
});

describe('workspace capture in the extension', () => {
  it('turns a save into an event, skips excluded files and redacts secrets', async () => {
    const extracted: string[] = [];
    h = await startHarness({ reply: agentReplies({ extract: (t) => (extracted.push(t), []) }) });
    testing.setConfig('projectMemory.capture.exclude', ['secret/**']);
    const file = path.join(h.workspace, 'src', 'db.ts');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'export const port = 5432;\n');
    const doc = testing.openDocument(file, 'export const port = 5432;\n');
    const key = 'AKIA' + 'Q3EGRLWZ5TX7KB4N';
    testing.saveDocument(doc, `export const port = 5433;\nexport const awsKey = '${key}';\n`);

    const hidden = path.join(h.workspace, 'secret', 'notes.ts');
    fs.mkdirSync(path.dirname(hidden), { recursive: true });
    const hiddenDoc = testing.openDocument(hidden, 'a\n');
    testing.saveDocument(hiddenDoc, 'b\n');
    const envDoc = testing.openDocument(path.join(h.workspace, '.env'), 'X=1\n');
    testing.saveDocument(envDoc, 'X=2\n');

    await waitFor(() => extracted.length >= 1, 5000, 'extraction of the save');
    await new Promise((r) => setTimeout(r, 100));
    expect(extracted).toHaveLength(1);
    expect(extracted[0]).toContain('Edited src/db.ts');
    expect(extracted[0]).toContain('+ export const port = 5433;');
    expect(extracted[0]).not.toContain(key);
  });

  it('captures failed terminal commands with output, and fixed errors', async () => {
    const extracted: string[] = [];
    h = await startHarness({ reply: agentReplies({ extract: (t) => (extracted.push(t), ['fact from ' + t.slice(0, 20)]) }) });
    const cwd = Uri.file(h.workspace);
    testing.endTerminalCommand('npm test', 1, cwd, 'FAIL test/a.test.ts\nExpected 2, got 3\n');
    testing.endTerminalCommand('ls -la', 0, cwd);
    const file = path.join(h.workspace, 'a.ts');
    fs.writeFileSync(file, 'let x: number = "s";\n');
    const doc = testing.openDocument(file, 'let x: number = "s";\n');
    const d = new Diagnostic(new Range(0, 4, 0, 5), "Type 'string' is not assignable to type 'number'.");
    d.source = 'ts';
    d.code = 2322;
    testing.setDiagnostics(doc.uri, [d]);
    testing.setDiagnostics(doc.uri, []);
    await waitFor(() => extracted.length >= 2, 5000, 'two events');
    const terminal = extracted.find((t) => t.includes('npm test'))!;
    expect(terminal).toContain('failed (exit 1)');
    expect(terminal).toContain('Expected 2, got 3');
    expect(extracted.some((t) => t.includes('ls -la'))).toBe(false);
    expect(extracted.find((t) => t.startsWith('Fixed an error'))).toContain("a.ts:1 (ts 2322)");
    // Extracted facts went through the manager into the bank.
    const bank = await h.api.pm.getBank();
    await waitFor(() => bank.list().counts.active >= 2, 5000, 'memories added');
  });

  it('captures nothing and makes no model call in an untrusted workspace, and starts on trust', async () => {
    const extracted: string[] = [];
    h = await startHarness({ trusted: false, reply: agentReplies({ extract: (t) => (extracted.push(t), []) }) });
    testing.endTerminalCommand('cargo build', 101, Uri.file(h.workspace));
    await new Promise((r) => setTimeout(r, 100));
    expect(h.server.requests).toHaveLength(0);
    const { result } = await h.chat('What do we use?');
    expect(result.errorDetails?.message).toMatch(/untrusted/);
    expect(h.server.requests).toHaveLength(0);

    testing.setTrusted(true);
    testing.endTerminalCommand('cargo build', 101, Uri.file(h.workspace));
    await waitFor(() => extracted.length === 1, 5000, 'capture after trust');
  });

  it('ignores a workspace-level endpoint in an untrusted workspace', async () => {
    h = await startHarness({ trusted: false, endpoint: false });
    testing.setConfig('projectMemory.endpoint.url', 'http://attacker.example/v1', 'workspace');
    const { readEndpointSettings } = await import('../../src/extension/settings');
    expect(readEndpointSettings().url).toBe('');
    testing.setTrusted(true);
    expect(readEndpointSettings().url).toBe('http://attacker.example/v1');
  });

  it('asks once before sending data to a remote endpoint', async () => {
    h = await startHarness({ endpoint: false });
    testing.setConfig('projectMemory.endpoint.url', 'https://models.example.com/v1');
    testing.setConfig('projectMemory.models.answer', 'remote-model'); // no model listing call needed
    testing.answer(() => undefined); // the user dismisses the consent dialog
    await expect(h.api.pm.getModels()).rejects.toThrow(/not allowed/);
    const prompt = testing.state.ui.at(-1)!;
    expect(prompt.kind).toBe('warning');
    expect(prompt.message).toContain('https://models.example.com/v1');
    testing.answer(() => 'Allow');
    await h.api.pm.getModels();
    const asked = testing.state.ui.length;
    await h.api.pm.getModels();
    expect(testing.state.ui.length).toBe(asked); // remembered
  });
});
