// Activates the real extension against the vscode shim, a temp folder and the fake OpenAI server.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { testing, createExtensionContext, CancellationTokenSource, TestChatResponseStream } from './vscodeShim';
import { startFakeOpenAIServer, type FakeOpenAIServer, type ReplyFn } from './fakeOpenAIServer';
import { activate, deactivate, setCaptureOptionsForTests, setLocalModelOptionsForTests, type ProjectMemoryApi } from '../../src/extension/extension';
import type { LocalModelTestOptions } from '../../src/extension/localModel/localModelService';

export interface Harness {
  root: string;
  workspace: string;
  server: FakeOpenAIServer;
  api: ProjectMemoryApi;
  context: ReturnType<typeof createExtensionContext>;
  /** Sends a chat request to @memory. */
  chat(prompt: string, command?: string, cancel?: CancellationTokenSource): Promise<{ result: vscode.ChatResult; stream: TestChatResponseStream }>;
  command<T = unknown>(id: string, ...args: unknown[]): Promise<T>;
  dispose(): Promise<void>;
}

export async function startHarness(
  opts: { reply?: ReplyFn; trusted?: boolean; endpoint?: boolean; keepRoot?: string; localModel?: LocalModelTestOptions; config?: Record<string, unknown> } = {},
): Promise<Harness> {
  testing.reset();
  const root = opts.keepRoot ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pm-ext-'));
  const workspace = path.join(root, 'ws');
  fs.mkdirSync(workspace, { recursive: true });
  testing.setWorkspaceFolder(workspace);
  testing.setTrusted(opts.trusted ?? true);
  const server = await startFakeOpenAIServer({ reply: opts.reply });
  if (opts.endpoint !== false) {
    testing.setConfig('projectMemory.endpoint.url', server.url);
    testing.setConfig('projectMemory.models.answer', 'fake-model');
  }
  // The lexical embedder unless a test asks for another: `auto` would pick up a MiniLM installed on this machine.
  testing.setConfig('projectMemory.embeddings.provider', 'hashing');
  for (const [k, v] of Object.entries(opts.config ?? {})) testing.setConfig(k, v);
  setLocalModelOptionsForTests(opts.localModel);
  setCaptureOptionsForTests({ batchDelayMs: 10, retryDelaysMs: [50], timings: { saveDebounceMs: 10, commitDebounceMs: 10, diagnosticMinOpenMs: 0 } });
  const context = createExtensionContext(root);
  const api = activate(context as unknown as vscode.ExtensionContext);
  return {
    root,
    workspace,
    server,
    api,
    context,
    async chat(prompt, command, cancel) {
      const participant = testing.state.participants[0];
      const stream = new TestChatResponseStream();
      const token = (cancel ?? new CancellationTokenSource()).token;
      const request = { prompt, command, references: [], toolReferences: [], model: undefined };
      const result = (await participant.handler(request, { history: [] }, stream, token)) as vscode.ChatResult;
      return { result, stream };
    },
    async command(id, ...args) {
      return (await vscode.commands.executeCommand(id, ...args)) as never;
    },
    async dispose() {
      await deactivate();
      for (const d of context.subscriptions) await d.dispose();
      await server.close();
      setCaptureOptionsForTests(undefined);
      setLocalModelOptionsForTests(undefined);
      if (!opts.keepRoot) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Waits until `cond` holds (polling), failing after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A fake-server reply function that routes by which agent is asking. */
export function agentReplies(r: { extract?: (text: string) => string[]; manage?: (fact: string) => unknown; answer?: (prompt: string) => string }): ReplyFn {
  return (req) => {
    const sys = req.messages.find((m) => m.role === 'system')?.content ?? '';
    const user = req.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
    if (/selected memories/i.test(sys)) return r.answer ? r.answer(user) : '**Selected memories:** none\n**Answer:** I do not know.';
    if (/Event(?: \([^)]*\))?:\n<<<\n/.test(user)) {
      const event = /Event(?: \([^)]*\))?:\n<<<\n([\s\S]*)\n>>>/.exec(user)?.[1] ?? '';
      return JSON.stringify({ facts: r.extract ? r.extract(event) : [] });
    }
    // The per-fact protocol (the default): a new fact unless the test decides.
    const perFact = /\n\nNew fact(?: \([^)]*\))?: ([\s\S]*)$/.exec(user);
    if (perFact && !r.manage) return JSON.stringify({ decision: 'NEW', id: 'none' });
    if (perFact) return JSON.stringify(r.manage!(perFact[1]));
    const factLine = user.split('\n').find((l) => l.startsWith('["')) ?? '[""]';
    const fact = (JSON.parse(factLine) as string[])[0];
    return JSON.stringify(r.manage ? r.manage(fact) : { memory: [{ id: 'new', text: fact, event: 'ADD', reason: 'new information' }] });
  };
}
