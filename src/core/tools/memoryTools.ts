// The memory tools that agents call: the same six in VS Code's language-model tools and in the
// `memory-r1 mcp` server. Surface-neutral (never imports vscode or the MCP SDK): specs with their
// model-facing descriptions and JSON schemas, input validation, the confirmation text for writes,
// and the calls themselves, which go through the bank and the Memory Manager like every other surface.
import { describeSource, shortRef } from '../provenance';
import type { MemoryBank } from '../bank/memoryBank';
import type { MemoryEngine } from '../engine';
import type { RetirementBudget } from '../agents/retirements';
import type { AppliedOperation } from '../api';
import type { HistoryAction, HistoryRecord, Memory, MemoryStatus, SourceRef } from '../types';
import { redactSecrets } from '../privacy/redact';
import { freshnessFor } from '../evidence/freshness';
import { addCounts, countTotal, describeCounts, redactSource, type RedactionCounts } from '../privacy/boundary';
import { INSTRUCTION_KINDS, KIND_IDS, MEMORY_KINDS, isMemoryKind, type MemoryKind } from '../kinds';
import { clipLine } from '../util/text';

export type MemoryToolName = 'memory_search' | 'memory_conventions' | 'memory_remember' | 'memory_forget' | 'memory_update' | 'memory_undo';

export interface MemoryToolSpec {
  name: MemoryToolName;
  /** Short human title (VS Code's displayName, MCP's title). */
  title: string;
  /** What the model reads to decide when to call the tool. */
  description: string;
  /** What a user reads in the tool picker. */
  userDescription: string;
  /** `#name` in VS Code chat. */
  toolReferenceName: string;
  inputSchema: Record<string, unknown>;
  /** Writes ask the user before they run. */
  readOnly: boolean;
  destructive: boolean;
}

const STATUSES = ['active', 'superseded', 'deleted', 'all'] as const;
const KINDS_INPUT = {
  type: 'array',
  items: { type: 'string', enum: [...KIND_IDS] },
  description: `Only memories of these kinds: ${MEMORY_KINDS.map((k) => `${k.id} (${k.hint})`).join('; ')}. Omitted: every kind.`,
};
export type SearchStatus = (typeof STATUSES)[number];
export const MAX_TOP_K = 50;
export const DEFAULT_TOP_K = 8;

export const MEMORY_TOOLS: readonly MemoryToolSpec[] = [
  {
    name: 'memory_search',
    title: 'Search project memory',
    toolReferenceName: 'memory',
    userDescription: 'Search the memories Project Memory keeps for this project.',
    description:
      "Search this project's long-term memory: facts, decisions and conventions recorded from earlier sessions, commits, saves, " +
      'terminal commands and chats (shared with the other agents that work on this project). Call it before answering questions ' +
      'about how this project works, what was decided, who owns what or what changed, and before changing conventions. ' +
      'Returns memories with their ids, dates, status and sources; cite the ones you use as [memory:<id>]. ' +
      "status 'superseded' finds earlier versions of facts (\"what did we use before?\"). An empty query lists the newest memories.",
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'What to look for, in natural language or keywords. Empty: the newest memories.' },
        topK: { type: 'integer', minimum: 1, maximum: MAX_TOP_K, default: DEFAULT_TOP_K, description: 'How many memories to return.' },
        status: {
          type: 'string',
          enum: [...STATUSES],
          default: 'active',
          description: "'active' (current facts, default), 'superseded' (earlier versions), 'deleted' (forgotten) or 'all'.",
        },
        kinds: KINDS_INPUT,
      },
      required: ['query'],
      additionalProperties: false,
    },
    readOnly: true,
    destructive: false,
  },
  {
    name: 'memory_conventions',
    title: 'Project conventions for a task',
    toolReferenceName: 'memoryConventions',
    userDescription: "The project's current conventions, decisions and workflows that apply to a coding task.",
    description:
      "Get this project's current coding conventions, decisions and workflows (only the newest version of each rule) before writing " +
      'or changing code: naming, exports, imports, docstrings, error handling, libraries to use or avoid, how to build and test. ' +
      'Give the task (e.g. "write a new API handler") to get the rules most relevant to it; no task lists them all, newest first. ' +
      'Follow them in the code you write; cite one you relied on as [memory:<id>].',
    inputSchema: {
      type: 'object',
      properties: {
        task: { type: 'string', description: 'What you are about to write or change. Empty: all current conventions.' },
        kinds: { ...KINDS_INPUT, description: `Which kinds of memory (default: ${INSTRUCTION_KINDS.join(', ')}).` },
        topK: { type: 'integer', minimum: 1, maximum: MAX_TOP_K, default: 12, description: 'How many memories to return.' },
      },
      additionalProperties: false,
    },
    readOnly: true,
    destructive: false,
  },
  {
    name: 'memory_remember',
    title: 'Remember in project memory',
    toolReferenceName: 'memoryRemember',
    userDescription: 'Store a fact; the Memory Manager decides whether to add it, update an older memory or skip it.',
    description:
      "Store one durable fact about this project in its long-term memory: a decision, convention, owner, version, path, command or fix " +
      'that later sessions and other agents should know. Write it as one self-contained sentence (no "I", no "this chat"). ' +
      'The Memory Manager compares it with related memories and decides: ADD it, UPDATE (supersede) an older memory it replaces, ' +
      'or NOOP when it is already known. Returns the operation applied, with memory and operation ids (undo with memory_undo). ' +
      'Do not store secrets, temporary state or things only true for this conversation.',
    inputSchema: {
      type: 'object',
      properties: {
        text: { type: 'string', description: 'The fact, as one self-contained sentence.' },
        kind: { type: 'string', enum: [...KIND_IDS], description: 'What the fact is (a convention, a decision, …). Omitted: the model labels it.' },
      },
      required: ['text'],
      additionalProperties: false,
    },
    readOnly: false,
    destructive: false,
  },
  {
    name: 'memory_forget',
    title: 'Forget a memory',
    toolReferenceName: 'memoryForget',
    userDescription: 'Delete one memory by id (kept in the history, undoable).',
    description:
      'Delete one memory by its id (from memory_search) when it is wrong, obsolete with no replacement, or the user asks to forget it. ' +
      'If a newer fact replaces it, use memory_update instead, which keeps the old version as history. ' +
      'The memory stays in the history and can be restored with memory_undo.',
    inputSchema: {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'The memory id (or a unique prefix of at least 8 characters).' },
        reason: { type: 'string', description: 'Why it is forgotten (kept in the history).' },
      },
      required: ['id'],
      additionalProperties: false,
    },
    readOnly: false,
    destructive: true,
  },
  {
    name: 'memory_update',
    title: 'Update a memory',
    toolReferenceName: 'memoryUpdate',
    userDescription: 'Replace one memory by id with a corrected text; the old version is kept as superseded.',
    description:
      'Replace the text of one memory, by its id (from memory_search), when the fact changed or was stated wrongly. ' +
      'The old version is kept as superseded (searchable, with the time it stopped being true) and the new text becomes the current memory. ' +
      'Give the complete new fact as one self-contained sentence. Returns the new memory id and the operation ids (undo with memory_undo).',
    inputSchema: {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'The memory id (or a unique prefix of at least 8 characters).' },
        text: { type: 'string', description: 'The complete corrected fact.' },
      },
      required: ['id', 'text'],
      additionalProperties: false,
    },
    readOnly: false,
    destructive: true,
  },
  {
    name: 'memory_undo',
    title: 'Undo a memory operation',
    toolReferenceName: 'memoryUndo',
    userDescription: 'Revert one operation (by operation id) that a memory tool or anyone else applied.',
    description:
      'Undo one operation on the project memory by its operation id (returned by memory_remember, memory_forget and memory_update), ' +
      'for example when a remember superseded the wrong memory. An update is undone as a whole (the old memory becomes current again). ' +
      'Refused when the memory changed after that operation.',
    inputSchema: {
      type: 'object',
      properties: {
        operationId: { type: 'string', description: 'The operation id to undo.' },
      },
      required: ['operationId'],
      additionalProperties: false,
    },
    readOnly: false,
    destructive: true,
  },
];

export function toolSpec(name: string): MemoryToolSpec | undefined {
  return MEMORY_TOOLS.find((t) => t.name === name);
}

/** Who called a tool: recorded as the source of every history record the call writes. */
export interface ToolCaller {
  /** The agent or client (`claude-code`, `Cursor`, `VS Code chat`). */
  agent: string;
  /** `vscode` (language-model tools) or `mcp`. */
  surface: 'vscode' | 'mcp';
}

/** What a tool needs: the bank, and the engine (models) only when the Memory Manager must decide. */
export interface ToolBackend {
  bank: MemoryBank;
  /** The engine for memory_remember; throws a clear error where no model is configured. */
  engine(): Promise<MemoryEngine>;
  /**
   * The session's run (an MCP connection): its remembers share one cap on retirements of the memories that
   * existed before it, and `undo` reverts the session as one. Without it each call is on its own.
   */
  run?(engine: MemoryEngine): RetirementBudget;
}

/** A memory as the tools return it: what an agent needs to cite and reason about it. */
export interface ToolMemory {
  id: string;
  text: string;
  status: MemoryStatus;
  /** When the fact holds from (its event time, else when it was recorded), YYYY-MM-DD. */
  date: string;
  updatedAt: string;
  source: SourceRef;
  /** "commit · 1a2b3c4 · by ana" */
  sourceLabel: string;
  score?: number;
  validTo?: string;
  supersededBy?: string;
  supersedes?: string;
  pinned?: boolean;
  tags?: string[];
  kind?: MemoryKind;
  /** What changed in the files this memory cites: it may be out of date (see the evidence ledger). */
  needsReview?: string[];
  /** The capture event it came from, as the bank kept it (redacted; the excerpt clipped): provenance. */
  origin?: { from: string; time: string; excerpt: string };
}

export interface ToolOperation {
  /** ADD / UPDATE / DELETE / NOOP from the manager; SUPERSEDE (the replaced memory) and UNDO records from direct calls. */
  type: HistoryAction;
  memoryId?: string;
  /** The history record's id: what memory_undo takes. */
  operationId?: string;
  before?: string;
  after?: string;
  supersededId?: string;
  /** For a SUPERSEDE record: the memory that replaced this one. */
  supersededBy?: string;
  reason?: string;
  held?: boolean;
  rejected?: string;
  guard?: string;
}

export interface ToolOutcome {
  tool: MemoryToolName;
  /** What the model reads. */
  text: string;
  /** The same as data (MCP structuredContent). */
  data: Record<string, unknown>;
  /** Memories the result is about, for citations / resource links. */
  memories: ToolMemory[];
  operations: ToolOperation[];
  redactions?: RedactionCounts;
}

/** Bad input or a refused call: the message is meant for the model and the user. */
export class ToolInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolInputError';
  }
}

// ---------------------------------------------------------------- input

export interface SearchInput {
  query: string;
  topK: number;
  status: SearchStatus;
  kinds?: MemoryKind[];
}
export interface ConventionsInput {
  task: string;
  topK: number;
  kinds: MemoryKind[];
}
export interface RememberInput {
  text: string;
  kind?: MemoryKind;
}
export interface ForgetInput {
  id: string;
  reason?: string;
}
export interface UpdateInput {
  id: string;
  text: string;
}
export interface UndoInput {
  operationId: string;
}
export type ToolInput = SearchInput | ConventionsInput | RememberInput | ForgetInput | UpdateInput | UndoInput;

const MAX_INPUT_CHARS = 8000;

function obj(raw: unknown, tool: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ToolInputError(`${tool}: the input must be an object.`);
  return raw as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, tool: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new ToolInputError(`${tool}: "${key}" is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new ToolInputError(`${tool}: "${key}" must be a string.`);
  if (v.length > MAX_INPUT_CHARS) throw new ToolInputError(`${tool}: "${key}" is ${v.length} characters; the limit is ${MAX_INPUT_CHARS}.`);
  return v;
}

function kindList(o: Record<string, unknown>, tool: string): MemoryKind[] | undefined {
  const v = o.kinds;
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((k) => !isMemoryKind(k))) throw new ToolInputError(`${tool}: "kinds" must be a list of ${KIND_IDS.join(', ')}.`);
  return [...new Set(list as MemoryKind[])];
}

function topKOf(o: Record<string, unknown>, tool: string, fallback: number): number {
  if (o.topK === undefined || o.topK === null) return fallback;
  const n = typeof o.topK === 'string' && /^\d+$/.test(o.topK) ? Number(o.topK) : o.topK;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_TOP_K) throw new ToolInputError(`${tool}: "topK" must be an integer from 1 to ${MAX_TOP_K}.`);
  return n;
}

function nonEmpty(v: string | undefined, key: string, tool: string): string {
  const t = (v ?? '').trim();
  if (!t) throw new ToolInputError(`${tool}: "${key}" must not be empty.`);
  return t;
}

/** Checks a tool's input against its schema by hand (same rules as the JSON schema), with messages a model can act on. */
export function parseToolInput(name: string, raw: unknown): ToolInput {
  const spec = toolSpec(name);
  if (!spec) throw new ToolInputError(`Unknown tool "${name}". Tools: ${MEMORY_TOOLS.map((t) => t.name).join(', ')}.`);
  const o = obj(raw, name);
  const allowed = Object.keys((spec.inputSchema.properties as Record<string, unknown>) ?? {});
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw new ToolInputError(`${name}: unknown input ${extra.map((k) => `"${k}"`).join(', ')}; it takes ${allowed.join(', ')}.`);
  switch (spec.name) {
    case 'memory_search': {
      const query = str(o, 'query', name, false) ?? '';
      const topK = topKOf(o, name, DEFAULT_TOP_K);
      const status = (str(o, 'status', name, false) ?? 'active') as SearchStatus;
      if (!STATUSES.includes(status)) throw new ToolInputError(`${name}: "status" must be one of ${STATUSES.join(', ')}.`);
      const kinds = kindList(o, name);
      return { query: query.trim(), topK, status, ...(kinds?.length ? { kinds } : {}) };
    }
    case 'memory_conventions': {
      const kinds = kindList(o, name);
      return { task: (str(o, 'task', name, false) ?? '').trim(), topK: topKOf(o, name, 12), kinds: kinds?.length ? kinds : [...INSTRUCTION_KINDS] };
    }
    case 'memory_remember': {
      const kind = str(o, 'kind', name, false);
      if (kind !== undefined && !isMemoryKind(kind)) throw new ToolInputError(`${name}: "kind" must be one of ${KIND_IDS.join(', ')}.`);
      return { text: nonEmpty(str(o, 'text', name, true), 'text', name), ...(kind ? { kind } : {}) };
    }
    case 'memory_forget': {
      const reason = str(o, 'reason', name, false)?.trim();
      return { id: nonEmpty(str(o, 'id', name, true), 'id', name), ...(reason ? { reason } : {}) };
    }
    case 'memory_update':
      return { id: nonEmpty(str(o, 'id', name, true), 'id', name), text: nonEmpty(str(o, 'text', name, true), 'text', name) };
    case 'memory_undo':
      return { operationId: nonEmpty(str(o, 'operationId', name, true), 'operationId', name) };
  }
}

/** A memory by id or unique prefix (8+ characters), any status. */
export function resolveMemory(bank: MemoryBank, idOrPrefix: string): Memory {
  const id = idOrPrefix.trim().replace(/^\[?memory:/i, '').replace(/\]$/, '');
  const exact = bank.get(id);
  if (exact) return exact;
  if (id.length >= 8) {
    const matches = bank.list({ status: 'all' }).items.filter((m) => m.id.startsWith(id));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new ToolInputError(`"${id}" matches ${matches.length} memories; give the full id.`);
  }
  throw new ToolInputError(`No memory with id "${id}". Use memory_search to find ids.`);
}

// ---------------------------------------------------------------- confirmation

export interface ToolConfirmation {
  /** Shown while the tool runs. */
  invocationMessage: string;
  /** For writes: what the user confirms. Undefined for read-only tools. */
  confirmation?: { title: string; message: string };
}

const quote = (s: string, n = 160): string => `"${s.length > n ? s.slice(0, n - 1) + '…' : s}"`;
const shortId = (id: string): string => id.slice(0, 8);

/**
 * The message naming the change a call would make, for the user's confirmation. Reads the bank, writes
 * nothing; texts pass the privacy boundary first. Bad input gives a message saying the call will fail.
 */
export function describeToolCall(name: string, raw: unknown, bank: MemoryBank | undefined): ToolConfirmation {
  // The bank's boundary (its opt-out applies); without a bank, the default redactor.
  const p = (s: string) => (bank ? bank.privacy.text(s) : redactSecrets(s).text);
  let input: ToolInput;
  try {
    input = parseToolInput(name, raw);
  } catch (err) {
    const title = toolSpec(name)?.title ?? name;
    return { invocationMessage: `${title}: ${(err as Error).message}`, ...(toolSpec(name)?.readOnly ? {} : { confirmation: { title, message: `${(err as Error).message} The call will fail.` } }) };
  }
  const memoryText = (id: string): { label: string; text?: string; status?: string } => {
    try {
      const m = bank ? resolveMemory(bank, id) : undefined;
      return m ? { label: shortId(m.id), text: p(m.text), status: m.status } : { label: id };
    } catch {
      return { label: id };
    }
  };
  switch (name as MemoryToolName) {
    case 'memory_search': {
      const i = input as SearchInput;
      return { invocationMessage: i.query ? `Searching project memory for ${quote(p(i.query), 80)}` : 'Listing the newest project memories' };
    }
    case 'memory_conventions': {
      const i = input as ConventionsInput;
      return { invocationMessage: i.task ? `Reading the project's conventions for ${quote(p(i.task), 80)}` : "Reading the project's conventions" };
    }
    case 'memory_remember': {
      const i = input as RememberInput;
      return {
        invocationMessage: `Remembering ${quote(p(i.text), 80)}`,
        confirmation: {
          title: 'Remember in project memory?',
          message: `Store this fact in the project memory: ${quote(p(i.text), 400)}. The Memory Manager decides whether it is added, supersedes an older memory or is already known; the change is recorded in the history and can be undone.`,
        },
      };
    }
    case 'memory_forget': {
      const i = input as ForgetInput;
      const m = memoryText(i.id);
      return {
        invocationMessage: `Forgetting memory ${m.label}`,
        confirmation: {
          title: `Forget memory ${m.label}?`,
          message: m.text
            ? `Delete the memory ${quote(m.text)}${i.reason ? ` (reason: ${quote(p(i.reason), 120)})` : ''}. It stays in the history and can be undone.${m.status !== 'active' ? ` It is ${m.status}, so the call will fail.` : ''}`
            : `There is no memory with id "${i.id}"; the call will fail.`,
        },
      };
    }
    case 'memory_update': {
      const i = input as UpdateInput;
      const m = memoryText(i.id);
      return {
        invocationMessage: `Updating memory ${m.label}`,
        confirmation: {
          title: `Update memory ${m.label}?`,
          message: m.text
            ? `Replace ${quote(m.text)} with ${quote(p(i.text), 400)}. The old version is kept as superseded and the change can be undone.${m.status !== 'active' ? ` It is ${m.status}, so the call will fail.` : ''}`
            : `There is no memory with id "${i.id}"; the call will fail.`,
        },
      };
    }
    case 'memory_undo': {
      const i = input as UndoInput;
      const r = bank?.record(i.operationId);
      const text = r ? p(r.after?.text ?? r.before?.text ?? '') : '';
      return {
        invocationMessage: `Undoing operation ${shortId(i.operationId)}`,
        confirmation: {
          title: `Undo ${r ? r.action : 'operation'} ${shortId(i.operationId)}?`,
          message: r
            ? `Revert the ${r.action} of ${quote(text)} (memory ${shortId(r.memoryId)}, ${r.time.slice(0, 16).replace('T', ' ')}). The undo is recorded in the history.`
            : `There is no operation "${i.operationId}" in the history; the call will fail.`,
        },
      };
    }
  }
}

// ---------------------------------------------------------------- running

/** The history source of a call: the agent that made it, and through which tool. */
export function agentSource(caller: ToolCaller, tool: MemoryToolName): SourceRef {
  return { kind: 'agent', ref: `${caller.surface === 'mcp' ? 'mcp' : 'vscode'}:${tool}`, actor: caller.agent };
}

/** Runs one tool call. Throws ToolInputError / BankError / LlmError with messages meant for the caller. */
export async function runMemoryTool(name: string, raw: unknown, backend: ToolBackend, caller: ToolCaller, signal?: AbortSignal): Promise<ToolOutcome> {
  const input = parseToolInput(name, raw);
  const tool = name as MemoryToolName;
  const { bank } = backend;
  const counts: RedactionCounts = {};
  const source = redactSource(bank.privacy, agentSource(caller, tool), counts) ?? agentSource(caller, tool);
  const finish = (o: Omit<ToolOutcome, 'tool' | 'redactions'>): ToolOutcome => {
    const redacted = countTotal(counts) ? counts : undefined;
    const text = redacted ? `${o.text}\n(Redacted ${describeCounts(redacted)} before storing or sending.)` : o.text;
    return { tool, ...o, text, data: { ...o.data, ...(redacted ? { redactions: redacted } : {}) }, ...(redacted ? { redactions: redacted } : {}) };
  };
  switch (tool) {
    case 'memory_search': {
      const i = input as SearchInput;
      const query = bank.privacy.text(i.query, counts);
      freshnessFor(bank).ledger.refresh();
      const memories = await searchMemories(bank, query, i.topK, i.status, signal, i.kinds);
      const what = `${query ? `for ${quote(query, 80)}` : '(newest first)'}${i.kinds ? ` of kind ${i.kinds.join(', ')}` : ''}`;
      const lines = memories.map((m, k) => `[${k + 1}] memory:${m.id} · ${m.date} · ${m.status}${statusNote(m)}${m.kind ? ` · ${m.kind}` : ''} · ${m.sourceLabel}\n    ${m.text}${m.origin ? `\n    from ${m.origin.from}: ${clipLine(m.origin.excerpt, 200)}` : ''}`);
      const text = memories.length
        ? `${memories.length} ${i.status === 'all' ? '' : i.status + ' '}memor${memories.length === 1 ? 'y' : 'ies'} ${what}:\n${lines.join('\n')}\nCite a memory you use as [memory:<id>].`
        : `No ${i.status === 'all' ? '' : i.status + ' '}memories ${what}.${bank.size === 0 ? ' The project memory is empty.' : ''}`;
      return finish({ text, data: { query, status: i.status, memories }, memories, operations: [] });
    }
    case 'memory_conventions': {
      const i = input as ConventionsInput;
      const task = bank.privacy.text(i.task, counts);
      freshnessFor(bank).ledger.refresh();
      const memories = await searchMemories(bank, task, i.topK, 'active', signal, i.kinds);
      const lines = memories.map((m) => `- ${m.text} [memory:${m.id}] (${m.kind ?? 'other'}, ${m.date}${m.needsReview ? '; NEEDS REVIEW: its cited files changed' : ''})`);
      const what = `${i.kinds.join(', ')}${task ? ` for ${quote(task, 80)}` : ''}`;
      const text = memories.length
        ? `The project's current ${what} (newest version of each rule; follow them in the code you write):\n${lines.join('\n')}`
        : `No ${what} in the project memory.${bank.size === 0 ? ' The project memory is empty.' : ''}`;
      return finish({ text, data: { task, kinds: i.kinds, memories }, memories, operations: [] });
    }
    case 'memory_remember': {
      const i = input as RememberInput;
      const engine = await backend.engine();
      const fact = bank.privacy.text(i.text, counts);
      // The Memory Manager decides, exactly as for /remember; the records come back for their operation ids.
      const run = backend.run?.(engine);
      const kind = i.kind ?? (await engine.classifyKind(fact, signal));
      const r = await engine.manageFact(fact, source, undefined, signal, { ...(run ? { budgets: [run], run: run.id } : {}), ...(kind ? { kind } : {}) });
      addCounts(counts, r.redactions);
      const operations = r.operations.map((op) => toToolOperation(op, r.records));
      const memories = uniqueMemories(bank, operations.flatMap((o) => [o.memoryId, o.supersededId]));
      const text = [`The Memory Manager decided for ${quote(fact)}:`, ...operations.map(describeOperation)].join('\n');
      return finish({ text, data: { fact, operations, memories }, memories, operations });
    }
    case 'memory_forget': {
      const i = input as ForgetInput;
      const m = resolveMemory(bank, i.id);
      if (m.status !== 'active') throw new ToolInputError(`Memory ${m.id} is ${m.status}${m.supersededBy ? ` (replaced by ${m.supersededBy})` : ''}; only active memories can be forgotten.`);
      const reason = bank.privacy.text(i.reason ? `forgotten by ${caller.agent}: ${i.reason}` : `forgotten by ${caller.agent}`, counts);
      const records = await bank.applyBatch([{ type: 'DELETE', memoryId: m.id, reason }], { source });
      const operations = records.map(recordOperation);
      const text = `Forgot memory:${m.id} ${quote(bank.privacy.text(m.text))} (operation ${records[0]?.opId}; undo with memory_undo).`;
      return finish({ text, data: { operations }, memories: uniqueMemories(bank, [m.id]), operations });
    }
    case 'memory_update': {
      const i = input as UpdateInput;
      const m = resolveMemory(bank, i.id);
      if (m.status !== 'active') throw new ToolInputError(`Memory ${m.id} is ${m.status}${m.supersededBy ? `; update its successor ${m.supersededBy} instead` : ''}.`);
      const text = bank.privacy.text(i.text, counts);
      if (text === m.text.trim()) throw new ToolInputError(`Memory ${m.id} already says exactly that; nothing to update.`);
      // An update supersedes (the old version stays, with the time it stopped being true), as the manager's UPDATE does.
      const records = await bank.applyBatch([{ type: 'UPDATE', memoryId: m.id, text, reason: `updated by ${caller.agent}` }], { fact: text, source });
      const added = records.find((r) => r.action === 'UPDATE');
      const operations = records.map(recordOperation);
      const out = `Updated: memory:${added?.memoryId} now holds ${quote(text)}; it supersedes memory:${m.id} ${quote(bank.privacy.text(m.text))} (operations ${records.map((r) => r.opId).join(', ')}; undo either with memory_undo).`;
      return finish({ text: out, data: { operations }, memories: uniqueMemories(bank, [added?.memoryId, m.id]), operations });
    }
    case 'memory_undo': {
      const i = input as UndoInput;
      const records = await bank.undo(i.operationId, source);
      const operations = records.map(recordOperation);
      const text = `Undone: ${records.map((r) => `memory:${r.memoryId} is ${r.after?.status ?? 'restored'} again${r.after?.text ? ` (${quote(bank.privacy.text(r.after.text))})` : ''}`).join('; ')}.`;
      return finish({ text, data: { operations }, memories: uniqueMemories(bank, records.map((r) => r.memoryId)), operations });
    }
  }
}

/** Search with a status filter; an empty query lists the newest memories. */
async function searchMemories(bank: MemoryBank, query: string, topK: number, status: SearchStatus, signal?: AbortSignal, kinds?: MemoryKind[]): Promise<ToolMemory[]> {
  if (!query) return bank.list({ status, limit: topK, kinds }).items.map((m) => toolMemory(bank, m));
  const hits =
    status === 'active'
      ? await bank.search(query, { topK, signal, kinds })
      : // Other statuses: search everything, keep the asked status, best first (a larger pool so the filter leaves enough).
        (await bank.search(query, { topK: status === 'all' ? topK : Math.min(topK * 5, 500), includeInactive: true, signal, kinds })).filter((h) => status === 'all' || h.memory.status === status);
  return hits.slice(0, topK).map((h) => toolMemory(bank, h.memory, h.score));
}

/** Characters of a source event an agent gets with a memory (the whole event opens in the editor). */
const ORIGIN_EXCERPT_CHARS = 500;

function originOf(bank: MemoryBank, memoryId: string): Pick<ToolMemory, 'origin'> {
  const src = bank.sourceOf(memoryId);
  if (!src) return {};
  const text = bank.privacy.text(src.text);
  const excerpt = text.length > ORIGIN_EXCERPT_CHARS ? text.slice(0, ORIGIN_EXCERPT_CHARS - 1) + '…' : text;
  return { origin: { from: describeSource({ ...src, ref: src.ref && bank.privacy.text(src.ref) }), time: src.time, excerpt } };
}

export function toolMemory(bank: MemoryBank, m: Memory, score?: number): ToolMemory {
  const review = m.status === 'active' ? freshnessFor(bank).ledger.review(m.id) : undefined;
  const source = redactSource(bank.privacy, m.source, {}) ?? m.source;
  return {
    id: m.id,
    // A bank from an older version may still hold secrets: what goes back to an agent passes the boundary.
    text: bank.privacy.text(m.text),
    status: m.status,
    date: (m.eventTime ?? m.createdAt).slice(0, 10),
    updatedAt: m.updatedAt,
    source,
    sourceLabel: sourceLabel(source),
    ...(score !== undefined ? { score: Math.round(score * 1000) / 1000 } : {}),
    ...(m.validTo ? { validTo: m.validTo } : {}),
    ...(m.supersededBy ? { supersededBy: m.supersededBy } : {}),
    ...(m.supersedes ? { supersedes: m.supersedes } : {}),
    ...(m.pinned ? { pinned: true } : {}),
    ...(m.kind ? { kind: m.kind } : {}),
    ...(m.tags.length ? { tags: m.tags.map((t) => bank.privacy.text(t)) } : {}),
    ...(review ? { needsReview: review.changes.map((c) => bank.privacy.text(c)) } : {}),
    ...originOf(bank, m.id),
  };
}

function sourceLabel(s: SourceRef): string {
  const parts: string[] = [s.kind];
  if (s.ref) parts.push(shortRef(s.kind, s.ref));
  if (s.actor) parts.push(`by ${s.actor}`);
  return parts.join(' · ');
}

function statusNote(m: ToolMemory): string {
  const review = m.needsReview ? ` · NEEDS REVIEW (its cited files changed: ${m.needsReview.join('; ')})` : '';
  return statusOf(m) + review;
}

function statusOf(m: ToolMemory): string {
  if (m.status === 'superseded') return `${m.validTo ? ` until ${m.validTo.slice(0, 10)}` : ''}${m.supersededBy ? `, replaced by memory:${m.supersededBy}` : ''}`;
  if (m.supersedes) return `, replaces memory:${m.supersedes}`;
  return '';
}

function uniqueMemories(bank: MemoryBank, ids: (string | undefined)[]): ToolMemory[] {
  const seen = new Set<string>();
  const out: ToolMemory[] = [];
  for (const id of ids) {
    if (!id || seen.has(id)) continue;
    seen.add(id);
    const m = bank.get(id);
    if (m) out.push(toolMemory(bank, m));
  }
  return out;
}

function toToolOperation(op: AppliedOperation, records: HistoryRecord[]): ToolOperation {
  const rec = op.memoryId ? records.find((r) => r.memoryId === op.memoryId && r.action === op.type) : undefined;
  return {
    type: op.type,
    ...(op.memoryId ? { memoryId: op.memoryId } : {}),
    ...(rec ? { operationId: rec.opId } : {}),
    ...(op.before ? { before: op.before } : {}),
    ...(op.after ? { after: op.after } : {}),
    ...(op.supersededId ? { supersededId: op.supersededId } : {}),
    ...(op.reason ? { reason: op.reason } : {}),
    ...(op.held ? { held: true } : {}),
    ...(op.rejected ? { rejected: op.rejected } : {}),
    ...(op.guard ? { guard: op.guard } : {}),
  };
}

function recordOperation(r: HistoryRecord): ToolOperation {
  return {
    type: r.action,
    memoryId: r.memoryId,
    operationId: r.opId,
    ...(r.before?.text ? { before: r.before.text } : {}),
    ...(r.after?.text ? { after: r.after.text } : {}),
    ...(r.action === 'SUPERSEDE' && r.after?.supersededBy ? { supersededBy: r.after.supersededBy } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

function describeOperation(o: ToolOperation): string {
  const id = o.memoryId ? ` memory:${o.memoryId}` : '';
  const op = o.operationId ? ` (operation ${o.operationId})` : '';
  if (o.rejected) return `- refused a proposed change: ${o.rejected}`;
  if (o.held) return `- ${o.type}${id} held for the user's approval in the Project Memory panel: ${o.reason ?? ''}`;
  switch (o.type) {
    case 'ADD':
      return `- ADD${id}${op}: ${quote(o.after ?? '')}${o.guard ? ` [${o.guard}]` : ''}`;
    case 'UPDATE':
      return `- UPDATE${id}${op}: ${quote(o.after ?? '')} supersedes${o.supersededId ? ` memory:${o.supersededId}` : ''} ${quote(o.before ?? '')}`;
    case 'DELETE':
      return `- DELETE${id}${op}: ${quote(o.before ?? '')}`;
    default:
      return `- NOOP${id}: already known${o.reason ? ` (${o.reason})` : ''}`;
  }
}
