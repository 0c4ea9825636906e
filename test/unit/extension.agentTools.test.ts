import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  testing,
  CancellationTokenSource,
  LanguageModelChatMessage,
  LanguageModelChatToolMode,
  LanguageModelTextPart,
  LanguageModelToolCallPart,
  LanguageModelToolResult,
  LanguageModelToolResultPart,
} from '../support/vscodeShim';
import { startHarness, type Harness } from '../support/extensionHarness';
import { roleOf, toolCallReply, type FakeChatRequest } from '../support/fakeOpenAIServer';
import type { EndpointChatProvider } from '../../src/extension/models/endpointChatProvider';
import { MEMORY_TOOLS } from '../../src/core/tools/memoryTools';
import { MCP_PROVIDER_ID } from '../../src/extension/tools/mcpServerProvider';

const pkg = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'));
const TOOL_NAMES = MEMORY_TOOLS.map((t) => t.name);

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

/** The per-fact manager's reply: supersede the first memory shown. */
function replacesFirst(req: FakeChatRequest & { response_format?: any }): string {
  const ids: string[] = req.response_format?.json_schema?.schema?.properties?.id?.enum ?? [];
  return JSON.stringify({ decision: 'REPLACES', id: ids[0] ?? 'none' });
}

const invoke = (name: string, input: object, token?: unknown) => vscode.lm.invokeTool(name, { input, toolInvocationToken: token as never }) as Promise<LanguageModelToolResult>;
const text = (r: LanguageModelToolResult) => (r.content as { value: string }[]).map((p) => p.value).join('');

describe('language-model tools: manifest', () => {
  it('declares every tool with the core spec (description, schema, #reference, when clause) and the MCP provider', () => {
    const declared = pkg.contributes.languageModelTools as any[];
    expect(declared.map((t) => t.name)).toEqual(TOOL_NAMES);
    for (const spec of MEMORY_TOOLS) {
      const t = declared.find((d) => d.name === spec.name);
      expect(t.modelDescription).toBe(spec.description);
      expect(t.inputSchema).toEqual(spec.inputSchema);
      expect(t.toolReferenceName).toBe(spec.toolReferenceName);
      expect(t.canBeReferencedInPrompt).toBe(true);
      expect(t.when).toBe('config.projectMemory.tools.enabled && isWorkspaceTrusted');
      expect(t.displayName && t.userDescription).toBeTruthy();
    }
    expect(declared[0].toolReferenceName).toBe('memory');
    expect(new Set(declared.map((t) => t.toolReferenceName)).size).toBe(declared.length);
    expect(pkg.contributes.mcpServerDefinitionProviders).toEqual([{ id: MCP_PROVIDER_ID, label: 'Project Memory' }]);
    expect(pkg.contributes.configuration.properties['projectMemory.tools.enabled'].default).toBe(true);
  });
});

describe('language-model tools through the shim', () => {
  it('are offered only while trusted and turned on', async () => {
    h = await startHarness();
    expect([...testing.state.lmTools.keys()]).toEqual(TOOL_NAMES);
    expect(vscode.lm.tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    testing.setConfig('projectMemory.tools.enabled', false);
    expect(vscode.lm.tools).toEqual([]);
    await expect(invoke('memory_search', { query: 'x' })).rejects.toThrow(/not available/);
    testing.setConfig('projectMemory.tools.enabled', true);
    testing.setTrusted(false);
    expect(vscode.lm.tools).toEqual([]);
    // A caller that ignores the when clause gets a refusal from the tool itself.
    await expect(Promise.resolve(testing.state.lmTools.get('memory_search')!.invoke({ input: { query: 'x' } }, new CancellationTokenSource().token))).rejects.toThrow(
      'Project Memory tools are off in an untrusted workspace.',
    );
  });

  it('prepareInvocation names the change for writes, redacted, and asks nothing for search', async () => {
    h = await startHarness();
    const bank = await h.api.pm.getBank();
    const rec = await bank.addManual('Deploys go through GitHub Actions on every tag.');
    const prepare = (name: string, input: unknown) => testing.state.lmTools.get(name)!.prepareInvocation!({ input }, new CancellationTokenSource().token) as Promise<any>;

    const search = await prepare('memory_search', { query: 'deploy' });
    expect(search).toEqual({ invocationMessage: 'Searching project memory for "deploy"' });

    const remember = await prepare('memory_remember', { text: 'Staging uses postgres://app:s3cretPassw0rd@db.internal:5432/app' });
    expect(remember.confirmationMessages.title).toBe('Remember in project memory?');
    expect(remember.confirmationMessages.message).toContain('Store this fact in the project memory: "Staging uses postgres://app:[REDACTED');
    expect(JSON.stringify(remember)).not.toContain('s3cretPassw0rd');

    const forget = await prepare('memory_forget', { id: rec.memoryId, reason: 'moved to Buildkite' });
    expect(forget.confirmationMessages).toEqual({
      title: `Forget memory ${rec.memoryId.slice(0, 8)}?`,
      message: 'Delete the memory "Deploys go through GitHub Actions on every tag." (reason: "moved to Buildkite"). It stays in the history and can be undone.',
    });
    const update = await prepare('memory_update', { id: rec.memoryId.slice(0, 8), text: 'Deploys go through Buildkite on every tag.' });
    expect(update.confirmationMessages.message).toBe(
      'Replace "Deploys go through GitHub Actions on every tag." with "Deploys go through Buildkite on every tag.". The old version is kept as superseded and the change can be undone.',
    );
    const undo = await prepare('memory_undo', { operationId: rec.opId });
    expect(undo.confirmationMessages.title).toBe(`Undo ADD ${rec.opId.slice(0, 8)}?`);
    expect(undo.confirmationMessages.message).toMatch(/^Revert the ADD of "Deploys go through GitHub Actions on every tag\." \(memory /);
    const missing = await prepare('memory_forget', { id: 'nope' });
    expect(missing.confirmationMessages.message).toBe('There is no memory with id "nope"; the call will fail.');
    const bad = await prepare('memory_update', { id: rec.memoryId });
    expect(bad.confirmationMessages.message).toBe('memory_update: "text" is required. The call will fail.');
  });

  it('remember goes through the Memory Manager (its decision comes back), records the agent, and update/forget/undo work by id', async () => {
    h = await startHarness({ reply: (req) => replacesFirst(req as never) });
    const bank = await h.api.pm.getBank();
    const owner = await bank.addManual('Dana owns the payments webhook handler.');
    const chatCalls = () => h!.server.requests.filter((r) => r.path.endsWith('/chat/completions') && roleOf(r.body) !== 'kind');

    // The user cancels: nothing runs.
    testing.answer(() => 'Cancel');
    await expect(invoke('memory_remember', { text: 'Sam now owns the payments webhook handler, taking over from Dana.' })).rejects.toThrow('Canceled');
    expect(chatCalls()).toHaveLength(0);

    testing.answer(() => 'Continue');
    const r = await invoke('memory_remember', { text: 'Sam now owns the payments webhook handler, taking over from Dana.' }, { chat: 'request-1' });
    expect(chatCalls()).toHaveLength(1);
    expect(chatCalls()[0].body.response_format.json_schema.name).toBe('memory_decision');
    expect(text(r)).toMatch(/^The Memory Manager decided for "Sam now owns the payments webhook handler, taking over from Dana\.":\n- UPDATE memory:\S+ \(operation \S+\): "Sam now owns/);
    expect(bank.get(owner.memoryId)?.status).toBe('superseded');
    const successor = bank.get(owner.memoryId)!.supersededBy!;
    const recs = bank.history(successor);
    expect(recs.map((x) => x.action)).toEqual(['UPDATE']);
    expect(recs[0].source).toEqual({ kind: 'agent', ref: 'vscode:memory_remember', actor: 'VS Code chat' });

    testing.answer(() => 'Continue');
    const upd = await invoke('memory_update', { id: successor, text: 'Sam and Lee own the payments webhook handler.' });
    expect(text(upd)).toMatch(/^Updated: memory:\S+ now holds "Sam and Lee own the payments webhook handler\."; it supersedes memory:/);
    const current = bank.get(successor)!.supersededBy!;
    expect(bank.history(current)[0].source).toEqual({ kind: 'agent', ref: 'vscode:memory_update', actor: 'VS Code extension' });

    testing.answer(() => 'Continue');
    const forgot = await invoke('memory_forget', { id: current, reason: 'team disbanded' });
    expect(bank.get(current)?.status).toBe('deleted');
    const del = bank.history(current).at(-1)!;
    expect(del).toMatchObject({ action: 'DELETE', reason: 'forgotten by VS Code extension: team disbanded', source: { kind: 'agent', ref: 'vscode:memory_forget' } });
    expect(text(forgot)).toContain(`(operation ${del.opId}; undo with memory_undo)`);

    testing.answer(() => 'Continue');
    await invoke('memory_undo', { operationId: del.opId });
    expect(bank.get(current)?.status).toBe('active');
    expect(bank.history(current).at(-1)).toMatchObject({ action: 'UNDO', undoes: del.opId, source: { kind: 'agent', ref: 'vscode:memory_undo', actor: 'VS Code extension' } });

    // Search is read-only: no confirmation, memories with ids, dates, status and sources.
    const s = await invoke('memory_search', { query: 'payments webhook', status: 'all' });
    expect(testing.state.toolInvocations.at(-1)!.prepared.confirmationMessages).toBeUndefined();
    expect(text(s)).toContain(`memory:${current} · ${new Date().toISOString().slice(0, 10)} · active, replaces memory:${successor} · other · agent · vscode:memory_update · by VS Code extension`);
    expect(text(s)).toContain(`memory:${owner.memoryId} · `);
    expect(text(s)).toMatch(/Cite a memory you use as \[memory:<id>\]\.$/);

    // Bad input: a clear error for the model, nothing written.
    const before = bank.history().length;
    testing.answer(() => 'Continue');
    await expect(invoke('memory_forget', { id: 'no-such-memory' })).rejects.toThrow('No memory with id "no-such-memory". Use memory_search to find ids.');
    await expect(invoke('memory_search', { query: 'x', topK: 500 })).rejects.toThrow('memory_search: "topK" must be an integer from 1 to 50.');
    expect(bank.history().length).toBe(before);
    expect(testing.state.logs.some((l) => l.includes('Tool memory_remember (VS Code chat): UPDATE'))).toBe(true);
  });

  it('lists the MCP server on this workspace bank, with the endpoint added when VS Code starts it; copies the config for other agents', async () => {
    h = await startHarness();
    const provider = testing.state.mcpProviders.get(MCP_PROVIDER_ID);
    const [def] = await provider.provideMcpServerDefinitions(new CancellationTokenSource().token);
    expect(def.label).toBe('Project Memory');
    expect(def.command).toBe(process.execPath);
    expect(def.args).toEqual([path.join(process.cwd(), 'dist', 'mcp.js'), '--bank', h.api.pm.bankFolder]);
    expect(def.env).toEqual({});
    const resolved = await provider.resolveMcpServerDefinition(def, new CancellationTokenSource().token);
    expect(resolved.env).toMatchObject({ MEMORY_R1_BASE_URL: h.server.url, MEMORY_R1_MODEL: 'fake-model', MEMORY_R1_MANAGER_PROTOCOL: 'per-fact' });

    let fired = 0;
    provider.onDidChangeMcpServerDefinitions(() => fired++);
    testing.setConfig('projectMemory.tools.enabled', false);
    expect(fired).toBe(1);
    expect(await provider.provideMcpServerDefinitions(new CancellationTokenSource().token)).toEqual([]);
    expect(await provider.resolveMcpServerDefinition(def, new CancellationTokenSource().token)).toBeUndefined();

    testing.answer(() => undefined);
    await h.command('projectMemory.copyMcpConfig');
    expect(JSON.parse(testing.state.clipboard)).toEqual({
      mcpServers: { 'project-memory': { command: 'node', args: [path.join(process.cwd(), 'dist', 'mcp.js'), '--bank', h.api.pm.bankFolder], env: { MEMORY_R1_BASE_URL: h.server.url, MEMORY_R1_MODEL: 'fake-model' } } },
    });
  });
});

describe('an agent on the extension\'s own model', () => {
  it('calls memory_search through tool calling and answers from its result', async () => {
    h = await startHarness();
    const bank = await h.api.pm.getBank();
    const rec = await bank.addManual('Deploys go through GitHub Actions on every tag.');
    // The model: first a tool call, then an answer from the tool's result (as an agent-mode model does).
    h.server.setReply((req) => {
      const tool = (req.messages as { role: string; content: string }[]).find((m) => m.role === 'tool');
      if (!tool) return toolCallReply([{ name: 'memory_search', arguments: { query: 'how do we deploy', topK: 3 } }]);
      const id = /memory:(\S+) · /.exec(tool.content)?.[1];
      return `You deploy with GitHub Actions on every tag [memory:${id}].`;
    });
    const provider = testing.state.lmProviders.get('project-memory') as EndpointChatProvider;
    const token = new CancellationTokenSource().token;
    const tools = vscode.lm.tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema }));
    const ask = async (messages: LanguageModelChatMessage[]) => {
      const parts: unknown[] = [];
      await provider.provideLanguageModelChatResponse({ id: 'fake-model' } as never, messages as never, { toolMode: LanguageModelChatToolMode.Auto, tools } as never, { report: (p: unknown) => parts.push(p) }, token as never);
      return parts;
    };
    const question = LanguageModelChatMessage.User('How do we deploy?');
    const first = await ask([question]);
    const calls = first.filter((p): p is LanguageModelToolCallPart => p instanceof LanguageModelToolCallPart);
    expect(calls.map((c) => [c.name, c.input])).toEqual([['memory_search', { query: 'how do we deploy', topK: 3 }]]);
    const result = await invoke(calls[0].name, calls[0].input, { chat: 'agent-request' });
    const second = await ask([question, LanguageModelChatMessage.Assistant(calls), LanguageModelChatMessage.User([new LanguageModelToolResultPart(calls[0].callId, result.content)])]);
    const answer = second.map((p) => (p instanceof LanguageModelTextPart ? p.value : '')).join('');
    expect(answer).toBe(`You deploy with GitHub Actions on every tag [memory:${rec.memoryId}].`);
    const sent = h.server.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body);
    expect(sent).toHaveLength(2);
    expect(sent[0].tools.map((t: { function: { name: string } }) => t.function.name)).toContain('memory_search');
    expect(sent[1].messages.find((m: { role: string }) => m.role === 'tool').content).toContain(`memory:${rec.memoryId} · `);
    expect(bank.history().length).toBe(1); // a search writes nothing
  });
});
