// The bank-quality benchmark's data and scoring: event streams from real histories (public repositories,
// LoCoMo dev conversations) labelled by hand, rendered the way capture renders each event kind, and the
// measures of the bank a pipeline leaves (bench/bank-quality.ts runs it; the training reward reads the
// dev labels). Format: bench/fixtures/bank-quality/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CaptureEvent, HistoryRecord, Memory, SourceKind } from '../types';
import {
  MAX_EVENT_CHARS,
  clip,
  formatChatTurn,
  formatCommitEvent,
  formatDiagnosticFixedEvent,
  formatSaveEvent,
  formatTerminalEvent,
  isCapturedCommand,
  isWhitespaceOnlyChange,
  summarizeChange,
} from '../capture/eventFormat';
import { loadLocomo, turnText, type LocomoSample } from './locomo';
import { mentionsReference, referencesIn } from '../util/text';

// ---------------------------------------------------------------------------------------------- streams

export interface StreamEvent {
  id: string;
  time: string;
  kind: 'commit' | 'save' | 'terminal' | 'chat' | 'diagnostic' | 'dialogue';
  commit?: { sha: string; author: string; subject: string; body: string; files: string[] };
  save?: { path: string; language: string; isNew?: boolean; before: string; after: string };
  terminal?: { command: string; exitCode?: number; cwd?: string; output?: string };
  chat?: { question: string; answer: string };
  diagnostic?: { path: string; line: number; message: string; source?: string; code?: string; openForMs?: number };
  dialogue?: { conversation: string; turns: string[] };
}

export interface LabelledFact {
  id: string;
  claim: string;
  from: string[];
  status: 'current' | 'stale';
  retiredBy?: string;
  match: string[][];
  exclude?: string[];
}

export interface LabelledQuestion {
  q: string;
  a: string;
  match: string[][];
  evidence?: string[];
}

export interface Stream {
  id: string;
  split: 'dev' | 'test';
  source: { kind: 'repository' | 'locomo'; repo?: string; conversation?: string; range?: string };
  about?: string;
  events: StreamEvent[];
  labels: { facts: LabelledFact[]; leaveNothing: string[]; questions: LabelledQuestion[] };
}

export const STREAMS_DIR = path.join('bench', 'fixtures', 'bank-quality', 'streams');

/** Every stream in `dir`, checked: ids unique, references to events exist, splits named. */
export function loadStreams(dir = STREAMS_DIR): Stream[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return files.map((f) => {
    const s = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Stream;
    const where = `${f}`;
    if (s.split !== 'dev' && s.split !== 'test') throw new Error(`${where}: split must be dev or test`);
    const ids = new Set(s.events.map((e) => e.id));
    if (ids.size !== s.events.length) throw new Error(`${where}: event ids are not unique`);
    const check = (id: string | undefined, what: string) => {
      if (id !== undefined && !ids.has(id)) throw new Error(`${where}: ${what} names the unknown event ${id}`);
    };
    for (const fact of s.labels.facts) {
      for (const e of fact.from) check(e, `fact ${fact.id}`);
      check(fact.retiredBy, `fact ${fact.id} retiredBy`);
      if (!fact.match.length) throw new Error(`${where}: fact ${fact.id} has no match groups`);
    }
    for (const e of s.labels.leaveNothing) check(e, 'leaveNothing');
    return s;
  });
}

/** LoCoMo conversations are read from the shared data folder at run time (never copied into the project). */
export function locomoDir(): string {
  return process.env.LOCOMO_DIR ?? path.resolve('..', 'shared', 'datasets', 'locomo');
}

const locomoCache = new Map<string, LocomoSample>();

function locomoSample(conversation: string): LocomoSample {
  if (!locomoCache.has(conversation)) {
    for (const sample of loadLocomo(path.join(locomoDir(), 'locomo-dev.json'))) locomoCache.set(sample.sampleId, sample);
  }
  const s = locomoCache.get(conversation);
  if (!s) throw new Error(`LoCoMo conversation ${conversation} is not in ${locomoDir()}/locomo-dev.json`);
  return s;
}

/** An event's text exactly as capture renders its kind (the same formatters), or undefined when capture skips it. */
export function renderEvent(e: StreamEvent): { kind: SourceKind; text: string; ref?: string } | undefined {
  switch (e.kind) {
    case 'commit': {
      const c = e.commit!;
      return { kind: 'commit', text: formatCommitEvent(c), ref: c.sha };
    }
    case 'save': {
      const s = e.save!;
      if (isWhitespaceOnlyChange(s.before, s.after)) return undefined;
      return { kind: 'save', text: formatSaveEvent(s.path, s.language, summarizeChange(s.before, s.after), !!s.isNew), ref: s.path };
    }
    case 'terminal': {
      const t = e.terminal!;
      if (!isCapturedCommand(t.command, t.exitCode)) return undefined;
      return { kind: 'terminal', text: formatTerminalEvent(t.command, t.exitCode, t.cwd, t.exitCode ? t.output : undefined), ref: t.cwd };
    }
    case 'chat':
      return { kind: 'chat', text: formatChatTurn(e.chat!.question, e.chat!.answer) };
    case 'diagnostic': {
      const d = e.diagnostic!;
      return { kind: 'diagnostic', text: formatDiagnosticFixedEvent({ relPath: d.path, line: d.line, message: d.message, source: d.source, code: d.code }, d.openForMs ?? 60_000), ref: d.path };
    }
    case 'dialogue': {
      const d = e.dialogue!;
      const sample = locomoSample(d.conversation);
      const turns = sample.sessions.flatMap((s) => s.turns);
      const text = d.turns.map((id) => {
        const t = turns.find((x) => x.diaId === id);
        if (!t) throw new Error(`LoCoMo ${d.conversation} has no turn ${id}`);
        return turnText(t);
      });
      return { kind: 'dialogue', text: text.join('\n'), ref: `${d.conversation}:${d.turns[0]}` };
    }
  }
}

/** The stream as capture events: ids `<stream>:<event>`, the event's time as the time its facts are true. */
export function streamEvents(s: Stream): CaptureEvent[] {
  const out: CaptureEvent[] = [];
  for (const e of s.events) {
    const r = renderEvent(e);
    if (!r) continue;
    const source = { kind: r.kind, ...(r.ref ? { ref: r.ref } : {}) };
    out.push({ id: `${s.id}:${e.id}`, source, text: clip(r.text, MAX_EVENT_CHARS), time: e.time, eventTime: e.time });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- matcher

/**
 * Is `phrase` in `text` as a whole word or phrase? Both lower-cased. A boundary is a character that is not a
 * letter, digit, `_`, `@` or `/`; `.` and `-` count as part of a word only when a letter or digit follows them
 * (so "0.10" is not found inside "10.0.10", and "node 18." at a sentence's end still has "18").
 */
export function hasPhrase(text: string, phrase: string): boolean {
  const p = phrase.toLowerCase().trim();
  if (!p) return false;
  const wordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_@/]/u.test(c);
  const joins = (c: string | undefined, next: string | undefined) => (c === '.' || c === '-') && next !== undefined && /[\p{L}\p{N}]/u.test(next);
  for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) {
    const before = text[i - 1];
    const after = text[i + p.length];
    const startOk = !wordChar(before) && !((before === '.' || before === '-') && /[\p{L}\p{N}]/u.test(text[i - 2] ?? ''));
    const endOk = !wordChar(after) && !joins(after, text[i + p.length + 1]);
    if ((startOk || !/[\p{L}\p{N}]/u.test(p[0])) && (endOk || !/[\p{L}\p{N}]/u.test(p[p.length - 1]))) return true;
  }
  return false;
}

/** A text states a labelled fact (or answers a question) when every group has an alternative in it and no exclusion is. */
export function statesLabel(text: string, match: string[][], exclude: string[] = []): boolean {
  const t = text.toLowerCase();
  return match.every((group) => group.some((alt) => hasPhrase(t, alt))) && !exclude.some((x) => hasPhrase(t, x));
}

// ---------------------------------------------------------------------------------------------- scoring

export type MemoryVerdict = 'current' | 'stale' | 'junk' | 'unlabelled';

export interface MemoryJudgement {
  id: string;
  text: string;
  event?: string;
  verdict: MemoryVerdict;
  facts: string[];
  invented: string[];
  duplicateOf?: string;
}

export interface StreamScore {
  stream: string;
  split: 'dev' | 'test';
  active: number;
  current: number;
  stale: number;
  junk: number;
  unlabelled: number;
  duplicates: number;
  invented: number;
  currentFacts: number;
  currentRecalled: number;
  staleFacts: number;
  staleStillActive: number;
  wrongRetirements: number;
  questions: number;
  answered: number;
  memories: MemoryJudgement[];
  /** Current facts no active memory states, and which of them a retired memory states (a wrong retirement). */
  missed: { fact: string; retired: boolean }[];
  answers: { q: string; answer: string; ok: boolean }[];
}

/**
 * Scores the bank a pipeline left for one stream. `memories` are all memories with their history; the event
 * a memory came from is read from its first record's source (the capture event id `<stream>:<event>`, or
 * the ref `file#N` of a CLI ingest, mapped by `eventOf`).
 */
export function scoreBank(
  stream: Stream,
  memories: Memory[],
  historyOf: (id: string) => HistoryRecord[],
  eventOf: (r: HistoryRecord | undefined) => string | undefined,
  answers: { q: string; answer: string }[] = [],
): StreamScore {
  const facts = stream.labels.facts;
  const current = facts.filter((f) => f.status === 'current');
  const stale = facts.filter((f) => f.status === 'stale');
  const leaveNothing = new Set(stream.labels.leaveNothing);
  // What a reference may come from: every event as rendered, and every field of the raw events (a commit's
  // full file list, a save's whole region), so a pipeline that saw more of an event is not charged for it.
  const eventTexts = [...streamEvents(stream).map((e) => e.text), JSON.stringify(stream.events)].join('\n').toLowerCase();

  const active = memories.filter((m) => m.status === 'active');
  const retired = memories.filter((m) => m.status !== 'active');
  const states = (m: Memory, f: LabelledFact) => statesLabel(m.text, f.match, f.exclude);
  const judged: MemoryJudgement[] = [];
  const firstHolder = new Map<string, string>();
  for (const m of active) {
    const event = eventOf(historyOf(m.id).find((r) => r.after?.status === 'active'));
    const cur = current.filter((f) => states(m, f)).map((f) => f.id);
    const st = stale.filter((f) => states(m, f)).map((f) => f.id);
    const verdict: MemoryVerdict = cur.length ? 'current' : st.length ? 'stale' : event && leaveNothing.has(event) ? 'junk' : 'unlabelled';
    const invented = referencesIn(m.text).filter((r) => !mentionsReference(eventTexts, r));
    const j: MemoryJudgement = { id: m.id, text: m.text, event, verdict, facts: [...cur, ...st], invented };
    // A duplicate states only facts an earlier active memory already states.
    const mine = verdict === 'current' ? cur : verdict === 'stale' ? st : [];
    if (mine.length && mine.every((f) => firstHolder.has(f))) j.duplicateOf = firstHolder.get(mine[0]);
    for (const f of mine) if (!firstHolder.has(f)) firstHolder.set(f, m.id);
    judged.push(j);
  }
  const recalled = current.filter((f) => active.some((m) => states(m, f)));
  const missed = current
    .filter((f) => !recalled.includes(f))
    .map((f) => ({ fact: f.id, retired: retired.some((m) => states(m, f)) }));
  const graded = answers.map((a, i) => ({ ...a, ok: statesLabel(a.answer, stream.labels.questions[i].match) }));
  return {
    stream: stream.id,
    split: stream.split,
    active: active.length,
    current: judged.filter((j) => j.verdict === 'current').length,
    stale: judged.filter((j) => j.verdict === 'stale').length,
    junk: judged.filter((j) => j.verdict === 'junk').length,
    unlabelled: judged.filter((j) => j.verdict === 'unlabelled').length,
    duplicates: judged.filter((j) => j.duplicateOf).length,
    invented: judged.filter((j) => j.invented.length).length,
    currentFacts: current.length,
    currentRecalled: recalled.length,
    staleFacts: stale.length,
    staleStillActive: stale.filter((f) => active.some((m) => states(m, f) && !current.some((c) => states(m, c)))).length,
    wrongRetirements: missed.filter((m) => m.retired).length,
    questions: answers.length,
    answered: graded.filter((a) => a.ok).length,
    memories: judged,
    missed,
    answers: graded,
  };
}

export interface QualitySummary {
  streams: number;
  events: number;
  active: number;
  /** Active memories that state a current fact. */
  activePrecision: number;
  /** Current facts that an active memory states. */
  currentRecall: number;
  /** Active memories that state only a stale fact. */
  staleActive: number;
  /** Current facts held only by retired memories, of all current facts. */
  wrongRetirements: number;
  /** Active memories from events that should leave nothing. */
  junkRate: number;
  duplicates: number;
  /** Active memories naming a reference (issue, hash, version, path, handle) that is in no event. */
  invented: number;
  questionAccuracy: number;
}

export function summarize(scores: StreamScore[], events: number): QualitySummary {
  const sum = (k: keyof StreamScore) => scores.reduce((n, s) => n + (s[k] as number), 0);
  const rate = (a: number, b: number) => (b ? a / b : 0);
  const active = sum('active');
  return {
    streams: scores.length,
    events,
    active,
    activePrecision: rate(sum('current'), active),
    currentRecall: rate(sum('currentRecalled'), sum('currentFacts')),
    staleActive: rate(sum('stale'), active),
    wrongRetirements: rate(sum('wrongRetirements'), sum('currentFacts')),
    junkRate: rate(sum('junk'), active),
    duplicates: sum('duplicates'),
    invented: sum('invented'),
    questionAccuracy: rate(sum('answered'), sum('questions')),
  };
}
