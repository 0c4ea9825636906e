import { BankError } from '../errors';
import type { Feedback } from '../api';
import type { CandidateView, HistoryRecord, Memory, MemorySnapshot, SourceKind, SourceRef } from '../types';
import { KIND_IDS, isMemoryKind, type MemoryKind } from '../kinds';
import { ISO_TIME, RECORD_ID } from '../privacy/boundary';
import { redactSecrets } from '../privacy/redact';
import type { SourceEvent } from '../provenance';

/** The export file: the whole bank with its history, enough to rebuild it elsewhere. */
export interface BankBundle {
  format: 'project-memory-bank';
  version: 1;
  exportedAt: string;
  embedder: string;
  memories: Memory[];
  history: HistoryRecord[];
  feedback: Feedback[];
  /** The evidence ledger's entries (what memories cite in the workspace, review flags): src/core/evidence/ledger.ts. */
  evidence?: Record<string, unknown>[];
  /** The capture events the memories came from (provenance): bank/sources.ts. */
  sources?: SourceEvent[];
  /** After parsing a file: its fields that are not part of the format and were left out (`history[3]."notes"`). */
  dropped?: string[];
}

const STATUSES = new Set(['active', 'superseded', 'deleted']);
const ACTIONS = new Set(['ADD', 'UPDATE', 'SUPERSEDE', 'DELETE', 'NOOP', 'RESTORE', 'EDIT', 'PIN', 'UNPIN', 'UNDO', 'IMPORT', 'SCRUB']);
const SOURCE_KINDS: ReadonlySet<SourceKind> = new Set<SourceKind>(['chat', 'save', 'commit', 'terminal', 'diagnostic', 'manual', 'import', 'dialogue', 'cli', 'agent']);

// The format, field by field: what each object may hold. Anything else in a file is dropped and reported.
const MEMORY_KEYS = ['id', 'text', 'status', 'createdAt', 'updatedAt', 'eventTime', 'kind', 'validTo', 'supersededBy', 'supersedes', 'tags', 'pinned', 'source'];
const RECORD_KEYS = ['seq', 'opId', 'batchId', 'action', 'memoryId', 'before', 'after', 'fact', 'candidates', 'reason', 'model', 'source', 'undoes', 'actor', 'redactions', 'guard', 'time', 'run'];
const SNAPSHOT_KEYS = ['text', 'status', 'tags', 'pinned', 'eventTime', 'kind', 'validTo', 'supersededBy', 'supersedes'];
const SOURCE_KEYS = ['kind', 'ref', 'actor', 'event'];
const CANDIDATE_KEYS = ['key', 'memoryId', 'text'];
const FEEDBACK_KEYS = ['answerId', 'kind', 'question', 'answer', 'memoryIds', 'time'];
const TOP_KEYS = ['format', 'version', 'exportedAt', 'embedder', 'memories', 'history', 'feedback', 'evidence', 'sources'];
const SOURCE_EVENT_KEYS = ['event', 'kind', 'ref', 'actor', 'time', 'text', 'clipped'];
const LEDGER_KINDS = new Set(['cite', 'flag', 'clear', 'seen']);
const EVIDENCE_KINDS = new Set(['file', 'symbol', 'version', 'script', 'config', 'mention', 'commit']);

/**
 * Validates an import file completely before anything is written; throws with the first problem found.
 * Ids and times are checked against their shapes (an id that looks like a credential is refused: ids are
 * stored as they are); every other string is redacted later by the bank; unknown fields are dropped and
 * listed in `dropped`.
 */
export function parseBundle(data: unknown): BankBundle {
  const fail = (where: string, what: string): never => {
    throw new BankError('INVALID_INPUT', `The import file is not a valid memory bank export: ${where} ${what}.`);
  };
  const dropped: string[] = [];
  const unknownKeys = (o: Record<string, unknown>, known: string[], where: string) => {
    for (const k of Object.keys(o)) if (!known.includes(k)) dropped.push(where ? `${where}.${safeKey(k)}` : safeKey(k));
  };
  const id = (v: unknown, where: string, optional = false): string | undefined => {
    if (v === undefined || v === null || v === '') {
      if (optional) return undefined;
      fail(where, 'is missing');
    }
    if (typeof v !== 'string' || !RECORD_ID.test(v)) fail(where, 'must be an id: 1-64 letters, digits and . _ : - (starting with a letter or digit)');
    if (redactSecrets(v as string).findings.length) fail(where, 'looks like a credential, not an id');
    return v as string;
  };
  const time = (v: unknown, where: string, optional = false): string | undefined => {
    if (v === undefined || v === null || v === '') {
      if (optional) return undefined;
      fail(where, 'is missing');
    }
    if (typeof v !== 'string' || !ISO_TIME.test(v) || Number.isNaN(Date.parse(v))) fail(where, 'must be an ISO 8601 time (2026-04-11 or 2026-04-11T09:30:00Z)');
    return v as string;
  };
  const str = (v: unknown, where: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') fail(where, 'must be a string');
    return v as string;
  };
  const source = (v: unknown, where: string): SourceRef => {
    if (!isObj(v)) fail(where, 'must be an object with a "kind"');
    const o = v as Record<string, unknown>;
    if (!SOURCE_KINDS.has(o.kind as SourceKind)) fail(`${where}.kind`, `must be one of ${[...SOURCE_KINDS].join(', ')}`);
    unknownKeys(o, SOURCE_KEYS, where);
    const out: SourceRef = { kind: o.kind as SourceKind };
    const ref = str(o.ref, `${where}.ref`);
    const actor = str(o.actor, `${where}.actor`);
    const event = id(o.event, `${where}.event`, true);
    if (ref !== undefined) out.ref = ref;
    if (actor !== undefined) out.actor = actor;
    if (event !== undefined) out.event = event;
    return out;
  };
  const memoryKind = (v: unknown, where: string): MemoryKind | undefined => {
    if (v === undefined) return undefined;
    if (!isMemoryKind(v)) fail(where, `must be one of ${KIND_IDS.join(', ')}`);
    return v as MemoryKind;
  };
  const snapshot = (v: unknown, where: string): MemorySnapshot => {
    if (!isObj(v)) fail(where, 'is not a memory snapshot');
    const o = v as Record<string, unknown>;
    if (typeof o.text !== 'string' || !STATUSES.has(o.status as string) || !isStrArray(o.tags) || typeof o.pinned !== 'boolean') fail(where, 'is not a memory snapshot');
    unknownKeys(o, SNAPSHOT_KEYS, where);
    const out: MemorySnapshot = { text: o.text as string, status: o.status as MemorySnapshot['status'], tags: [...(o.tags as string[])], pinned: o.pinned as boolean };
    const eventTime = time(o.eventTime, `${where}.eventTime`, true);
    const validTo = time(o.validTo, `${where}.validTo`, true);
    const supersededBy = id(o.supersededBy, `${where}.supersededBy`, true);
    const supersedes = id(o.supersedes, `${where}.supersedes`, true);
    if (eventTime) out.eventTime = eventTime;
    const kind = memoryKind(o.kind, `${where}.kind`);
    if (kind) out.kind = kind;
    if (validTo) out.validTo = validTo;
    if (supersededBy) out.supersededBy = supersededBy;
    if (supersedes) out.supersedes = supersedes;
    return out;
  };

  if (!isObj(data)) fail('the file', 'is not a JSON object');
  const d = data as Record<string, unknown>;
  if (d.format !== 'project-memory-bank') fail('"format"', 'must be "project-memory-bank"');
  if (d.version !== 1) fail('"version"', 'must be 1');
  if (!Array.isArray(d.memories)) fail('"memories"', 'must be an array');
  if (d.history !== undefined && !Array.isArray(d.history)) fail('"history"', 'must be an array');
  if (d.feedback !== undefined && !Array.isArray(d.feedback)) fail('"feedback"', 'must be an array');
  if (d.evidence !== undefined && !Array.isArray(d.evidence)) fail('"evidence"', 'must be an array');
  if (d.sources !== undefined && !Array.isArray(d.sources)) fail('"sources"', 'must be an array');
  unknownKeys(d, TOP_KEYS, '');

  const ids = new Set<string>();
  const memories = (d.memories as unknown[]).map((m, i) => {
    const where = `memories[${i}]`;
    if (!isObj(m)) fail(where, 'is not an object');
    const o = m as Record<string, unknown>;
    const memId = id(o.id, `${where}.id`)!;
    if (ids.has(memId)) fail(`${where}.id`, 'is duplicated');
    ids.add(memId);
    if (typeof o.text !== 'string' || !(o.text as string).trim()) fail(`${where}.text`, 'must be a non-empty string');
    if (!STATUSES.has(o.status as string)) fail(`${where}.status`, 'must be active, superseded or deleted');
    if (!isStrArray(o.tags)) fail(`${where}.tags`, 'must be an array of strings');
    if (typeof o.pinned !== 'boolean') fail(`${where}.pinned`, 'must be true or false');
    unknownKeys(o, MEMORY_KEYS, where);
    const eventTime = time(o.eventTime, `${where}.eventTime`, true);
    const validTo = time(o.validTo, `${where}.validTo`, true);
    const supersededBy = id(o.supersededBy, `${where}.supersededBy`, true);
    const supersedes = id(o.supersedes, `${where}.supersedes`, true);
    const kind = memoryKind(o.kind, `${where}.kind`);
    return {
      id: memId,
      text: o.text as string,
      status: o.status as Memory['status'],
      createdAt: time(o.createdAt, `${where}.createdAt`)!,
      updatedAt: time(o.updatedAt, `${where}.updatedAt`)!,
      ...(eventTime ? { eventTime } : {}),
      ...(kind ? { kind } : {}),
      ...(validTo ? { validTo } : {}),
      ...(supersededBy ? { supersededBy } : {}),
      ...(supersedes ? { supersedes } : {}),
      tags: [...(o.tags as string[])],
      pinned: o.pinned as boolean,
      source: source(o.source, `${where}.source`),
    } satisfies Memory;
  });

  const opIds = new Set<string>();
  const history = ((d.history as unknown[] | undefined) ?? []).map((r, i) => {
    const where = `history[${i}]`;
    if (!isObj(r)) fail(where, 'is not an object');
    const o = r as Record<string, unknown>;
    const opId = id(o.opId, `${where}.opId`)!;
    if (opIds.has(opId)) fail(`${where}.opId`, 'is duplicated');
    opIds.add(opId);
    if (!ACTIONS.has(o.action as string)) fail(`${where}.action`, 'is not a known operation');
    unknownKeys(o, RECORD_KEYS, where);
    // Only the record's own fields are kept: unknown keys in a file never reach the history log.
    const rec: Record<string, unknown> = {
      seq: 0,
      opId,
      batchId: id(o.batchId, `${where}.batchId`, true) ?? opId,
      action: o.action,
      memoryId: o.action === 'NOOP' && (o.memoryId === '' || o.memoryId === undefined) ? '' : id(o.memoryId, `${where}.memoryId`),
      time: time(o.time, `${where}.time`),
    };
    for (const k of ['before', 'after'] as const) if (o[k] !== undefined) rec[k] = snapshot(o[k], `${where}.${k}`);
    for (const k of ['fact', 'reason', 'model', 'guard', 'actor'] as const) {
      const v = str(o[k], `${where}.${k}`);
      if (v !== undefined) rec[k] = v;
    }
    const undoes = id(o.undoes, `${where}.undoes`, true);
    if (undoes) rec.undoes = undoes;
    const run = id(o.run, `${where}.run`, true);
    if (run) rec.run = run;
    if (o.source !== undefined) rec.source = source(o.source, `${where}.source`);
    if (o.candidates !== undefined) {
      if (!Array.isArray(o.candidates)) fail(`${where}.candidates`, 'must be a list of {key, memoryId, text}');
      rec.candidates = (o.candidates as unknown[]).map((c, j): CandidateView => {
        const cw = `${where}.candidates[${j}]`;
        if (!isObj(c)) fail(cw, 'must be {key, memoryId, text}');
        const co = c as Record<string, unknown>;
        unknownKeys(co, CANDIDATE_KEYS, cw);
        const key = str(co.key, `${cw}.key`);
        const text = str(co.text, `${cw}.text`);
        if (key === undefined || text === undefined) fail(cw, 'must be {key, memoryId, text}');
        return { key: key!, memoryId: id(co.memoryId, `${cw}.memoryId`)!, text: text! };
      });
    }
    // Counts of secrets redacted before the record was written (never the secrets): kept when well-formed.
    if (o.redactions !== undefined) {
      const counts = o.redactions;
      if (isObj(counts) && Object.entries(counts as object).every(([k, n]) => /^[a-z0-9-]{1,40}$/.test(k) && Number.isInteger(n) && (n as number) >= 0)) rec.redactions = { ...(counts as object) };
      else dropped.push(`${where}.redactions`);
    }
    return rec as unknown as HistoryRecord;
  });

  const feedback: Feedback[] = [];
  ((d.feedback as unknown[] | undefined) ?? []).forEach((f, i) => {
    const where = `feedback[${i}]`;
    if (!isObj(f)) return void dropped.push(where);
    const o = f as Record<string, unknown>;
    if (o.kind !== 'helpful' && o.kind !== 'unhelpful') return void dropped.push(where);
    unknownKeys(o, FEEDBACK_KEYS, where);
    const entry: Feedback = { answerId: id(o.answerId, `${where}.answerId`)!, kind: o.kind };
    const question = str(o.question, `${where}.question`);
    const answer = str(o.answer, `${where}.answer`);
    const t = time(o.time, `${where}.time`, true);
    if (question !== undefined) entry.question = question;
    if (answer !== undefined) entry.answer = answer;
    if (t) entry.time = t;
    if (o.memoryIds !== undefined) {
      if (!Array.isArray(o.memoryIds)) fail(`${where}.memoryIds`, 'must be a list of ids');
      entry.memoryIds = (o.memoryIds as unknown[]).map((m, j) => id(m, `${where}.memoryIds[${j}]`)!);
    }
    feedback.push(entry);
  });

  // Evidence entries: kept when their shape is the ledger's (plain strings, known kinds); others dropped and listed.
  const evidence: Record<string, unknown>[] = [];
  const plain = (v: unknown): boolean => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  ((d.evidence as unknown[] | undefined) ?? []).forEach((e, i) => {
    const where = `evidence[${i}]`;
    if (!isObj(e)) return void dropped.push(where);
    const o = e as Record<string, unknown>;
    const ok =
      LEDGER_KINDS.has(o.t as string) &&
      typeof o.memoryId === 'string' &&
      RECORD_ID.test(o.memoryId) &&
      typeof o.time === 'string' &&
      ISO_TIME.test(o.time) &&
      (o.t !== 'cite' || (typeof o.textHash === 'string' && Array.isArray(o.evidence) && (o.evidence as unknown[]).every((x) => isObj(x) && EVIDENCE_KINDS.has((x as Record<string, unknown>).kind as string) && Object.values(x as object).every(plain)))) &&
      (o.t !== 'flag' || isStrArray(o.changes)) &&
      (o.t !== 'clear' || typeof o.how === 'string') &&
      (o.t !== 'seen' || o.why === 'validated' || o.why === 'used');
    if (!ok) return void dropped.push(where);
    evidence.push({ ...o });
  });

  // Source events: an event id, a known kind, a time and a text; anything else is dropped and listed.
  const sources: SourceEvent[] = [];
  ((d.sources as unknown[] | undefined) ?? []).forEach((e, i) => {
    const where = `sources[${i}]`;
    if (!isObj(e)) return void dropped.push(where);
    const o = e as Record<string, unknown>;
    const ok =
      typeof o.event === 'string' &&
      RECORD_ID.test(o.event) &&
      SOURCE_KINDS.has(o.kind as SourceKind) &&
      typeof o.time === 'string' &&
      ISO_TIME.test(o.time) &&
      typeof o.text === 'string' &&
      (o.ref === undefined || typeof o.ref === 'string') &&
      (o.actor === undefined || typeof o.actor === 'string') &&
      (o.clipped === undefined || (typeof o.clipped === 'number' && o.clipped >= 0));
    if (!ok) return void dropped.push(where);
    unknownKeys(o, SOURCE_EVENT_KEYS, where);
    const s: SourceEvent = { event: o.event as string, kind: o.kind as SourceKind, time: o.time as string, text: o.text as string };
    if (o.ref !== undefined) s.ref = o.ref as string;
    if (o.actor !== undefined) s.actor = o.actor as string;
    if (o.clipped) s.clipped = o.clipped as number;
    sources.push(s);
  });

  return {
    format: 'project-memory-bank',
    version: 1,
    evidence,
    sources,
    exportedAt: typeof d.exportedAt === 'string' && ISO_TIME.test(d.exportedAt) ? d.exportedAt : '',
    embedder: typeof d.embedder === 'string' ? redactSecrets(d.embedder).text : '',
    memories,
    history,
    feedback,
    dropped,
  };
}

/** A field name as it may be shown to the user: a name from a file can be anything, a secret included. */
function safeKey(k: string): string {
  const shown = k.length > 40 ? `${k.slice(0, 39)}…` : k;
  return JSON.stringify(redactSecrets(shown).text);
}

function isObj(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isStrArray(x: unknown): boolean {
  return Array.isArray(x) && x.every((t) => typeof t === 'string');
}
