// The memory tools as VS Code language-model tools (agent mode, `#memory`, any chat model). The tool
// logic is core/tools, shared with `memory-r1 mcp`; this file is the vscode.lm glue.
import * as vscode from 'vscode';
import type { ProjectMemory } from '../projectMemory';
import { errorMessage } from '../errors';
import { MEMORY_TOOLS, describeToolCall, runMemoryTool, type MemoryToolSpec, type ToolCaller } from '../../core/tools/memoryTools';
import { redactSecrets } from '../../core/privacy/redact';
import { toolsAvailable, toolsOffMessage } from './toolSettings';

/** Who called: VS Code's stable API does not name the chat model or agent, only whether a chat request did. */
function callerOf(options: { toolInvocationToken?: unknown }): ToolCaller {
  return { agent: options.toolInvocationToken !== undefined ? 'VS Code chat' : 'VS Code extension', surface: 'vscode' };
}

export function createMemoryTool(pm: ProjectMemory, spec: MemoryToolSpec): vscode.LanguageModelTool<Record<string, unknown>> {
  return {
    async prepareInvocation(options) {
      // Reads only: the bank (opened lazily) names the memory a write would change.
      const bank = toolsAvailable() ? await pm.getBank().catch(() => undefined) : undefined;
      const d = describeToolCall(spec.name, options.input, bank);
      return {
        invocationMessage: d.invocationMessage,
        // Plain strings: a memory's text is shown as text, never rendered as markdown or links.
        ...(d.confirmation ? { confirmationMessages: { title: d.confirmation.title, message: d.confirmation.message } } : {}),
      };
    },
    async invoke(options, token) {
      if (!toolsAvailable()) throw new Error(toolsOffMessage());
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      const caller = callerOf(options);
      try {
        const bank = await pm.getBank();
        const out = await runMemoryTool(spec.name, options.input, { bank, engine: () => pm.getEngine(undefined, true) }, caller, abort.signal);
        pm.log.info(`Tool ${spec.name} (${caller.agent}): ${out.operations.length ? out.operations.map((o) => `${o.type} ${o.memoryId ?? ''}`.trim()).join(', ') : `${out.memories.length} memories`}`);
        return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(out.text)]);
      } catch (err) {
        if (abort.signal.aborted) throw new vscode.CancellationError();
        const msg = redactSecrets(errorMessage(err)).text;
        pm.log.warn(`Tool ${spec.name} (${caller.agent}) failed: ${msg}`);
        // The message goes back to the model, which can correct its input or tell the user.
        throw new Error(msg);
      } finally {
        sub.dispose();
      }
    },
  };
}

/** Registers every memory tool declared in package.json's `languageModelTools`. */
export function registerMemoryLanguageModelTools(pm: ProjectMemory): vscode.Disposable[] {
  return MEMORY_TOOLS.map((spec) => vscode.lm.registerTool(spec.name, createMemoryTool(pm, spec)));
}
