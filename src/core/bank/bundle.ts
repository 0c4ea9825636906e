import { BankError } from '../errors';
import type { Feedback } from '../api';
import type { HistoryRecord, Memory, MemorySnapshot, SourceRef } from '../types';

/** The export file: the whole bank with its history, enough to rebuild it elsewhere. */
export interface BankBundle {
  format: 'project-memory-bank';
  version: 1;
  exportedAt: string;
  embedder: string;
  memories: Memory[];
  history: HistoryRecord[];
  feedback: Feedback[];
}

const STATUSES = new Set(['active', 'superseded', 'deleted']);
const ACTIONS = new Set(['ADD', 'UPDATE', 'SUPERSEDE', 'DELETE', 'NOOP', 'RESTORE', 'EDIT', 'PIN', 'UNPIN', 'UNDO', 'IMPORT', 'SCRUB']);
const MAX_ID = 64;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Validates an import file completely before anything is written; throws with the first problem found. */
export function parseBundle(data: unknown): BankBundle {
  const fail = (where: string, what: string): never => {
    throw new BankError('INVALID_INPUT', `The import file is not a valid memory bank export: ${where} ${what}.`);
  };
  if (!isObj(data)) fail('the file', 'is not a JSON object');
  const d = data as Record<string, unknown>;
  if (d.format !== 'project-memory-bank') fail('"format"', 'must be "project-memory-bank"');
  if (d.version !== 1) fail('"version"', 'must be 1');
  if (!Array.isArray(d.memories)) fail('"memories"', 'must be an array');
  if (d.history !== undefined && !Array.isArray(d.history)) fail('"history"', 'must be an array');
  if (d.feedback !== undefined && !Array.isArray(d.feedback)) fail('"feedback"', 'must be an array');
  const ids = new Set<string>();
  const memories = (d.memories as unknown[]).map((m, i) => {
    const where = `memories[${i}]`;
    if (!isObj(m)) fail(where, 'is not an object');
    const o = m as Record<string, unknown>;
    if (!isStr(o.id) || !o.id || Buffer.byteLength(o.id as string) > MAX_ID) fail(`${where}.id`, `must be a string of 1-${MAX_ID} bytes`);
    // Control characters would not survive the vector file's NUL-padded id field.
    if (CONTROL.test(o.id as string)) fail(`${where}.id`, 'must not contain control characters');
    if (ids.has(o.id as string)) fail(`${where}.id`, 'is duplicated');
    ids.add(o.id as string);
    if (!isStr(o.text) || !(o.text as string).trim()) fail(`${where}.text`, 'must be a non-empty string');
    if (!STATUSES.has(o.status as string)) fail(`${where}.status`, 'must be active, superseded or deleted');
    if (!isTime(o.createdAt)) fail(`${where}.createdAt`, 'must be an ISO time');
    if (!isTime(o.updatedAt)) fail(`${where}.updatedAt`, 'must be an ISO time');
    if (o.eventTime !== undefined && !isStr(o.eventTime)) fail(`${where}.eventTime`, 'must be a string');
    if (!isStrArray(o.tags)) fail(`${where}.tags`, 'must be an array of strings');
    if (typeof o.pinned !== 'boolean') fail(`${where}.pinned`, 'must be true or false');
    if (!isSource(o.source)) fail(`${where}.source`, 'must be an object with a "kind"');
    return {
      id: o.id as string,
      text: o.text as string,
      status: o.status as Memory['status'],
      createdAt: o.createdAt as string,
      updatedAt: o.updatedAt as string,
      ...(o.eventTime ? { eventTime: o.eventTime as string } : {}),
      ...(isStr(o.validTo) && o.validTo ? { validTo: o.validTo as string } : {}),
      ...(isStr(o.supersededBy) && o.supersededBy ? { supersededBy: o.supersededBy as string } : {}),
      ...(isStr(o.supersedes) && o.supersedes ? { supersedes: o.supersedes as string } : {}),
      tags: [...(o.tags as string[])],
      pinned: o.pinned as boolean,
      source: o.source as SourceRef,
    } satisfies Memory;
  });
  const opIds = new Set<string>();
  const history = ((d.history as unknown[] | undefined) ?? []).map((r, i) => {
    const where = `history[${i}]`;
    if (!isObj(r)) fail(where, 'is not an object');
    const o = r as Record<string, unknown>;
    if (!isStr(o.opId) || !o.opId) fail(`${where}.opId`, 'must be a string');
    if (opIds.has(o.opId as string)) fail(`${where}.opId`, 'is duplicated');
    opIds.add(o.opId as string);
    if (!ACTIONS.has(o.action as string)) fail(`${where}.action`, 'is not a known operation');
    if (!isStr(o.memoryId)) fail(`${where}.memoryId`, 'must be a string');
    if (!isTime(o.time)) fail(`${where}.time`, 'must be an ISO time');
    for (const k of ['before', 'after'] as const) if (o[k] !== undefined && !isSnapshot(o[k])) fail(`${where}.${k}`, 'is not a memory snapshot');
    for (const k of ['batchId', 'fact', 'reason', 'model', 'undoes', 'guard'] as const) if (o[k] !== undefined && !isStr(o[k])) fail(`${where}.${k}`, 'must be a string');
    if (o.source !== undefined && !isSource(o.source)) fail(`${where}.source`, 'must be an object with a "kind"');
    if (o.candidates !== undefined && !(Array.isArray(o.candidates) && o.candidates.every(isCandidate))) {
      fail(`${where}.candidates`, 'must be a list of {key, memoryId, text}');
    }
    // Only the record's own fields are kept: unknown keys in a file never reach the history log.
    const rec: Record<string, unknown> = { seq: 0, opId: o.opId, batchId: isStr(o.batchId) ? o.batchId : o.opId, action: o.action, memoryId: o.memoryId, time: o.time };
    for (const k of ['before', 'after', 'fact', 'candidates', 'reason', 'model', 'source', 'undoes', 'guard'] as const) if (o[k] !== undefined) rec[k] = o[k];
    // Counts of secrets redacted before the record was written (never the secrets): kept when well-formed.
    if (isObj(o.redactions) && Object.values(o.redactions as object).every((n) => Number.isInteger(n) && n >= 0)) rec.redactions = { ...(o.redactions as object) };
    return rec as unknown as HistoryRecord;
  });
  const feedback = ((d.feedback as unknown[] | undefined) ?? []).filter(
    (f): f is Feedback => isObj(f) && isStr((f as Feedback).answerId) && ((f as Feedback).kind === 'helpful' || (f as Feedback).kind === 'unhelpful'),
  );
  return {
    format: 'project-memory-bank',
    version: 1,
    exportedAt: isStr(d.exportedAt) ? (d.exportedAt as string) : '',
    embedder: isStr(d.embedder) ? (d.embedder as string) : '',
    memories,
    history,
    feedback,
  };
}

function isObj(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isStr(x: unknown): boolean {
  return typeof x === 'string';
}
function isStrArray(x: unknown): boolean {
  return Array.isArray(x) && x.every((t) => typeof t === 'string');
}
function isTime(x: unknown): boolean {
  return typeof x === 'string' && !Number.isNaN(Date.parse(x));
}
function isSource(x: unknown): boolean {
  return isObj(x) && isStr((x as SourceRef).kind);
}
function isCandidate(x: unknown): boolean {
  if (!isObj(x)) return false;
  const c = x as Record<string, unknown>;
  return isStr(c.key) && isStr(c.memoryId) && isStr(c.text);
}
function isSnapshot(x: unknown): boolean {
  if (!isObj(x)) return false;
  const s = x as MemorySnapshot;
  return isStr(s.text) && STATUSES.has(s.status) && isStrArray(s.tags) && typeof s.pinned === 'boolean';
}
