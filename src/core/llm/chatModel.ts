import type { ChatMessage, TokenUsage } from '../types';

export interface ChatRequest {
  messages: ChatMessage[];
  /** Ask for JSON output. With a schema the server may constrain decoding to it. */
  json?: { schema?: Record<string, unknown>; name?: string };
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface ChatResponse {
  text: string;
  model: string;
  usage: TokenUsage;
}

/**
 * A chat model. The engine's agents only see this interface, so the same code runs against an
 * OpenAI-compatible endpoint (CLI, benchmarks, training reward) or VS Code's `vscode.lm` (extension).
 */
export interface ChatModel {
  readonly name: string;
  complete(req: ChatRequest): Promise<ChatResponse>;
  /** Streams text deltas; resolves to the full response. */
  stream(req: ChatRequest, onDelta: (delta: string) => void): Promise<ChatResponse>;
}
