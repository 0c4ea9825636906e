// Pieces the memory pipelines share: opening a bank for a sample, extraction with the engine's prompt.
import { MemoryBank } from '../../bank/memoryBank';
import { EXTRACTION_SCHEMA, extractionMessages } from '../../agents/prompts';
import { parseFacts } from '../../agents/managerOutput';
import type { ChatModel } from '../../llm/chatModel';
import type { SourceRef, TokenUsage } from '../../types';
import { type DialogueEvent, type PipelineEnv, eventText } from './types';

export async function openEvalBank(env: PipelineEnv): Promise<MemoryBank> {
  // Long LoCoMo turns and merged memories must not hit the interactive bank's size guard.
  return MemoryBank.open(env.folder, { embedder: env.embedder, watchIntervalMs: 0, limits: { maxMemoryChars: 20_000 } });
}

/** Extraction exactly as `MemoryEngine.extractFacts` does it (same prompt, schema and parser). */
export async function extractFacts(model: ChatModel, event: DialogueEvent): Promise<{ facts: string[]; usage: TokenUsage }> {
  const res = await model.complete({
    messages: extractionMessages(eventText(event), event.eventTime),
    json: { schema: EXTRACTION_SCHEMA, name: 'facts' },
    temperature: 0,
  });
  return { facts: parseFacts(res.text), usage: res.usage };
}

export function eventSource(sampleId: string, event: DialogueEvent): SourceRef {
  const speakers = [...new Set(event.speakers)];
  return { kind: 'dialogue', ref: `${sampleId}/${event.diaIds.join(',')}`, actor: speakers.length === 1 ? speakers[0] : undefined };
}
