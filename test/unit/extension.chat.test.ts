import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testing, CancellationTokenSource, ChatResultFeedbackKind } from '../support/vscodeShim';
import { agentReplies, startHarness, waitFor, type Harness } from '../support/extensionHarness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('@memory chat participant', () => {
  it('registers the participant, the language model provider, the panel and the commands', async () => {
    h = await startHarness();
    expect(testing.state.participants.map((p) => p.id)).toEqual(['project-memory.memory']);
    expect(testing.state.lmProviders.has('project-memory')).toBe(true);
    expect(testing.state.webviewProviders.has('projectMemory.panel')).toBe(true);
    for (const id of ['addMemory', 'search', 'forget', 'showHistory', 'undo', 'export', 'import', 'clear', 'rebuildIndex', 'scrubSecrets', 'pauseCapture', 'resumeCapture', 'configureEndpoint', 'setApiKey', 'showLog', 'revealMemory']) {
      expect(testing.state.commands.has(`projectMemory.${id}`), id).toBe(true);
    }
    // Activation is lazy: no bank folder until something needs it.
    expect(fs.existsSync(path.join(h.root, 'workspaceStorage', 'bank', 'history.jsonl'))).toBe(false);
  });

  it('streams the answer, cites the memories it used and returns answer and memory ids', async () => {
    h = await startHarness({
      reply: agentReplies({
        answer: (user) => {
          const line = user.split('\n').find((l) => l.includes('PostgreSQL'));
          const key = /^\[(\d+)\]/.exec(line ?? '')?.[1] ?? 'none';
          return `**Selected memories:** ${key}\n**Answer:** The project stores its data in PostgreSQL 16.`;
        },
      }),
    });
    const bank = await h.api.pm.getBank();
    const pg = await bank.addManual('The project uses PostgreSQL 16 as its database');
    await bank.addManual('Deploys run on Fridays with blue-green switching');

    const { result, stream } = await h.chat('Which database do we use?');
    expect(stream.parts.some((p) => p.kind === 'progress')).toBe(true);
    const deltas = stream.parts.filter((p) => p.kind === 'markdown').map((p) => p.value as string);
    expect(deltas.length).toBeGreaterThan(3); // streamed in pieces, not one block
    expect(stream.text).toContain('PostgreSQL 16');
    // Citations are trusted markdown command links labelled with the memory's text.
    const links = stream.parts.filter((p) => p.kind === 'markdown' && p.trusted);
    expect(links).toHaveLength(1);
    expect(links[0].trusted).toEqual({ enabledCommands: ['projectMemory.revealMemory', 'projectMemory.openMemorySource'] });
    const m = /^1\. \[(.*)\]\((command:projectMemory\.revealMemory\?[^)]*)\)\n$/.exec(String(links[0].value));
    expect(m).not.toBeNull();
    expect(m![1]).toContain('PostgreSQL 16');
    expect(JSON.parse(decodeURIComponent(m![2].split('?')[1]))).toEqual([pg.memoryId]);

    const meta = result.metadata as { answerId: string; memoryIds: string[] };
    expect(meta.memoryIds).toEqual([pg.memoryId]);
    expect(meta.answerId).toMatch(/[0-9a-f-]{36}/);
    const answerReq = h.server.requests.find((r) => r.path.endsWith('/chat/completions') && r.body.stream);
    expect(answerReq?.body.model).toBe('fake-model');

    const participant = testing.state.participants[0];
    const followups = participant.followupProvider!.provideFollowups(result, {}, new CancellationTokenSource().token) as { command: string; prompt: string }[];
    expect(followups[0]).toMatchObject({ command: 'history', prompt: pg.memoryId });

    // The citation's command opens the memory in the panel.
    let revealed: string | undefined;
    h.api.panel.reveal = async (id?: string) => {
      revealed = id;
    };
    await h.command('projectMemory.revealMemory', pg.memoryId);
    expect(revealed).toBe(pg.memoryId);
  });

  it('links a cited memory to its source event, which opens as the bank kept it (or at its file and line)', async () => {
    h = await startHarness({
      reply: agentReplies({
        answer: (user) => {
          // The answer model sees the memory with an excerpt of its source event.
          expect(user).toMatch(/\[1\] \(11 April 2026\) CI runs on Node 22\.\n {4}source \(commit 3f2a9c1, 11 April 2026\): Switch CI to Node 22/);
          return '**Selected memories:** 1, 2\n**Answer:** Node 22.';
        },
      }),
    });
    const bank = await h.api.pm.getBank();
    const [ci] = await bank.applyBatch([{ type: 'ADD', text: 'CI runs on Node 22.' }], {
      source: { kind: 'commit', ref: '3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c', event: 'ev-1' },
      eventTime: '2026-04-11T09:30:00.000Z',
      origin: { text: 'Switch CI to Node 22\n\nNode 20 leaves maintenance in April.', time: '2026-04-11T09:30:00.000Z' },
    });
    fs.mkdirSync(path.join(h.workspace, 'src'), { recursive: true });
    fs.writeFileSync(path.join(h.workspace, 'src', 'ci.ts'), 'a\nb\nc\nd\n');
    const [fix] = await bank.applyBatch([{ type: 'ADD', text: 'The CI script checks the Node version.' }], {
      source: { kind: 'diagnostic', ref: 'src/ci.ts', event: 'ev-2' },
      eventTime: '2026-04-11T10:00:00.000Z',
      origin: { text: 'Fixed in src/ci.ts line 3: Node version not checked', time: '2026-04-11T10:00:00.000Z' },
    });

    const { stream } = await h.chat('Which Node does CI use?');
    const links = stream.parts.filter((p) => p.kind === 'markdown' && p.trusted).map((p) => String(p.value));
    expect(links[0]).toMatch(/ — from \[commit 3f2a9c1, 2026-04-11\]\(command:projectMemory\.openMemorySource\?[^)]*\)\n$/);
    const arg = /openMemorySource\?([^)]*)\)/.exec(links[0])![1];
    expect(JSON.parse(decodeURIComponent(arg))).toEqual([ci.memoryId]);

    // A commit opens as the event the bank kept; a diagnostic at its file and line.
    await h.command('projectMemory.openMemorySource', ci.memoryId);
    const doc = testing.state.shownDocuments.at(-1)!;
    expect(doc.uri.scheme).toBe('project-memory-source');
    expect(doc.getText()).toContain('Memory: CI runs on Node 22.');
    expect(doc.getText()).toContain('Node 20 leaves maintenance in April.');
    await h.command('projectMemory.openMemorySource', fix.memoryId);
    expect(testing.state.shownSelections.at(-1)).toEqual({ uri: expect.stringMatching(/src\/ci\.ts$/), line: 2 });
  });

  it('records feedback with the answer and the memory ids', async () => {
    h = await startHarness({ reply: agentReplies({ answer: () => '**Selected memories:** 1\n**Answer:** Tabs.' }) });
    const bank = await h.api.pm.getBank();
    const m = await bank.addManual('The code style uses tabs for indentation');
    const { result } = await h.chat('Tabs or spaces?');
    testing.state.participants[0].feedback.fire({ result, kind: ChatResultFeedbackKind.Unhelpful });
    await waitFor(() => bank.side.feedback().length === 1, 3000, 'feedback');
    const fb = bank.side.feedback()[0];
    expect(fb).toMatchObject({ kind: 'unhelpful', question: 'Tabs or spaces?', answer: 'Tabs.', memoryIds: [m.memoryId] });
    expect(fb.answerId).toBe((result.metadata as { answerId: string }).answerId);
  });

  it('captures the finished turn into the queue, redacted, without delaying the reply', async () => {
    h = await startHarness({ reply: agentReplies({ answer: () => '**Selected memories:** none\n**Answer:** Use the staging key.' }) });
    const secret = 'AKIA' + 'Q3EGRLWZ5TX7KB4N';
    await h.chat(`My AWS key is ${secret}, where is staging?`);
    await waitFor(() => fs.existsSync(path.join(h!.api.pm.bankFolder, 'capture-queue.jsonl')), 3000, 'queue file');
    await waitFor(() => fs.readFileSync(path.join(h!.api.pm.bankFolder, 'capture-queue.jsonl'), 'utf8').includes('"chat"'), 3000, 'chat event');
    const queued = fs.readFileSync(path.join(h.api.pm.bankFolder, 'capture-queue.jsonl'), 'utf8');
    expect(queued).toContain('where is staging?');
    expect(queued).toContain('Use the staging key.');
    expect(queued).not.toContain(secret);
  });

  it('/remember shows each manager operation and applies it', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    const { result, stream } = await h.chat('We release every second Tuesday', 'remember');
    expect(stream.text).toContain('**ADD** We release every second Tuesday');
    expect(stream.parts.some((p) => p.kind === 'button' && (p.value as { command: string }).command === 'projectMemory.undo')).toBe(true);
    const bank = await h.api.pm.getBank();
    const ids = (result.metadata as { memoryIds: string[] }).memoryIds;
    expect(bank.get(ids[0])?.text).toBe('We release every second Tuesday');

    // The same fact again: the bank's dedupe makes it a NOOP, shown as such.
    const again = await h.chat('We release every second Tuesday', 'remember');
    expect(again.stream.text).toContain('**NOOP**');
    expect(bank.list().counts.active).toBe(1);
  });

  it('one engine per window: its model clients keep what they learned (a server without json_schema is told once)', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    // This server refuses structured output: the client steps down to json_object, once for the window.
    h.server.setFault((p, body) => (p.endsWith('/chat/completions') && body.response_format?.type === 'json_schema' ? { status: 400, body: JSON.stringify({ error: { message: 'response_format json_schema is not supported' } }) } : undefined));
    await h.chat('We release every second Tuesday', 'remember');
    await h.chat('Hotfixes ship the same day', 'remember');
    await h.chat('The release notes live in docs/releases.md', 'remember');
    const schemaAsks = h.server.requests.filter((r) => r.path.endsWith('/chat/completions') && r.body.response_format?.type === 'json_schema');
    expect(schemaAsks).toHaveLength(1);
    const first = await h.api.pm.getEngine(undefined, false);
    expect(await h.api.pm.getEngine(undefined, false)).toBe(first);
  });

  it('/forget deletes by id, and asks when the text matches several memories', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    const bank = await h.api.pm.getBank();
    const a = await bank.addManual('The API server listens on port 8080');
    await bank.addManual('The metrics server listens on port 9090');
    const byId = await h.chat(a.memoryId, 'forget');
    expect(byId.stream.text).toContain('Forgot');
    expect(bank.get(a.memoryId)?.status).toBe('deleted');

    const c = await bank.addManual('The cache server listens on port 6379');
    const ask = await h.chat('server listens', 'forget');
    expect(ask.stream.text).toContain('Which memory');
    expect(bank.get(c.memoryId)?.status).toBe('active');
    const buttons = ask.stream.parts.filter((p) => p.kind === 'button');
    expect(buttons.length).toBeGreaterThanOrEqual(2);

    const one = await h.chat('port 6379', 'forget');
    expect(one.stream.text).toContain('Best match');
    expect(bank.get(c.memoryId)?.status).toBe('deleted');
  });

  it('/search and /history list memories and their records', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    const bank = await h.api.pm.getBank();
    const m = await bank.addManual('Unit tests run with vitest');
    await bank.edit(m.memoryId, 'Unit tests run with vitest in forked workers');
    const s = await h.chat('vitest', 'search');
    expect(s.stream.text).toContain('Unit tests run with vitest in forked workers');
    const hist = await h.chat(m.memoryId, 'history');
    expect(hist.stream.text).toContain('**ADD**');
    expect(hist.stream.text).toContain('**EDIT**');
    expect(hist.stream.text).toContain('forked workers');
  });

  it('cancelling the request aborts the HTTP call to the model', async () => {
    h = await startHarness({ reply: agentReplies({ answer: () => '**Selected memories:** none\n**Answer:** ' + 'word '.repeat(400) }) });
    h.server.setFault((p, body) => (p.endsWith('/chat/completions') && body.stream ? { dripMs: 20 } : undefined));
    const cts = new CancellationTokenSource();
    const pending = h.chat('Tell me everything', undefined, cts);
    await waitFor(() => h!.server.requests.some((r) => r.body.stream), 3000, 'streaming request');
    await new Promise((r) => setTimeout(r, 60));
    cts.cancel();
    const { result } = await pending;
    expect(result.errorDetails).toBeUndefined();
    await waitFor(() => h!.server.aborted > 0, 3000, 'server sees the abort');
  });

  it('reports a failing endpoint with an action to configure it', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    h.server.setFault(() => ({ status: 400, body: JSON.stringify({ error: { message: 'model not loaded' } }) }));
    const { result, stream } = await h.chat('Anything?');
    expect(result.errorDetails?.message).toMatch(/400/);
    expect(stream.parts.some((p) => p.kind === 'button' && (p.value as { command: string }).command === 'projectMemory.configureEndpoint')).toBe(true);
  });
});
