// Turns a bank's recorded trajectories (MemoryEngine.manageFact / answer) and chat feedback into JSONL
// datasets: what each agent saw, what it said, and what came of it.
import * as path from 'node:path';
import type { MemoryBank } from '../bank/memoryBank';
import type { Feedback } from '../api';
import { answerMessages } from '../agents/prompts';
import type { ChatMessage } from '../types';
import { writeJsonl } from './dataset';

export interface ManagerTrajectoryRow {
  time?: string;
  fact: string;
  candidates: { id: string; text: string }[];
  prompt: ChatMessage[];
  output: string;
  model?: string;
  operations: { type: string; memoryId?: string; text?: string; held?: boolean; rejected?: string }[];
}

export interface AnswerTrajectoryRow {
  answerId: string;
  time?: string;
  question: string;
  prompt: ChatMessage[];
  memories: { key: string; text: string; date?: string }[];
  retrieved: string[];
  distilled: string[];
  output: string;
  answer: string;
  model?: string;
  /** The user's latest verdict on this answer in chat, when given. */
  feedback?: Feedback['kind'];
}

export interface ExportTrainingResult {
  manager: number;
  answer: number;
  withFeedback: number;
  /** Trajectory lines that were not recognisable (kept out of the export). */
  skipped: number;
  files: { manager: string; answer: string };
}

export function exportTrainingData(bank: MemoryBank, outDir: string): ExportTrainingResult {
  const feedback = new Map<string, Feedback['kind']>();
  // Later feedback on the same answer overrides earlier feedback.
  for (const f of bank.side.feedback()) feedback.set(f.answerId, f.kind);
  const manager: ManagerTrajectoryRow[] = [];
  const answer: AnswerTrajectoryRow[] = [];
  let skipped = 0;
  for (const t of bank.side.trajectories()) {
    if (t.kind === 'manager' && typeof t.fact === 'string' && typeof t.output === 'string' && Array.isArray(t.prompt)) {
      manager.push({
        time: str(t.time),
        fact: t.fact,
        candidates: Array.isArray(t.candidates) ? (t.candidates as ManagerTrajectoryRow['candidates']) : [],
        prompt: t.prompt as ChatMessage[],
        output: t.output,
        model: str(t.model),
        operations: Array.isArray(t.operations) ? (t.operations as ManagerTrajectoryRow['operations']) : [],
      });
    } else if (t.kind === 'answer' && typeof t.question === 'string' && typeof t.output === 'string' && typeof t.answerId === 'string') {
      const memories = Array.isArray(t.memories) ? (t.memories as AnswerTrajectoryRow['memories']) : [];
      const fb = feedback.get(t.answerId);
      answer.push({
        answerId: t.answerId,
        time: str(t.time),
        question: t.question,
        prompt: answerMessages(t.question, memories),
        memories,
        retrieved: strings(t.retrieved),
        distilled: strings(t.distilled),
        output: t.output,
        answer: str(t.answer) ?? '',
        model: str(t.model),
        ...(fb ? { feedback: fb } : {}),
      });
    } else skipped++;
  }
  const files = { manager: path.join(outDir, 'manager.jsonl'), answer: path.join(outDir, 'answer.jsonl') };
  writeJsonl(files.manager, manager);
  writeJsonl(files.answer, answer);
  return { manager: manager.length, answer: answer.length, withFeedback: answer.filter((a) => a.feedback).length, skipped, files };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
