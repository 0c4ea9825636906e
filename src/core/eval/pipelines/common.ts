// Pieces the memory pipelines share: opening a bank for a sample, extraction with the engine's prompt.
import type { MemoryBank } from '../../bank/memoryBank';
import { extractFactsFromText } from '../../agents/extraction';
import { DEFAULT_ENGINE_OPTIONS } from '../../engine';
import type { ChatModel } from '../../llm/chatModel';
import type { ChatMessage, SourceRef, TokenUsage } from '../../types';
import { extractAnswer } from '../scoring';
import { type DialogueEvent, type MeteredChatModel, type PipelineAnswer, type PipelineEnv, eventText, sumUsage } from './types';
import { openBank } from '../../config';

export async function openEvalBank(env: PipelineEnv): Promise<MemoryBank> {
  // Long LoCoMo turns and merged memories must not hit the interactive bank's size guard.
  return openBank({ bank: { folder: env.folder, watchIntervalMs: 0, limits: { maxMemoryChars: 20_000 } } }, { embedder: env.embedder });
}

/** Extraction exactly as `MemoryEngine.extractFacts` does it (same function, prompt, schema, parser and caps). */
export async function extractFacts(model: ChatModel, event: DialogueEvent): Promise<{ facts: string[]; usage: TokenUsage }> {
  const { facts, usage } = await extractFactsFromText(model, eventText(event), {
    eventTime: event.eventTime,
    maxTokens: DEFAULT_ENGINE_OPTIONS.maxTokens.extractor,
  });
  return { facts, usage };
}

/** The answer step of the baselines: one call with the given prompt, metered. */
export async function answerFrom(answerer: MeteredChatModel, messages: ChatMessage[], searchMs: number, retrieved: number): Promise<PipelineAnswer> {
  const res = await answerer.complete({ messages, temperature: 0, maxTokens: DEFAULT_ENGINE_OPTIONS.maxTokens.answer });
  const calls = answerer.take();
  return {
    prediction: extractAnswer(res.text),
    raw: res.text,
    searchMs,
    answerMs: calls.reduce((s, c) => s + c.ms, 0),
    usage: sumUsage(calls),
    retrieved,
  };
}

export function eventSource(sampleId: string, event: DialogueEvent): SourceRef {
  const speakers = [...new Set(event.speakers)];
  return { kind: 'dialogue', ref: `${sampleId}/${event.diaIds.join(',')}`, actor: speakers.length === 1 ? speakers[0] : undefined };
}
