// Typed loader for the LoCoMo benchmark (Maharana et al., ACL 2024): `locomo10.json` and its splits.
import * as fs from 'node:fs';

/** Raw LoCoMo question categories. */
export type LocomoCategory = 1 | 2 | 3 | 4 | 5;

/** Names of the raw categories, as Mem0 and Memory-R1 report them. */
export const CATEGORY_NAMES: Readonly<Record<LocomoCategory, string>> = Object.freeze({
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
  5: 'adversarial',
});

export interface LocomoTurn {
  /** Dialogue id such as `D3:12` (session 3, turn 12). */
  diaId: string;
  speaker: string;
  text: string;
  /** Caption of a shared image (`blip_caption`); '' when the turn has an image without a caption. */
  imageCaption?: string;
}

export interface LocomoSession {
  /** N of `session_N`. */
  index: number;
  /** The raw `session_N_date_time` string, e.g. `1:56 pm on 8 May, 2023`; '' when absent. */
  dateTime: string;
  /** `dateTime` as ISO 8601 (the wall-clock time read as UTC); absent when it does not parse. */
  isoDate?: string;
  turns: LocomoTurn[];
}

export interface LocomoQa {
  question: string;
  /** Gold answer as text (numbers converted); '' for adversarial questions that have none. */
  answer: string;
  category: LocomoCategory;
  /** Dialogue ids of the evidence turns, normalised (`D:1:3` → `D1:3`, `D8:6; D9:17` → two ids). */
  evidence: string[];
  /** For category 5: the plausible-but-unsupported answer the question baits. */
  adversarialAnswer?: string;
}

export interface LocomoSample {
  sampleId: string;
  speakers: [string, string];
  /** Sessions in order of N. */
  sessions: LocomoSession[];
  qa: LocomoQa[];
}

/** A LoCoMo file that cannot be read or does not have the expected shape. */
export class LocomoFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocomoFormatError';
  }
}

/** Reads and validates a LoCoMo JSON file (an array of samples). Throws LocomoFormatError with the failing path. */
export function loadLocomo(filePath: string): LocomoSample[] {
  let raw: string;
  try {
    raw = fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LocomoFormatError(
      code === 'ENOENT'
        ? `LoCoMo file not found: ${filePath}`
        : `Cannot read LoCoMo file ${filePath}: ${(err as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    throw new LocomoFormatError(`LoCoMo file ${filePath} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseLocomo(data);
  } catch (err) {
    if (err instanceof LocomoFormatError) throw new LocomoFormatError(`${filePath}: ${err.message}`);
    throw err;
  }
}

/** Validates already-parsed LoCoMo data (an array of samples). */
export function parseLocomo(data: unknown): LocomoSample[] {
  if (!Array.isArray(data)) throw new LocomoFormatError(`expected a JSON array of samples, got ${describe(data)}`);
  const seen = new Set<string>();
  return data.map((item, i) => {
    const sample = parseSample(item, `[${i}]`);
    if (seen.has(sample.sampleId)) throw new LocomoFormatError(`[${i}].sample_id: duplicate sample id "${sample.sampleId}"`);
    seen.add(sample.sampleId);
    return sample;
  });
}

function parseSample(item: unknown, where: string): LocomoSample {
  const obj = asObject(item, where);
  const sampleId = obj.sample_id;
  if (typeof sampleId !== 'string' && typeof sampleId !== 'number') {
    throw new LocomoFormatError(`${where}.sample_id: expected a string, got ${describe(sampleId)}`);
  }
  const conv = asObject(obj.conversation, `${where}.conversation`);
  const speakerA = asString(conv.speaker_a, `${where}.conversation.speaker_a`);
  const speakerB = asString(conv.speaker_b, `${where}.conversation.speaker_b`);

  const sessions: LocomoSession[] = [];
  for (const key of Object.keys(conv)) {
    const m = /^session_(\d+)$/.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    const turnsRaw = conv[key];
    if (!Array.isArray(turnsRaw)) {
      throw new LocomoFormatError(`${where}.conversation.${key}: expected an array of turns, got ${describe(turnsRaw)}`);
    }
    const dateRaw = conv[`session_${index}_date_time`];
    if (dateRaw !== undefined && typeof dateRaw !== 'string') {
      throw new LocomoFormatError(`${where}.conversation.session_${index}_date_time: expected a string, got ${describe(dateRaw)}`);
    }
    const dateTime = dateRaw ?? '';
    const isoDate = parseLocomoDate(dateTime);
    sessions.push({
      index,
      dateTime,
      ...(isoDate ? { isoDate } : {}),
      turns: turnsRaw.map((t, j) => parseTurn(t, `${where}.conversation.${key}[${j}]`)),
    });
  }
  if (sessions.length === 0) throw new LocomoFormatError(`${where}.conversation: no session_N keys`);
  sessions.sort((a, b) => a.index - b.index);

  if (!Array.isArray(obj.qa)) throw new LocomoFormatError(`${where}.qa: expected an array, got ${describe(obj.qa)}`);
  const qa = obj.qa.map((q, j) => parseQa(q, `${where}.qa[${j}]`));
  return { sampleId: String(sampleId), speakers: [speakerA, speakerB], sessions, qa };
}

function parseTurn(item: unknown, where: string): LocomoTurn {
  const t = asObject(item, where);
  const diaId = asString(t.dia_id, `${where}.dia_id`);
  const speaker = asString(t.speaker, `${where}.speaker`);
  const hasImage = t.blip_caption !== undefined || t.img_url !== undefined;
  if (t.text !== undefined && typeof t.text !== 'string') {
    throw new LocomoFormatError(`${where}.text: expected a string, got ${describe(t.text)}`);
  }
  // A turn that only shares a photo may have no text; one with neither is malformed.
  if (t.text === undefined && !hasImage) throw new LocomoFormatError(`${where}.text: missing`);
  const turn: LocomoTurn = { diaId, speaker, text: (t.text as string | undefined) ?? '' };
  if (hasImage) turn.imageCaption = typeof t.blip_caption === 'string' ? t.blip_caption.trim() : '';
  return turn;
}

function parseQa(item: unknown, where: string): LocomoQa {
  const q = asObject(item, where);
  const question = asString(q.question, `${where}.question`);
  const category = q.category;
  if (category !== 1 && category !== 2 && category !== 3 && category !== 4 && category !== 5) {
    throw new LocomoFormatError(`${where}.category: expected an integer 1..5, got ${describe(category)}`);
  }
  let answer: string;
  if (typeof q.answer === 'string') answer = q.answer;
  else if (typeof q.answer === 'number' && Number.isFinite(q.answer)) answer = String(q.answer);
  else if (q.answer === undefined && category === 5) answer = '';
  else throw new LocomoFormatError(`${where}.answer: expected a string or number, got ${describe(q.answer)}`);

  const evidenceRaw = q.evidence ?? [];
  if (!Array.isArray(evidenceRaw) || evidenceRaw.some((e) => typeof e !== 'string')) {
    throw new LocomoFormatError(`${where}.evidence: expected an array of strings, got ${describe(evidenceRaw)}`);
  }
  const evidence = (evidenceRaw as string[]).flatMap(normalizeEvidenceIds);

  const result: LocomoQa = { question, answer, category, evidence };
  if (q.adversarial_answer !== undefined) {
    if (typeof q.adversarial_answer === 'string') result.adversarialAnswer = q.adversarial_answer;
    else if (typeof q.adversarial_answer === 'number') result.adversarialAnswer = String(q.adversarial_answer);
    else throw new LocomoFormatError(`${where}.adversarial_answer: expected a string, got ${describe(q.adversarial_answer)}`);
  }
  return result;
}

/**
 * Splits and normalises one raw evidence entry. The public data has a few malformed ids:
 * `D8:6; D9:17` (two in one), `D:11:26` (extra colon), `D30:05` (leading zero). Anything
 * that still does not look like `D<session>:<turn>` is kept trimmed, so callers can report it.
 */
export function normalizeEvidenceIds(raw: string): string[] {
  return raw
    .split(/[;,\s]+/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const m = /^D:?(\d+):(\d+)$/i.exec(part);
      return m ? `D${Number(m[1])}:${Number(m[2])}` : part;
    });
}

/** Evidence ids of a sample's questions that name no turn of its conversation. */
export function findUnresolvedEvidence(sample: LocomoSample): { question: string; evidence: string }[] {
  const ids = new Set(sample.sessions.flatMap((s) => s.turns.map((t) => t.diaId)));
  const missing: { question: string; evidence: string }[] = [];
  for (const qa of sample.qa) {
    for (const ev of qa.evidence) if (!ids.has(ev)) missing.push({ question: qa.question, evidence: ev });
  }
  return missing;
}

const FULL_MONTHS = [
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december',
];

/** 1-based month of a full or three-letter English month name (or `sept`); undefined otherwise. */
function monthNumber(name: string): number | undefined {
  const lower = name.toLowerCase();
  const i = FULL_MONTHS.findIndex((full) => full === lower || full.slice(0, 3) === lower || (lower === 'sept' && full === 'september'));
  return i < 0 ? undefined : i + 1;
}

/**
 * Parses a LoCoMo session time such as `1:56 pm on 8 May, 2023` into ISO 8601. The data has no
 * time zone, so the wall-clock time is read as UTC: `2023-05-08T13:56:00.000Z`. Undefined when it does not parse.
 */
export function parseLocomoDate(raw: string): string | undefined {
  const m = /^\s*(\d{1,2}):(\d{2})\s*([ap])\.?m\.?\s+on\s+(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})\s*$/i.exec(raw);
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  const pm = m[3].toLowerCase() === 'p';
  const day = Number(m[4]);
  const month = monthNumber(m[5]);
  const year = Number(m[6]);
  if (!month || hour < 1 || hour > 12 || minute > 59) return undefined;
  if (hour === 12) hour = 0;
  if (pm) hour += 12;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute));
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) return undefined;
  return date.toISOString();
}

/** One turn as text: `Speaker: text [shares a photo: caption]`. */
export function turnText(turn: LocomoTurn): string {
  const parts = [turn.text.trim()];
  if (turn.imageCaption !== undefined) {
    parts.push(turn.imageCaption ? `[shares a photo: ${turn.imageCaption}]` : '[shares a photo]');
  }
  return `${turn.speaker}: ${parts.filter((p) => p.length > 0).join(' ')}`;
}

/** True for the questions Mem0 and Memory-R1 score: categories 1–4 (adversarial excluded). Use as `sample.qa.filter(nonAdversarial)`. */
export function nonAdversarial(qa: LocomoQa): boolean {
  return qa.category !== 5;
}

function asObject(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new LocomoFormatError(`${where}: expected an object, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

function asString(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new LocomoFormatError(`${where}: expected a string, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v === undefined) return 'nothing';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}
