import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  testing,
  CancellationTokenSource,
  LanguageModelChatMessage,
  LanguageModelChatMessageRole,
  LanguageModelTextPart,
  LanguageModelToolCallPart,
  LanguageModelToolResultPart,
  LanguageModelChatToolMode,
  Uri,
} from '../support/vscodeShim';
import { agentReplies, startHarness, waitFor, type Harness } from '../support/extensionHarness';
import { ToolCallAccumulator, toOpenAIMessages, toOpenAITools, type EndpointChatProvider } from '../../src/extension/models/endpointChatProvider';

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('commands', () => {
  it('add, forget with undo, clear with confirmation and undo', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    testing.answer(() => 'Builds use Node 22'); // input box
    testing.answer((c) => (c.items as { label: string }[]).find((i) => i.label === 'Architecture')); // kind
    testing.answer(() => undefined); // dismiss the confirmation toast
    const id = await h.command<string>('projectMemory.addMemory');
    const bank = await h.api.pm.getBank();
    expect(bank.get(id)).toMatchObject({ text: 'Builds use Node 22', kind: 'architecture' });

    // Escape at the kind picker adds nothing; "No kind" adds it unlabelled.
    testing.answer(() => 'Handlers get a handle prefix');
    testing.answer(() => undefined);
    expect(await h.command('projectMemory.addMemory')).toBeUndefined();
    expect(bank.list().counts.active).toBe(1);
    testing.answer(() => 'Release notes live in CHANGES.md');
    testing.answer((c) => (c.items as { label: string }[]).find((i) => i.label === 'No kind'));
    testing.answer(() => undefined);
    const plain = await h.command<string>('projectMemory.addMemory');
    expect(bank.get(plain)?.kind).toBeUndefined();
    await bank.undo(bank.history(plain).at(-1)!.opId);

    testing.answer(() => 'Undo');
    await h.command('projectMemory.forget', id);
    await waitFor(() => bank.get(id)?.status === 'active', 3000, 'undo from the toast'); // forgotten, then undone
    expect(bank.history(id).map((r) => r.action)).toEqual(['ADD', 'DELETE', 'UNDO']);

    await bank.addManual('Second memory');
    testing.answer(() => undefined); // modal: cancel
    expect(await h.command('projectMemory.clear')).toBeUndefined();
    expect(bank.list().counts.active).toBe(2);
    testing.answer(() => 'Delete All');
    testing.answer(() => undefined);
    expect(await h.command('projectMemory.clear')).toBe(2);
    expect(bank.list().counts.active).toBe(0);
    await h.command('projectMemory.undo');
    expect(bank.list().counts.active).toBe(2);
  });

  it('exports JSON and imports it back after validation and confirmation; rejects a bad file', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    const bank = await h.api.pm.getBank();
    await bank.addManual('Exports are JSON bundles');
    const out = path.join(h.root, 'export.json');
    testing.answer((c) => (c.items as { label: string }[]).find((i) => i.label === 'JSON'));
    testing.answer(() => Uri.file(out));
    await h.command('projectMemory.export');
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).memories).toHaveLength(1);

    // Import into another workspace's (empty) bank.
    fs.copyFileSync(out, path.join(h.root, '..', path.basename(h.root) + '-export.json'));
    const copy = path.join(h.root, '..', path.basename(h.root) + '-export.json');
    await h.dispose();
    h = await startHarness({ reply: agentReplies({}) });
    const bank2 = await h.api.pm.getBank();
    testing.answer((c) => (c.items as { mode: string }[]).find((i) => i.mode === 'merge'));
    testing.answer((c) => (String(c.message).includes('1 memories') ? 'Import' : undefined));
    testing.answer(() => undefined);
    expect(await h.command('projectMemory.import', Uri.file(copy))).toBe(1);
    fs.rmSync(copy);
    expect(bank2.list({ text: 'JSON bundles' }).items.map((m) => m.status)).toEqual(['active']);

    const bad = path.join(h.root, 'bad.json');
    fs.writeFileSync(bad, '{"memories": [');
    const before = bank2.list({ status: 'all' }).total;
    testing.answer(() => undefined); // error toast
    await h.command('projectMemory.import', Uri.file(bad));
    const err = testing.state.ui.at(-1)!;
    expect(err.kind).toBe('error');
    expect(err.message).toMatch(/not valid JSON/);
    expect(bank2.list({ status: 'all' }).total).toBe(before);
  });

  it('configure endpoint: preset, connection test, model choice written to user settings', async () => {
    h = await startHarness({ endpoint: false });
    testing.answer((c) => (c.items as { label: string }[]).find((i) => i.label.startsWith('Custom')));
    testing.answer(() => h!.server.url);
    testing.answer(() => undefined); // success toast
    expect(await h.command('projectMemory.configureEndpoint')).toBe(h.server.url);
    const cfg = testing.state.config;
    expect(cfg.get('projectMemory.endpoint.url')?.global).toBe(h.server.url);
    expect(cfg.get('projectMemory.models.answer')?.global).toBe('fake-model');
    expect(h.server.requests.some((r) => r.path.endsWith('/models'))).toBe(true);
  });

  it('pause stops capture and shows it in the status bar; resume restarts it', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    testing.answer(() => undefined);
    await h.command('projectMemory.pauseCapture');
    const bar = testing.state.statusBarItems[0];
    expect(String(bar.text)).toContain('paused');
    expect(h.api.capture.record('terminal', 'x')).toBeUndefined();
    testing.answer(() => undefined);
    await h.command('projectMemory.resumeCapture');
    expect(String(bar.text)).not.toContain('paused');
  });
});

describe('language model provider for the endpoint', () => {
  it('maps tool definitions, tool calls and tool results to the OpenAI protocol', () => {
    const tools = toOpenAITools([{ name: 'readFile', description: 'Read a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }]);
    expect(tools[0]).toEqual({ type: 'function', function: { name: 'readFile', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } });
    const msgs = toOpenAIMessages([
      LanguageModelChatMessage.User('read a.ts'),
      new LanguageModelChatMessage(LanguageModelChatMessageRole.Assistant, [new LanguageModelToolCallPart('c1', 'readFile', { path: 'a.ts' })]),
      new LanguageModelChatMessage(LanguageModelChatMessageRole.User, [new LanguageModelToolResultPart('c1', [new LanguageModelTextPart('export {}')])]),
    ] as never);
    expect(msgs).toEqual([
      { role: 'user', content: 'read a.ts' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'readFile', arguments: '{"path":"a.ts"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'export {}' },
    ]);
    const acc = new ToolCallAccumulator();
    acc.add([{ index: 0, id: 'call_9', function: { name: 'readFile', arguments: '{"pa' } }]);
    acc.add([{ index: 0, function: { arguments: 'th":"b.ts"}' } }]);
    expect(acc.finish()).toEqual([{ id: 'call_9', name: 'readFile', input: { path: 'b.ts' } }]);
    const broken = new ToolCallAccumulator();
    broken.add([{ index: 0, id: 'x', function: { name: 'f', arguments: '{oops' } }]);
    expect(() => broken.finish()).toThrow(/not valid JSON/);
  });

  it('lists the endpoint models with tool calling and streams replies as text parts', async () => {
    h = await startHarness({ reply: () => 'Hello from the endpoint model' });
    const provider = testing.state.lmProviders.get('project-memory') as EndpointChatProvider;
    const token = new CancellationTokenSource().token;
    const models = await provider.provideLanguageModelChatInformation({ silent: true }, token as never);
    expect(models.map((m) => [m.id, m.capabilities.toolCalling])).toEqual([['fake-model', true]]);
    const parts: unknown[] = [];
    await provider.provideLanguageModelChatResponse(
      models[0],
      [LanguageModelChatMessage.User('hi')] as never,
      { toolMode: LanguageModelChatToolMode.Auto, tools: [{ name: 't', description: 'd', inputSchema: undefined }] } as never,
      { report: (p: unknown) => parts.push(p) },
      token as never,
    );
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p instanceof LanguageModelTextPart)).toBe(true);
    expect(parts.map((p) => (p as LanguageModelTextPart).value).join('')).toBe('Hello from the endpoint model');
    const req = h.server.requests.find((r) => r.path.endsWith('/chat/completions'))!;
    expect(req.body.tools[0].function.name).toBe('t');
    expect(req.body.tool_choice).toBe('auto');
    await waitFor(() => true);
  });

  it('offers no models in an untrusted workspace', async () => {
    h = await startHarness({ trusted: false });
    const provider = testing.state.lmProviders.get('project-memory') as EndpointChatProvider;
    expect(await provider.provideLanguageModelChatInformation({ silent: true }, new CancellationTokenSource().token as never)).toEqual([]);
    expect(h.server.requests).toHaveLength(0);
  });
});
