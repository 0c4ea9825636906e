import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { testing, CancellationTokenSource, LanguageModelChatMessage, LanguageModelChatToolMode, Uri } from '../support/vscodeShim';
import { agentReplies, startHarness, waitFor, type Harness } from '../support/extensionHarness';
import type { EndpointChatProvider } from '../../src/extension/models/endpointChatProvider';
import { MCP_PROVIDER_ID } from '../../src/extension/tools/mcpServerProvider';
import { MEMORY_TOOLS } from '../../src/core/tools/memoryTools';

// Off means off: with capture and the memory tools turned off, an agent-mode chat on the extension's own
// model gets no memory tool and no memory text, and workspace activity makes no model call. The fake
// OpenAI server counts every request that reaches it.
let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

const MEMORY_TEXT = 'Deploys go through GitHub Actions on every tag.';

/** Workspace activity that capture would turn into model calls: a save, a failed command, an error that appears. */
async function activity(h: Harness, n: number): Promise<void> {
  const file = path.join(h.workspace, 'src', `deploy${n}.ts`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'export const target = "staging";\n');
  const doc = testing.openDocument(file, 'export const target = "staging";\n');
  testing.saveDocument(doc, 'export const target = "production";\n');
  testing.endTerminalCommand('npm run deploy', 1, Uri.file(h.workspace), 'Error: missing DEPLOY_TOKEN\n');
  testing.setDiagnostics(Uri.file(file), [new vscode.Diagnostic(new vscode.Range(0, 0, 0, 5), 'Cannot find name "target"')]);
}

/** An agent-mode request on the extension's own model, with every tool VS Code offers. */
async function agentChat(h: Harness): Promise<Record<string, any>> {
  const provider = testing.state.lmProviders.get('project-memory') as EndpointChatProvider;
  const before = h.server.requests.length;
  const token = new CancellationTokenSource().token;
  await provider.provideLanguageModelChatResponse(
    { id: 'fake-model' } as never,
    [LanguageModelChatMessage.User('How do we deploy this project?')] as never,
    { toolMode: LanguageModelChatToolMode.Auto, tools: vscode.lm.tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })) } as never,
    { report: () => undefined },
    token as never,
  );
  const sent = h.server.requests.slice(before);
  expect(sent.map((r) => r.path)).toEqual(['/v1/chat/completions']);
  return sent[0].body;
}

describe('off means off', () => {
  it('with capture and memory off: no tool offered, no MCP server listed, nothing injected, no model call', async () => {
    h = await startHarness({
      reply: agentReplies({ extract: () => ['a fact'] }),
      config: { 'projectMemory.capture.enabled': false, 'projectMemory.tools.enabled': false },
    });
    const bank = await h.api.pm.getBank();
    await bank.addManual(MEMORY_TEXT);
    h.server.setReply(() => 'Run the deploy workflow.');

    await activity(h, 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(h.server.requests).toHaveLength(0);

    expect(vscode.lm.tools).toEqual([]);
    const mcp = testing.state.mcpProviders.get(MCP_PROVIDER_ID);
    expect(await mcp.provideMcpServerDefinitions(new CancellationTokenSource().token)).toEqual([]);
    await expect(vscode.lm.invokeTool('memory_search', { input: { query: 'deploy' }, toolInvocationToken: undefined })).rejects.toThrow(/not available/);

    // The one request is the user's own chat: no memory tool, no memory text in it.
    const body = await agentChat(h);
    expect(body.tools).toBeUndefined();
    expect(JSON.stringify(body.messages)).not.toContain('GitHub Actions');
    expect(h.server.requests).toHaveLength(1);
    expect(h.server.requests.filter((r) => r.path.endsWith('/embeddings'))).toHaveLength(0);
  });

  it('the same counts see the calls once capture and the tools are on', async () => {
    h = await startHarness({ reply: agentReplies({ extract: () => [] }), config: { 'projectMemory.capture.enabled': true } });
    await activity(h, 2);
    await waitFor(() => h!.server.requests.length > 0, 5000, 'a captured event reaching the model');
    expect(vscode.lm.tools.map((t) => t.name)).toEqual(MEMORY_TOOLS.map((t) => t.name));
    h.server.setReply(() => 'Run the deploy workflow.');
    await new Promise((r) => setTimeout(r, 300));
    const body = await agentChat(h);
    expect(body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(MEMORY_TOOLS.map((t) => t.name));
  });
});
