// LLM-as-a-judge for LoCoMo answers: the ACCURACY_PROMPT published with Mem0's evaluation
// (mem0ai/mem0, evaluation/metrics/llm_judge.py, Apache-2.0) and used by Memory-R1 for its J score.
// The prompt text is kept as published (typographic quotes included) so scores stay comparable.
import type { ChatMessage } from '../types';
import type { ChatModel } from '../llm/chatModel';
import { LlmError } from '../errors';
import { extractJson } from '../util/jsonExtract';

export type JudgeLabel = 'CORRECT' | 'WRONG';

export const ACCURACY_PROMPT = `
Your task is to label an answer to a question as ’CORRECT’ or ’WRONG’. You will be given the following data:
    (1) a question (posed by one user to another user), 
    (2) a ’gold’ (ground truth) answer, 
    (3) a generated answer
which you will score as CORRECT/WRONG.

The point of the question is to ask about something one user should know about the other user based on their prior conversations.
The gold answer will usually be a concise and short answer that includes the referenced topic, for example:
Question: Do you remember what I got the last time I went to Hawaii?
Gold answer: A shell necklace
The generated answer might be much longer, but you should be generous with your grading - as long as it touches on the same topic as the gold answer, it should be counted as CORRECT. 

For time related questions, the gold answer will be a specific date, month, year, etc. The generated answer might be much longer or use relative time references (like "last Tuesday" or "next month"), but you should be generous with your grading - as long as it refers to the same date or time period as the gold answer, it should be counted as CORRECT. Even if the format differs (e.g., "May 7th" vs "7 May"), consider it CORRECT if it's the same date.

Now it's time for the real question:
Question: {question}
Gold answer: {gold_answer}
Generated answer: {generated_answer}

First, provide a short (one sentence) explanation of your reasoning, then finish with CORRECT or WRONG. 
Do NOT include both CORRECT and WRONG in your response, or it will break the evaluation script.

Just return the label CORRECT or WRONG in a json format with the key as "label".
`;

/** JSON schema for servers that constrain decoding; Mem0 itself only asks for a JSON object. */
export const JUDGE_SCHEMA: Record<string, unknown> = {
  type: 'object',
  properties: { label: { type: 'string', enum: ['CORRECT', 'WRONG'] } },
  required: ['label'],
};

/** The judge conversation: one user message, as Mem0 sends it. */
export function buildJudgeMessages(question: string, gold: string, generated: string): ChatMessage[] {
  // Substituted in one pass so braces inside the answers are never re-read as placeholders.
  const values: Record<string, string> = { question, gold_answer: gold, generated_answer: generated };
  const content = ACCURACY_PROMPT.replace(/\{(question|gold_answer|generated_answer)\}/g, (_, key: string) => values[key]);
  return [{ role: 'user', content }];
}

/**
 * The judge's label from its output: a JSON `{"label": ...}` (bare, fenced or inside prose), else a lone
 * upper-case CORRECT or WRONG in the text. Undefined when absent or when both words appear.
 */
export function parseJudgeLabel(text: string): JudgeLabel | undefined {
  const json = extractJson(text);
  const fromJson = labelFromJson(json);
  if (fromJson) return fromJson;
  const visible = text.replace(/<think>[\s\S]*?(?:<\/think>|$)/gi, ' ');
  const quoted = /["']?label["']?\s*[:=]\s*["']?(correct|wrong)\b/i.exec(visible);
  if (quoted) return quoted[1].toUpperCase() as JudgeLabel;
  const correct = /\bCORRECT\b/.test(visible);
  const wrong = /\bWRONG\b/.test(visible);
  if (correct !== wrong) return correct ? 'CORRECT' : 'WRONG';
  return undefined;
}

function labelFromJson(value: unknown): JudgeLabel | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const [key, v] of Object.entries(value)) {
    if (key.toLowerCase() !== 'label' || typeof v !== 'string') continue;
    const label = v.trim().toUpperCase();
    if (label === 'CORRECT' || label === 'WRONG') return label;
  }
  return undefined;
}

export interface JudgeOptions {
  /** Extra attempts when the output carries no label (default 1). */
  retries?: number;
  signal?: AbortSignal;
}

export interface JudgeVerdict {
  label: JudgeLabel;
  /** 1 for CORRECT, 0 for WRONG: the J score of one question. */
  score: number;
  /** The judge's raw output. */
  raw: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/** Asks `model` (JSON mode, temperature 0) whether `generated` answers `question` like `gold`. */
export async function judge(
  model: ChatModel,
  question: string,
  gold: string,
  generated: string,
  options: JudgeOptions = {},
): Promise<JudgeVerdict> {
  const messages = buildJudgeMessages(question, gold, generated);
  const attempts = 1 + Math.max(0, options.retries ?? 1);
  let promptTokens = 0;
  let completionTokens = 0;
  let lastText = '';
  for (let i = 0; i < attempts; i++) {
    const res = await model.complete({
      messages,
      json: { schema: JUDGE_SCHEMA, name: 'judge_label' },
      temperature: 0,
      signal: options.signal,
    });
    promptTokens += res.usage.promptTokens;
    completionTokens += res.usage.completionTokens;
    lastText = res.text;
    const label = parseJudgeLabel(res.text);
    if (label) {
      return { label, score: label === 'CORRECT' ? 1 : 0, raw: res.text, model: res.model, promptTokens, completionTokens };
    }
  }
  throw new LlmError('BAD_OUTPUT', `judge model ${model.name} returned no CORRECT/WRONG label: ${JSON.stringify(lastText.slice(0, 200))}`, false);
}
