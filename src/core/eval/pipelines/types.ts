// What every evaluated pipeline implements, plus the shared pieces: a metering wrapper around the
// chat models (latency and tokens per call) and fact extraction with the engine's own prompt.
import type { Embedder } from '../../embeddings/embedder';
import type { ChatModel, ChatRequest, ChatResponse } from '../../llm/chatModel';
import type { OperationType, TokenUsage } from '../../types';
import type { LocomoSample } from '../locomo';

/** A few consecutive turns of one session, fed to a pipeline as one event. */
export interface DialogueEvent {
  /** Position in the sample's event list (0-based). */
  index: number;
  sessionIndex: number;
  /** The raw session date, e.g. `1:56 pm on 8 May, 2023`. */
  sessionDate: string;
  /** The session date as ISO 8601, when it parses. */
  eventTime?: string;
  /** Dialogue ids of the turns (`D1:3`). */
  diaIds: string[];
  speakers: string[];
  /** One `Speaker: text [shares a photo: ...]` line per turn. */
  lines: string[];
}

export const PIPELINE_NAMES = ['memory-r1', 'mem0', 'mem0-v2', 'add-only', 'rag', 'full-context'] as const;
export type PipelineName = (typeof PIPELINE_NAMES)[number];
/** What runs without --pipelines: all but `mem0`, which needs the Python venv of scripts/setup-mem0.sh. */
export const DEFAULT_PIPELINES: readonly PipelineName[] = ['memory-r1', 'mem0-v2', 'add-only', 'rag', 'full-context'];

export interface PipelineEnv {
  sample: LocomoSample;
  /** A folder of this (pipeline, sample) for its memory bank; kept between runs for --resume. */
  folder: string;
  models: MeteredModels;
  embedder: Embedder;
  /** Memories (or turns) retrieved for an answer. */
  topK: number;
  /** Context window of the answer model in tokens (full-context checks the fit against it). */
  contextTokens: number;
  /** Every event the run feeds this sample (full-context needs the whole conversation up front). */
  events: DialogueEvent[];
  /** The run's OpenAI-compatible endpoint, for pipelines that call it themselves (the real Mem0). */
  endpoint?: { baseURL: string; apiKey?: string };
}

export interface IngestStats {
  facts: number;
  operations: Partial<Record<OperationType, number>>;
  /** Latency of each extraction call (ms). */
  extractMs: number[];
  /** Latency of each manager call (ms). */
  managerMs: number[];
  usage: TokenUsage;
}

export interface PipelineAnswer {
  /** The answer that gets scored. */
  prediction: string;
  /** The model's whole output. */
  raw: string;
  /** Retrieval time (ms); 0 where nothing is retrieved. */
  searchMs: number;
  /** Answer-model call time (ms). */
  answerMs: number;
  usage: TokenUsage;
  /** Memories or turns put in the prompt. */
  retrieved: number;
}

/** One pipeline working on one sample. */
export interface EvalSession {
  /** Set when the pipeline cannot run on this sample (why); then nothing is ingested or asked. */
  readonly skipped?: string;
  ingest(event: DialogueEvent): Promise<IngestStats>;
  answer(question: string): Promise<PipelineAnswer>;
  close(): Promise<void>;
}

export interface EvalPipeline {
  readonly name: PipelineName;
  /** One line for the report. */
  readonly description: string;
  open(env: PipelineEnv): Promise<EvalSession>;
}

export interface MeteredCall {
  ms: number;
  usage: TokenUsage;
}

/** A chat model that records the latency and token use of every call it passes through. */
export class MeteredChatModel implements ChatModel {
  private calls: MeteredCall[] = [];

  constructor(private readonly inner: ChatModel) {}

  get name(): string {
    return this.inner.name;
  }

  complete(req: ChatRequest): Promise<ChatResponse> {
    return this.measure(() => this.inner.complete(req));
  }

  stream(req: ChatRequest, onDelta: (delta: string) => void): Promise<ChatResponse> {
    return this.measure(() => this.inner.stream(req, onDelta));
  }

  /** The calls recorded since the last take, and forgets them. */
  take(): MeteredCall[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }

  private async measure(call: () => Promise<ChatResponse>): Promise<ChatResponse> {
    const started = performance.now();
    const res = await call();
    this.calls.push({ ms: performance.now() - started, usage: { ...res.usage } });
    return res;
  }
}

export interface MeteredModels {
  extractor: MeteredChatModel;
  manager: MeteredChatModel;
  answerer: MeteredChatModel;
}

export function emptyIngestStats(): IngestStats {
  return { facts: 0, operations: {}, extractMs: [], managerMs: [], usage: { promptTokens: 0, completionTokens: 0 } };
}

export function addUsage(into: TokenUsage, add: TokenUsage): void {
  into.promptTokens += add.promptTokens;
  into.completionTokens += add.completionTokens;
}

export function sumUsage(calls: MeteredCall[]): TokenUsage {
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  for (const c of calls) addUsage(usage, c.usage);
  return usage;
}

/** The event as the extractor and the engine see it: its turns, one per line. */
export function eventText(event: DialogueEvent): string {
  return event.lines.join('\n');
}

/** `YYYY-MM-DD` of the event's session, or the raw session date when it did not parse. */
export function eventDay(event: { eventTime?: string; sessionDate: string }): string | undefined {
  return event.eventTime ? event.eventTime.slice(0, 10) : event.sessionDate || undefined;
}

export function countOp(stats: IngestStats, type: OperationType, n = 1): void {
  stats.operations[type] = (stats.operations[type] ?? 0) + n;
}
