// What a LoCoMo run produces per question and per pipeline × sample: read by the harness (which
// writes them) and the report (which sums them up), so neither imports the other.
import type { LocomoCategory } from './locomo';
import type { IngestStats, PipelineName } from './pipelines/types';

export interface QuestionResult {
  pipeline: PipelineName;
  sampleId: string;
  qaIndex: number;
  question: string;
  gold: string;
  category: LocomoCategory;
  categoryName: string;
  evidence: string[];
  prediction: string;
  raw: string;
  /** mem0F1, mem0Bleu1, locomoF1, exactMatch, and judge (1/0) when judged. */
  scores: Record<string, number>;
  judge?: { label: string; model: string; raw: string; ms: number; promptTokens: number; completionTokens: number };
  judgeError?: string;
  latencyMs: { search: number; answer: number };
  tokens: { prompt: number; completion: number };
  retrieved: number;
  /** Stable key of the question within its sample (index and text hash). */
  key: string;
}

/** What one pipeline did with one sample: ingestion totals, or why it was skipped. */
export interface SampleRun {
  pipeline: PipelineName;
  sampleId: string;
  skipped?: string;
  eventsIngested: number;
  turnsIngested: number;
  stats: IngestStats;
  /** Wall time of each event's ingestion (ms). */
  eventMs: number[];
  questionsPlanned: number;
  questionsOutsideIngested: number;
}
