// The one message protocol between the memory side panel page and its host (the extension).
// Shared by both sides; imports nothing that needs Node, the DOM or `vscode`.
import type { HistoryAction, MemoryStatus, SourceRef } from '../core/types';
import { KIND_IDS, type MemoryKind } from '../core/kinds';

export type StatusFilter = MemoryStatus | 'all';

export const STATUS_FILTERS: readonly StatusFilter[] = ['active', 'superseded', 'deleted', 'all'];

/** What the page asks the host to list. */
export interface PanelQuery {
  text: string;
  status: StatusFilter;
  tag?: string;
  pinned?: boolean;
  /** Only memories of this kind (unlabelled ones count as `other`). */
  kind?: MemoryKind;
  offset: number;
  limit: number;
}

export const PAGE_SIZE = 100;

/** Limits the host enforces on every incoming message. */
export const PROTOCOL_LIMITS = {
  idChars: 200,
  queryChars: 1000,
  textChars: 20_000,
  tagChars: 100,
  tags: 50,
  maxLimit: 1000,
  maxOffset: 10_000_000,
} as const;

// ------------------------------------------------------------------ page -> host

export type PageMessage =
  | { type: 'ready'; query?: PanelQuery; selectedId?: string }
  | { type: 'query'; query: PanelQuery }
  | { type: 'select'; id: string }
  | { type: 'deselect' }
  | { type: 'edit'; id: string; text: string }
  | { type: 'setTags'; id: string; tags: string[] }
  /** Relabel a memory's kind by hand ('' clears it). */
  | { type: 'setKind'; id: string; kind: MemoryKind | '' }
  | { type: 'delete'; id: string }
  | { type: 'restore'; id: string }
  | { type: 'pin'; id: string }
  | { type: 'unpin'; id: string }
  | { type: 'undo'; opId: string }
  /** Undo every operation of a batch at once (MemoryBank.undoBatch). */
  | { type: 'undoBatch'; batchId: string }
  | { type: 'add'; text: string; tags: string[]; kind?: MemoryKind }
  | { type: 'approve'; batchId: string }
  | { type: 'reject'; batchId: string }
  | { type: 'clearAll' }
  /** A memory that needs review: let the Memory Manager review it, or mark it as still true. */
  | { type: 'review'; id: string }
  | { type: 'stillTrue'; id: string }
  /** Open where a memory came from (its file, or the capture event as the bank kept it). */
  | { type: 'openSource'; id: string };

export type PageMessageType = PageMessage['type'];

// ------------------------------------------------------------------ host -> page

/** A memory as the page shows it (same fields as the engine's `Memory`). */
export interface MemoryView {
  id: string;
  text: string;
  status: MemoryStatus;
  createdAt: string;
  updatedAt: string;
  eventTime?: string;
  source: SourceRef;
  tags: string[];
  pinned: boolean;
  /** What it is about (a convention, a decision, …), as extraction labelled it. */
  kind?: MemoryKind;
  /** When a superseded memory stopped being true (valid time). */
  validTo?: string;
  /** The memory that replaced it / the one it replaced. */
  supersededBy?: string;
  supersedes?: string;
  /** What changed in the files it cites (it needs review), and since when. */
  review?: { changes: string[]; since: string };
  /** What it cites in the workspace, one line each ("src/a.ts", "package.json engines.node = >=20"). */
  evidence?: string[];
  /** Neither changed, confirmed nor used for the days projectMemory.freshness.expireAfterDays sets: the next expiry retires it. */
  expiring?: boolean;
}

export interface SnapshotView {
  text: string;
  status: MemoryStatus;
  tags: string[];
  pinned: boolean;
  validTo?: string;
  supersededBy?: string;
  supersedes?: string;
}

/** A capture event a memory came from, as the bank kept it (redacted, maybe clipped). */
export interface SourceView {
  /** "commit 3f2a9c1, 2026-04-11" */
  label: string;
  kind: SourceRef['kind'];
  time: string;
  text: string;
  clipped?: number;
}

/** One history record plus what the host knows about undoing it. */
export interface HistoryRecordView {
  seq: number;
  opId: string;
  batchId: string;
  action: HistoryAction;
  memoryId: string;
  time: string;
  before?: SnapshotView;
  after?: SnapshotView;
  fact?: string;
  reason?: string;
  model?: string;
  source?: SourceRef;
  /** Who made the change (shared banks have several writers). */
  actor?: string;
  /** Which engine rule acted on the manager's output (re-asked, fallback ADD). */
  guard?: string;
  undoes?: string;
  /** opId of the UNDO record that reverted this one. */
  undoneBy?: string;
  /** True when undo would succeed now (the memory still is as this record left it). */
  undoable: boolean;
  /** Operations in this record's batch, when more than one: the panel offers to undo them together. */
  batchOperations?: number;
}

export interface PendingOpView {
  type: string;
  memoryId?: string;
  text?: string;
  reason?: string;
}

/** A batch the destructive-run guard held back for approval. */
export interface PendingBatchView {
  id: string;
  reason: string;
  time: string;
  fact?: string;
  ops: PendingOpView[];
}

export type HostMessage =
  | {
      type: 'state';
      query: PanelQuery;
      items: MemoryView[];
      total: number;
      counts: Record<MemoryStatus, number>;
      offset: number;
      pending: PendingBatchView[];
      /** Set when the bank is a team's shared one (postgres): which bank, and where (no password). */
      sharedBank?: { id: string; location: string };
    }
  | { type: 'history'; memoryId: string; memory?: MemoryView; records: HistoryRecordView[]; sources?: SourceView[] }
  | { type: 'error'; message: string }
  | { type: 'notice'; message: string }
  | { type: 'changed'; external: boolean; records: number }
  | { type: 'reveal'; id: string }
  | { type: 'busy'; busy: boolean }
  | { type: 'noBank'; message: string };

// ------------------------------------------------------------------ validation (host side)

export type Validation = { ok: true; message: PageMessage } | { ok: false; error: string };

type Shape = Record<string, (v: unknown) => string | undefined>;

const id = (v: unknown): string | undefined =>
  typeof v !== 'string' || v.length === 0
    ? 'must be a non-empty string'
    : v.length > PROTOCOL_LIMITS.idChars
      ? `is longer than ${PROTOCOL_LIMITS.idChars} characters`
      : /[\u0000-\u001f\u007f]/.test(v)
        ? 'contains control characters'
        : undefined;

const text = (max: number) => (v: unknown): string | undefined =>
  typeof v !== 'string' ? 'must be a string' : v.length > max ? `is longer than ${max} characters` : undefined;

const tags = (v: unknown): string | undefined => {
  if (!Array.isArray(v)) return 'must be an array of strings';
  if (v.length > PROTOCOL_LIMITS.tags) return `has more than ${PROTOCOL_LIMITS.tags} tags`;
  for (const t of v) {
    if (typeof t !== 'string') return 'must be an array of strings';
    if (t.length > PROTOCOL_LIMITS.tagChars) return `has a tag longer than ${PROTOCOL_LIMITS.tagChars} characters`;
  }
  return undefined;
};

const int = (min: number, max: number) => (v: unknown): string | undefined =>
  typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max ? `must be an integer from ${min} to ${max}` : undefined;

const optional = (check: (v: unknown) => string | undefined) => (v: unknown): string | undefined =>
  v === undefined ? undefined : check(v);

const kind = (v: unknown): string | undefined => ((KIND_IDS as readonly unknown[]).includes(v) ? undefined : `must be one of ${KIND_IDS.join(', ')}`);

const query = (v: unknown): string | undefined => checkShape(v, QUERY_SHAPE);

const QUERY_SHAPE: Shape = {
  text: text(PROTOCOL_LIMITS.queryChars),
  status: (v) => (STATUS_FILTERS.includes(v as StatusFilter) ? undefined : `must be one of ${STATUS_FILTERS.join(', ')}`),
  tag: optional(text(PROTOCOL_LIMITS.tagChars)),
  pinned: optional((v) => (typeof v === 'boolean' ? undefined : 'must be true or false')),
  kind: optional(kind),
  offset: int(0, PROTOCOL_LIMITS.maxOffset),
  limit: int(1, PROTOCOL_LIMITS.maxLimit),
};

const SHAPES: Record<PageMessageType, Shape> = {
  ready: { query: optional(query), selectedId: optional(id) },
  query: { query },
  select: { id },
  deselect: {},
  edit: { id, text: text(PROTOCOL_LIMITS.textChars) },
  setTags: { id, tags },
  setKind: { id, kind: (v) => (v === '' ? undefined : kind(v) && `${kind(v)} or empty`) },
  delete: { id },
  restore: { id },
  pin: { id },
  unpin: { id },
  undo: { opId: id },
  undoBatch: { batchId: id },
  add: { text: text(PROTOCOL_LIMITS.textChars), tags, kind: optional(kind) },
  approve: { batchId: id },
  reject: { batchId: id },
  clearAll: {},
  review: { id },
  stillTrue: { id },
  openSource: { id },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Checks an object against a shape: every key known, every value valid. Returns the first problem. */
function checkShape(v: unknown, shape: Shape, extraKeys: readonly string[] = []): string | undefined {
  if (!isPlainObject(v)) return 'must be an object';
  for (const key of Object.keys(v)) {
    if (!Object.prototype.hasOwnProperty.call(shape, key) && !extraKeys.includes(key)) return `has an unknown field "${key.slice(0, 40)}"`;
  }
  for (const [key, check] of Object.entries(shape)) {
    const problem = check(v[key]);
    if (problem) return `field "${key}" ${problem}`;
  }
  return undefined;
}

/** Checks a message from the page; says what is wrong when it is refused. */
export function checkPageMessage(x: unknown): Validation {
  if (!isPlainObject(x)) return { ok: false, error: 'message is not an object' };
  const type = x.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(SHAPES, type)) {
    return { ok: false, error: `unknown message type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type}` };
  }
  const problem = checkShape(x, SHAPES[type as PageMessageType], ['type']);
  if (problem) return { ok: false, error: `${type}: ${problem}` };
  // Rebuild from known fields only, so nothing unexpected travels further.
  const clean: Record<string, unknown> = { type };
  for (const key of Object.keys(SHAPES[type as PageMessageType])) {
    if (x[key] !== undefined) clean[key] = key === 'query' ? { ...(x[key] as object) } : key === 'tags' ? [...(x[key] as string[])] : x[key];
  }
  return { ok: true, message: clean as PageMessage };
}

/** The validated message, or undefined when the page sent something malformed. */
export function validatePageMessage(x: unknown): PageMessage | undefined {
  const r = checkPageMessage(x);
  return r.ok ? r.message : undefined;
}

const HOST_TYPES: ReadonlySet<string> = new Set(['state', 'history', 'error', 'notice', 'changed', 'reveal', 'busy', 'noBank']);

/** Light check on the page side: the host is trusted, but stray window messages are not. */
export function isHostMessage(x: unknown): x is HostMessage {
  return isPlainObject(x) && typeof x.type === 'string' && HOST_TYPES.has(x.type);
}
