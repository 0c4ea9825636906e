import * as vscode from 'vscode';
import type OpenAI from 'openai';
import { LlmError } from '../../core/errors';
import { withAbortSignal } from '../ui';

/** Where the provider gets its endpoint; undefined when none is configured or it may not be used. */
export interface EndpointAccess {
  resolve(interactive: boolean): Promise<{ url: string; apiKey?: string } | undefined>;
  onDidChange: vscode.Event<void>;
  log: vscode.LogOutputChannel;
}

type OpenAIMessage = OpenAI.Chat.ChatCompletionMessageParam;
type OpenAITool = OpenAI.Chat.ChatCompletionFunctionTool;

/**
 * Offers the configured OpenAI-compatible endpoint's models as VS Code chat models (vendor
 * `project-memory`), with tool calling mapped to OpenAI `tools` / `tool_calls`.
 */
export class EndpointChatProvider implements vscode.LanguageModelChatProvider {
  readonly onDidChangeLanguageModelChatInformation: vscode.Event<void>;

  constructor(private readonly access: EndpointAccess) {
    this.onDidChangeLanguageModelChatInformation = access.onDidChange;
  }

  async provideLanguageModelChatInformation(
    options: vscode.PrepareLanguageModelChatModelOptions,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelChatInformation[]> {
    const ep = await this.access.resolve(!options.silent);
    if (!ep) return [];
    const { testConnection } = await import('../../core/llm/openaiChatModel');
    const res = await withAbortSignal(token, (signal) => testConnection(ep.url, ep.apiKey, signal));
    if (!res.ok) {
      this.access.log.warn(`Cannot list models of ${ep.url}: ${res.error}`);
      return [];
    }
    return res.models.map((id) => ({
      id,
      name: id,
      family: id,
      version: '1',
      detail: ep.url,
      tooltip: vscode.l10n.t('{0} on {1} (Project Memory endpoint)', id, ep.url),
      maxInputTokens: 32_768,
      maxOutputTokens: 4_096,
      capabilities: { toolCalling: true },
    }));
  }

  async provideLanguageModelChatResponse(
    model: vscode.LanguageModelChatInformation,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const ep = await this.access.resolve(true);
    if (!ep) throw new Error(vscode.l10n.t('No Project Memory endpoint is configured, or it is not allowed in this workspace.'));
    const { default: OpenAIClient } = await import('openai');
    const client = new OpenAIClient({ baseURL: ep.url, apiKey: ep.apiKey || 'not-needed', maxRetries: 2 });
    const tools = toOpenAITools(options.tools ?? []);
    const modelOptions = (options.modelOptions ?? {}) as Record<string, unknown>;
    const body: OpenAI.Chat.ChatCompletionCreateParamsStreaming = {
      model: model.id,
      messages: toOpenAIMessages(messages),
      stream: true,
      ...(typeof modelOptions.temperature === 'number' ? { temperature: modelOptions.temperature } : {}),
      ...(typeof modelOptions.max_tokens === 'number' ? { max_tokens: modelOptions.max_tokens } : {}),
      ...(tools.length ? { tools, tool_choice: options.toolMode === vscode.LanguageModelChatToolMode.Required ? 'required' : 'auto' } : {}),
    };
    const acc = new ToolCallAccumulator();
    try {
      await withAbortSignal(token, async (signal) => {
        const stream = await client.chat.completions.create(body, { signal });
        for await (const chunk of stream) {
          const delta = chunk.choices?.[0]?.delta;
          if (delta?.content) progress.report(new vscode.LanguageModelTextPart(delta.content));
          if (delta?.tool_calls) acc.add(delta.tool_calls);
        }
      });
    } catch (err) {
      if (token.isCancellationRequested) return;
      const { toLlmError } = await import('../../core/llm/openaiChatModel');
      throw toLlmError(err, ep.url);
    }
    for (const call of acc.finish()) progress.report(new vscode.LanguageModelToolCallPart(call.id, call.name, call.input));
  }

  async provideTokenCount(
    _model: vscode.LanguageModelChatInformation,
    text: string | vscode.LanguageModelChatRequestMessage,
  ): Promise<number> {
    // No tokenizer for arbitrary servers: ≈4 characters a token is what VS Code uses to budget context.
    const s = typeof text === 'string' ? text : partsToText(text.content);
    return Math.ceil(s.length / 4);
  }
}

export function toOpenAITools(tools: readonly vscode.LanguageModelChatTool[]): OpenAITool[] {
  return tools.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      description: t.description,
      parameters: (t.inputSchema as Record<string, unknown> | undefined) ?? { type: 'object', properties: {} },
    },
  }));
}

/** VS Code request messages → OpenAI chat messages; tool results become `tool` messages. */
export function toOpenAIMessages(messages: readonly vscode.LanguageModelChatRequestMessage[]): OpenAIMessage[] {
  const out: OpenAIMessage[] = [];
  for (const m of messages) {
    const texts: string[] = [];
    const calls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
    const results: OpenAIMessage[] = [];
    for (const part of m.content) {
      if (part instanceof vscode.LanguageModelTextPart) texts.push(part.value);
      else if (part instanceof vscode.LanguageModelToolCallPart) {
        calls.push({ id: part.callId, type: 'function', function: { name: part.name, arguments: JSON.stringify(part.input ?? {}) } });
      } else if (part instanceof vscode.LanguageModelToolResultPart) {
        results.push({ role: 'tool', tool_call_id: part.callId, content: partsToText(part.content) });
      }
    }
    if (m.role === vscode.LanguageModelChatMessageRole.Assistant) {
      const msg: OpenAI.Chat.ChatCompletionAssistantMessageParam = { role: 'assistant', content: texts.join('') || null };
      if (calls.length) msg.tool_calls = calls;
      out.push(msg);
    } else {
      // Tool results answer the previous assistant turn's calls, so they go before any new user text.
      out.push(...results);
      if (texts.length) out.push({ role: m.role === vscode.LanguageModelChatMessageRole.User ? 'user' : 'system', content: texts.join('') });
    }
  }
  return out;
}

function partsToText(parts: ReadonlyArray<unknown>): string {
  return parts
    .map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : typeof p === 'string' ? p : ''))
    .join('');
}

/** Collects streamed `tool_calls` deltas (split across chunks by index) into whole calls. */
export class ToolCallAccumulator {
  private calls = new Map<number, { id: string; name: string; args: string }>();

  add(deltas: ReadonlyArray<{ index: number; id?: string; function?: { name?: string; arguments?: string } }>): void {
    for (const d of deltas) {
      const cur = this.calls.get(d.index) ?? { id: '', name: '', args: '' };
      if (d.id) cur.id = d.id;
      if (d.function?.name) cur.name += d.function.name;
      if (d.function?.arguments) cur.args += d.function.arguments;
      this.calls.set(d.index, cur);
    }
  }

  finish(): { id: string; name: string; input: object }[] {
    return [...this.calls.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([index, c]) => {
        let input: unknown = {};
        if (c.args.trim()) {
          try {
            input = JSON.parse(c.args);
          } catch {
            throw new LlmError('BAD_OUTPUT', `The model called tool "${c.name}" with arguments that are not valid JSON: ${c.args.slice(0, 200)}`, false);
          }
        }
        if (!c.name) throw new LlmError('BAD_OUTPUT', 'The model sent a tool call without a tool name.', false);
        if (typeof input !== 'object' || input === null || Array.isArray(input)) input = { value: input };
        return { id: c.id || `call_${index}`, name: c.name, input: input as object };
      });
  }
}

