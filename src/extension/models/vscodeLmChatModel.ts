import * as vscode from 'vscode';
import type { ChatModel, ChatRequest, ChatResponse } from '../../core/llm/chatModel';
import { LlmError } from '../../core/errors';

/**
 * The engine's `ChatModel` over a VS Code language model (Copilot or any other provider).
 * VS Code has no system role and no JSON mode: the system prompt becomes the first user message and
 * JSON output is asked for in the prompt; the engine's tolerant JSON extractor reads the reply.
 */
export class VsCodeLmChatModel implements ChatModel {
  readonly name: string;

  constructor(
    private readonly model: vscode.LanguageModelChat,
    private readonly justification = vscode.l10n.t('Project Memory uses the model to extract, organise and answer from your project memories.'),
  ) {
    this.name = `${model.vendor}/${model.id}`;
  }

  complete(req: ChatRequest): Promise<ChatResponse> {
    return this.stream(req, () => undefined);
  }

  async stream(req: ChatRequest, onDelta: (delta: string) => void): Promise<ChatResponse> {
    const messages = toVsCodeMessages(req);
    const cts = new vscode.CancellationTokenSource();
    const onAbort = () => cts.cancel();
    if (req.signal?.aborted) throw new LlmError('CANCELLED', 'The model request was cancelled.', false);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let text = '';
    try {
      const modelOptions: Record<string, unknown> = {};
      if (req.temperature !== undefined) modelOptions.temperature = req.temperature;
      if (req.maxTokens) modelOptions.max_tokens = req.maxTokens;
      const res = await this.model.sendRequest(messages, { justification: this.justification, modelOptions }, cts.token);
      for await (const part of res.stream) {
        if (part instanceof vscode.LanguageModelTextPart && part.value) {
          text += part.value;
          onDelta(part.value);
        }
      }
    } catch (err) {
      if (req.signal?.aborted || cts.token.isCancellationRequested) throw new LlmError('CANCELLED', 'The model request was cancelled.', false);
      throw toLlmError(err, this.name);
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      cts.dispose();
    }
    // VS Code reports no usage; estimate (≈4 characters a token) so budgets and logs have a figure.
    const promptChars = req.messages.reduce((n, m) => n + m.content.length, 0);
    return {
      text,
      model: this.name,
      usage: { promptTokens: Math.ceil(promptChars / 4), completionTokens: Math.ceil(text.length / 4) },
    };
  }
}

export function toVsCodeMessages(req: ChatRequest): vscode.LanguageModelChatMessage[] {
  const out: vscode.LanguageModelChatMessage[] = [];
  const system = req.messages.filter((m) => m.role === 'system').map((m) => m.content);
  const rest = req.messages.filter((m) => m.role !== 'system');
  let jsonInstruction = '';
  if (req.json) {
    jsonInstruction =
      '\n\nRespond with a single JSON object and nothing else (no prose, no code fence).' +
      (req.json.schema ? ` It must match this JSON schema:\n${JSON.stringify(req.json.schema)}` : '');
  }
  if (system.length) out.push(vscode.LanguageModelChatMessage.User(`Instructions:\n${system.join('\n\n')}`));
  rest.forEach((m, i) => {
    const isLast = i === rest.length - 1;
    const content = isLast && m.role === 'user' ? m.content + jsonInstruction : m.content;
    out.push(m.role === 'assistant' ? vscode.LanguageModelChatMessage.Assistant(content) : vscode.LanguageModelChatMessage.User(content));
  });
  if (jsonInstruction && rest[rest.length - 1]?.role !== 'user') out.push(vscode.LanguageModelChatMessage.User(jsonInstruction.trim()));
  return out;
}

function toLlmError(err: unknown, model: string): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof vscode.LanguageModelError) {
    if (err.code === 'Blocked') {
      return new LlmError('RATE_LIMITED', `The language model ${model} is blocked or rate limited: ${err.message}`, true);
    }
    if (err.code === 'NoPermissions') {
      return new LlmError('HTTP', `Project Memory may not use the language model ${model}: ${err.message}`, false);
    }
    if (err.code === 'NotFound') {
      return new LlmError('UNREACHABLE', `The language model ${model} is not available: ${err.message}`, true);
    }
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new LlmError('HTTP', `The language model ${model} failed: ${msg}`, true);
}
