import type { AnswerOptions, AnswerResult, AppliedOperation, IngestResult } from './api';
import type { MemoryBank } from './bank/memoryBank';
import type { ChatModel } from './llm/chatModel';
import type { BatchContext, CandidateView, CaptureEvent, ChatMessage, HistoryRecord, Memory, PlannedOperation, SourceRef, TokenUsage } from './types';
import { ANSWER_REASK, type CandidateMeta, type ManagerProtocol, REVIEW_GONE_SCHEMA, REVIEW_SCHEMA, REWRITE_SCHEMA, VERIFY_SCHEMA, answerMessages, reviewMessages, managerPrompt, managerSchema, reaskMessage, rewriteMessages, verifyMessages } from './agents/prompts';
import { buildAnswerContext } from './agents/answerContext';
import { type ManagerDecision, parseAnswerOutput, parseManagerOutput } from './agents/managerOutput';
import { keepsFact, parseDecisionOutput } from './agents/managerRules';
import { pairedSupersede } from './bank/undo';
import { classifyKind, extractFactsFromText } from './agents/extraction';
import type { MemoryKind } from './kinds';
import { DEFAULT_RETIREMENT_CAPS, RetirementBudget, type RetirementCaps } from './agents/retirements';
import { clipLine, newId, nowIso } from './util/text';
import { extractJson } from './util/jsonExtract';
import { BankError } from './errors';
import { RedactingStream, addCounts, countTotal, redactSource, type PrivacyBoundary, type RedactionCounts } from './privacy/boundary';

export interface EngineOptions {
  /** Memories the answer agent sees (Memory-R1 uses 60). */
  answerTopK: number;
  /** Tokens of memories and source excerpts the Answer Agent reads (its window less the prompt and the answer). */
  answerContextTokens: number;
  /** Source excerpts shown with the best-ranked memories, at most, and their length in characters. */
  answerExcerpts: number;
  answerExcerptChars: number;
  /** Related memories shown to the manager for each fact (at most). */
  managerTopK: number;
  /** Override the embedder's relatedness (the cosine from which a memory is shown to the manager); -1 shows all. */
  managerRelatedness?: number;
  /**
   * A batch that would delete or overwrite more than this share of its candidates (and at least
   * `minDestructiveOps` of them) is held for the user's approval instead of being applied.
   */
  maxDestructiveShare: number;
  minDestructiveOps: number;
  /** Record manager/answer trajectories for training (`export-training`). */
  recordTrajectories: boolean;
  /** Temperature for the manager and answer calls (greedy by default, as in the paper's evaluation). */
  temperature: number;
  /** Output token caps per role, so a rambling model cannot stall the queue. */
  maxTokens: { extractor: number; manager: number; answer: number };
  /** `per-fact`: one decision (operation + target) per fact; `paper`: Memory-R1 App. C.1's list of operations. */
  managerProtocol: ManagerProtocol;
  /**
   * No silent loss: when the manager's answer does not keep the fact (unparseable, a DELETE alone, ids it was
   * not shown), the fact itself is added. Off only for measurements of the model's own decisions.
   */
  managerFallback: boolean;
  /**
   * Ask the manager once more, saying why, when its output does not keep the fact. `paper` (default): only
   * for the paper's protocol, whose texts a second try can fix; per-fact decisions fall back to ADD at once.
   */
  managerReask: boolean | 'paper';
  /** Per-fact protocol: before superseding, ask whether the old memory is still true; if so, add the fact beside it. */
  managerVerifyUpdates: boolean;
  /** How many existing memories one event and one run may retire before the rest is held for approval. */
  retirementCaps: RetirementCaps;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  answerTopK: 60,
  answerContextTokens: 2500,
  answerExcerpts: 8,
  answerExcerptChars: 700,
  managerTopK: 5,
  maxDestructiveShare: 0.5,
  minDestructiveOps: 3,
  recordTrajectories: true,
  temperature: 0,
  maxTokens: { extractor: 512, manager: 768, answer: 512 },
  managerProtocol: 'per-fact',
  managerFallback: true,
  managerReask: 'paper',
  managerVerifyUpdates: process.env.MEMORY_R1_VERIFY_UPDATES === '1',
  retirementCaps: DEFAULT_RETIREMENT_CAPS,
};

/** How one fact is managed beyond its text: the claim on its source, fixed candidates, caps and run. */
export interface ManageClaim {
  exclusive?: boolean;
  /** Use these memories as the candidates, in this order (the decision benchmark). */
  candidateIds?: string[];
  /** The event's and the run's retirement caps (a fact on its own gets an event-sized one). */
  budgets?: RetirementBudget[];
  /** The run id stored on the records. */
  run?: string;
  /** The fact's kind (extraction's label): stored on the memory an ADD or UPDATE writes. */
  kind?: MemoryKind;
  /** The capture event's text and time: kept by the bank as the memory's source (provenance). */
  origin?: { text: string; time: string };
}

/** The manager's turn for one fact: what it was asked, what it answered, what the engine noted. */
interface ManagerTurn {
  prompt: ChatMessage[];
  res: { text: string; model: string };
  firstOutput: string;
  decision: ManagerDecision;
  called: boolean;
  guards: string[];
}

export interface EngineModels {
  extractor: ChatModel;
  manager: ChatModel;
  answerer: ChatModel;
}

/**
 * The Memory-R1 pipeline: extract facts from an event, let the Memory Manager decide
 * ADD/UPDATE/DELETE/NOOP for each fact against its related memories, apply the validated
 * operations atomically; answer questions with retrieval + distillation + citations.
 */
export class MemoryEngine {
  readonly bank: MemoryBank;
  readonly options: EngineOptions;
  private models: EngineModels;

  constructor(opts: { bank: MemoryBank; options?: Partial<EngineOptions> } & EngineModels) {
    this.bank = opts.bank;
    this.models = { extractor: opts.extractor, manager: opts.manager, answerer: opts.answerer };
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...opts.options, maxTokens: { ...DEFAULT_ENGINE_OPTIONS.maxTokens, ...opts.options?.maxTokens } };
  }

  /** Swaps the models (settings changed, another chat model) without reopening the bank. */
  setModels(models: EngineModels): void {
    this.models = models;
  }

  /** Applies changed settings (answer top-k, manager protocol, …) to the next calls. */
  configure(options: Partial<EngineOptions>): void {
    Object.assign(this.options, options, options.maxTokens ? { maxTokens: { ...this.options.maxTokens, ...options.maxTokens } } : {});
  }

  /** The bank's privacy boundary: every text entering the engine passes it (the bank's opt-out applies). */
  get privacy(): PrivacyBoundary {
    return this.bank.privacy;
  }

  /** Extraction on the redacted event; the facts the model writes back are redacted too. */
  async extractFacts(event: CaptureEvent, signal?: AbortSignal, counts: RedactionCounts = {}): Promise<{ facts: string[]; kinds: (MemoryKind | undefined)[]; usage: TokenUsage; raw: string; problem?: string }> {
    const text = this.privacy.text(event.text, counts);
    const r = await extractFactsFromText(this.models.extractor, text, { eventTime: event.eventTime, maxTokens: this.options.maxTokens.extractor, signal });
    return { facts: r.facts.map((f) => this.privacy.text(f, counts)), kinds: r.kinds, usage: r.usage, raw: this.privacy.text(r.raw), ...(r.problem ? { problem: r.problem } : {}) };
  }

  /**
   * A run: several events ingested as one (`memory-r1 ingest`, an agent session). Its records carry the
   * run's id (undo reverts the run as one) and its retirements of memories that existed before it count
   * against one cap.
   */
  startRun(): RetirementBudget {
    return new RetirementBudget('run', this.bank.list({ limit: 0 }).counts.active, this.options.retirementCaps.perRun);
  }

  async ingest(rawEvent: CaptureEvent, signal?: AbortSignal, run?: RetirementBudget): Promise<IngestResult> {
    const counts: RedactionCounts = {};
    const event: CaptureEvent = { ...rawEvent, source: redactSource(this.privacy, rawEvent.source, counts) };
    // The time the event happened is the facts' time (a commit's date, a chat turn's), not the time it is processed.
    event.eventTime ??= event.time;
    const { facts, kinds, usage, problem, raw } = await this.extractFacts(event, signal, counts);
    const result: IngestResult = { facts, kinds, operations: [], usage: { ...usage } };
    // A reply that cannot be read is not "no facts": the caller reports it (and the capture queue keeps the event).
    if (problem) result.unusable = `the extractor's output could not be used: ${problem} (${JSON.stringify(raw.length > 120 ? raw.slice(0, 119) + '…' : raw)})`;
    if (countTotal(counts)) result.redactions = counts;
    // Records carry the event's id. A commit is one event however many windows see it: the first
    // event to write records for its sha owns it, and the others stop here.
    const source: SourceRef = { ...event.source, event: event.id };
    const exclusive = event.source.kind === 'commit' && !!event.source.ref;
    const budgets = [new RetirementBudget('event', this.bank.list({ limit: 0 }).counts.active, this.options.retirementCaps.perEvent), ...(run ? [run] : [])];
    for (const [i, fact] of facts.entries()) {
      signal?.throwIfAborted();
      try {
        const r = await this.manageFact(fact, source, event.eventTime, signal, { exclusive, budgets, run: run?.id, kind: kinds[i], origin: { text: event.text, time: event.eventTime ?? event.time } });
        result.operations.push(...r.operations);
        addUsage(result.usage, r.usage);
        if (r.redactions) result.redactions = addCounts(result.redactions ?? {}, r.redactions);
      } catch (err) {
        if (!(err instanceof BankError && err.code === 'DUPLICATE')) throw err;
        result.skipped = err.message;
        break;
      }
    }
    return result;
  }

  /**
   * The kind of a fact that did not come through extraction (a remembered sentence, an agent's fact): one short
   * call, skipped when the fact repeats a memory exactly (that needs no model call at all).
   */
  async classifyKind(fact: string, signal?: AbortSignal): Promise<MemoryKind | undefined> {
    const clean = this.privacy.text(fact);
    if (this.bank.findDuplicate(clean)) return undefined;
    return classifyKind(this.models.extractor, clean, signal);
  }

  /** `/remember`: the text itself is the fact; the manager decides what to do with it. */
  async remember(text: string, source: SourceRef, signal?: AbortSignal, run?: RetirementBudget, kind?: MemoryKind): Promise<IngestResult> {
    const counts: RedactionCounts = {};
    const fact = this.privacy.text(text.trim(), counts);
    // A remembered sentence has no extraction step to label it: one short call does, unless the caller knows.
    kind ??= await this.classifyKind(fact, signal);
    const r = await this.manageFact(fact, redactSource(this.privacy, source, counts), undefined, signal, { budgets: run ? [run] : undefined, run: run?.id, kind });
    addCounts(counts, r.redactions);
    return { facts: [fact], operations: r.operations, usage: r.usage, ...(countTotal(counts) ? { redactions: counts } : {}) };
  }

  /**
   * One manager step for one fact, in five steps: the related memories, the model's decision, what the engine
   * does with it (same-event claims, an UPDATE's rewrite, no silent loss, the optional check), one retirement
   * per fact, then apply (or hold, beyond the caps). Exported for the training reward, which replays it.
   */
  async manageFact(
    rawFact: string,
    source: SourceRef,
    eventTime: string | undefined,
    signal?: AbortSignal,
    claim: ManageClaim = {},
  ): Promise<{ operations: AppliedOperation[]; usage: TokenUsage; records: HistoryRecord[]; redactions?: RedactionCounts; guard?: string; output?: string }> {
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    // The privacy boundary: the fact, the related memories shown to the manager and its output are redacted.
    const found: RedactionCounts = {};
    const fact = this.privacy.text(rawFact, found);
    const redactions = countTotal(found) ? found : undefined;
    const dup = this.bank.findDuplicate(fact);
    if (dup) {
      // An exact duplicate needs no model call: record the NOOP so the history shows it was seen.
      const records = await this.bank.applyBatch([{ type: 'NOOP', memoryId: dup.id, reason: 'exact duplicate' }], { fact, source, model: 'dedupe', exclusive: claim.exclusive, redactions, origin: claim.origin });
      return { operations: [{ type: 'NOOP', memoryId: dup.id, fact, reason: 'exact duplicate' }], usage, records, redactions };
    }
    const shown = await this.relatedMemories(fact, claim.candidateIds, signal);
    const turn = await this.decide(fact, shown, eventTime, usage, signal);
    const planned = await this.settle(fact, source, shown.candidates, turn, usage, signal);
    // Engine notes quote the model's output (an id it made up, its reason): they pass the boundary like any text.
    const guard = turn.guards.length ? this.privacy.text(turn.guards.join('; ')) : undefined;
    const operations: AppliedOperation[] = turn.decision.rejected.map((r) => ({ type: 'NOOP', fact, rejected: this.privacy.text(r.reason) }));
    const ops = this.oneRetirementPerFact(fact, planned, shown.candidates, turn.decision, operations).map((o) => (claim.kind && (o.type === 'ADD' || o.type === 'UPDATE') ? { ...o, kind: claim.kind } : o));
    const ctx: BatchContext = { fact, candidates: shown.candidates, model: turn.res.model, source, eventTime, exclusive: claim.exclusive, redactions, guard, run: claim.run, origin: claim.origin };
    const records = await this.applyOrHold(fact, ops, ctx, shown.candidates, claim.budgets, guard, operations);
    if (this.options.recordTrajectories && turn.called) {
      await this.bank.side.recordTrajectory({
        kind: 'manager',
        fact,
        candidates: shown.candidates.map((c) => ({ id: c.key, text: c.text })),
        prompt: turn.prompt,
        output: turn.res.text,
        model: turn.res.model,
        protocol: this.options.managerProtocol,
        ...(guard ? { guard } : {}),
        operations: operations.map((o) => ({ type: o.type, memoryId: o.memoryId, text: o.after, held: o.held, rejected: o.rejected })),
        redactions,
      });
    }
    return { operations, usage, records, redactions, guard, output: turn.called ? this.privacy.text(turn.firstOutput) : undefined };
  }

  /**
   * The consolidation pass's question about one memory: against the older active memories related to it
   * (those in `exclude` already planned away), is it the same as one (a duplicate), does it replace one, or
   * neither? The manager's own decision protocol, with the memory's text as the fact. Nothing is applied.
   */
  async consolidationDecision(
    memoryId: string,
    exclude: ReadonlySet<string>,
    signal?: AbortSignal,
  ): Promise<{ verdict: 'duplicate' | 'replaces' | 'keep' | 'unreadable'; target?: string; usage: TokenUsage; model?: string }> {
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    const m = this.bank.get(memoryId);
    if (!m || m.status !== 'active') return { verdict: 'keep', usage };
    const when = (x: { eventTime?: string; createdAt: string }) => x.eventTime ?? x.createdAt;
    const related = this.options.managerRelatedness ?? this.bank.embedder.relatedness ?? -1;
    const event = this.bank.sourceEvent(m.id);
    const hits = (await this.bank.searchDense(m.text, this.options.managerTopK + exclude.size + 1, signal))
      // As for a new fact: the claims of one captured event stand side by side, never retiring each other.
      .filter((h) => h.memory.id !== m.id && h.memory.status === 'active' && !exclude.has(h.memory.id) && h.score >= related && when(h.memory) <= when(m) && !(event && this.bank.sourceEvent(h.memory.id) === event))
      .slice(0, this.options.managerTopK);
    if (!hits.length) return { verdict: 'keep', usage };
    const shown = this.shown(hits.map((h) => h.memory));
    const turn = await this.decide(this.privacy.text(m.text), shown, m.eventTime, usage, signal);
    const op = turn.decision.ops[0];
    if (!op) return { verdict: 'unreadable', usage, model: turn.res.model };
    if (op.type === 'NOOP' && op.memoryId) return { verdict: 'duplicate', target: op.memoryId, usage, model: turn.res.model };
    // REPLACES only: an UPDATE of a compound memory (its rewrite) is not consolidation's to apply.
    if (op.type === 'UPDATE' && op.memoryId && /REPLACE|SUPERSEDE/i.test(turn.res.text)) {
      if (this.options.managerVerifyUpdates) {
        // As for a new fact's supersede, when the engine is set to: check it with the yes/no question.
        const key = shown.candidates.find((c) => c.memoryId === op.memoryId)!.key;
        if (await this.stillTrue(turn.prompt, turn.res.text, key, usage, signal)) return { verdict: 'keep', usage, model: turn.res.model };
      }
      return { verdict: 'replaces', target: op.memoryId, usage, model: turn.res.model };
    }
    return { verdict: 'keep', usage, model: turn.res.model };
  }

  /**
   * The freshness review of one memory whose cited files changed: the manager keeps it (NOOP), rewrites it
   * (an UPDATE: the old text stays as history) or retires it (DELETE). Output that cannot be read keeps the
   * memory as it is (nothing is lost; it stays flagged for the user). The operation goes through the same
   * caps on retirements and approval as any decision.
   */
  async reviewMemory(memoryId: string, rawChange: string, opts: { signal?: AbortSignal; run?: string; budgets?: RetirementBudget[]; /** Everything the memory cites is gone (no new state known). */ gone?: boolean } = {}): Promise<{ operations: AppliedOperation[]; records: HistoryRecord[]; held: boolean; decision: 'KEEP' | 'REWRITE' | 'RETIRE' | 'UNREADABLE'; usage: TokenUsage }> {
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    const memory = this.bank.get(memoryId);
    if (!memory || memory.status !== 'active') throw new BankError('NOT_FOUND', `No active memory with id ${memoryId}.`);
    const change = this.privacy.text(rawChange);
    const text = this.privacy.text(memory.text);
    const meta: CandidateMeta = { date: (memory.eventTime ?? memory.createdAt).slice(0, 10), source: memory.source.kind };
    const res = await this.models.manager.complete({ messages: reviewMessages(text, meta, change, opts.gone), json: { schema: opts.gone ? REVIEW_GONE_SCHEMA : REVIEW_SCHEMA, name: 'memory_review' }, temperature: this.options.temperature, maxTokens: 160, signal: opts.signal });
    addUsage(usage, res.usage);
    const out = extractJson(res.text) as { decision?: unknown; text?: unknown } | undefined;
    const decided = typeof out?.decision === 'string' ? out.decision.toUpperCase() : '';
    const newText = typeof out?.text === 'string' ? this.privacy.text(out.text.trim()) : '';
    const candidates: CandidateView[] = [{ key: '0', memoryId, text }];
    let op: PlannedOperation;
    let decision: 'KEEP' | 'REWRITE' | 'RETIRE' | 'UNREADABLE';
    if (decided === 'REWRITE' && newText.length >= 3 && newText !== text && newText !== memory.text) {
      decision = 'REWRITE';
      op = { type: 'UPDATE', memoryId, text: newText, reason: `its cited files changed: ${change}` };
    } else if (decided === 'RETIRE') {
      decision = 'RETIRE';
      op = { type: 'DELETE', memoryId, reason: `its cited files changed: ${change}` };
    } else if (decided === 'KEEP' || (decided === 'REWRITE' && !opts.gone)) {
      // A rewrite that repeats the memory keeps it.
      decision = 'KEEP';
      op = { type: 'NOOP', memoryId, reason: 'still true after the change' };
    } else {
      // Output that cannot be read retires nothing: the memory stays flagged for the user.
      decision = 'UNREADABLE';
      op = { type: 'NOOP', memoryId, reason: 'the review answer could not be read: kept as it is' };
    }
    const operations: AppliedOperation[] = [];
    const ctx: BatchContext = { fact: change, candidates, model: res.model, source: { kind: 'manual', actor: 'freshness review' }, eventTime: nowIso(), guard: decision === 'UNREADABLE' ? 'freshness review: unreadable answer' : 'freshness review', run: opts.run };
    const records = await this.applyOrHold(change, [op], ctx, candidates, opts.budgets, ctx.guard, operations);
    return { operations, records, held: op.type !== 'NOOP' && records.length === 0, decision, usage };
  }

  /**
   * Step 1: the memories the manager sees, closest in meaning first, and only those close enough to be about the
   * same thing (the embedder's relatedness), each with what the model needs to judge: when it became true and
   * where it came from. `candidateIds` fixes them instead (the decision benchmark).
   */
  private async relatedMemories(fact: string, candidateIds: string[] | undefined, signal?: AbortSignal): Promise<{ candidates: CandidateView[]; meta: CandidateMeta[] }> {
    const related = this.options.managerRelatedness ?? this.bank.embedder.relatedness ?? -1;
    const hits = candidateIds
      ? candidateIds.map((id) => this.bank.get(id)).filter((m): m is NonNullable<typeof m> => !!m && m.status === 'active').map((memory) => ({ memory, score: 1 }))
      : (await this.bank.searchDense(fact, this.options.managerTopK, signal)).filter((h) => h.score >= related);
    return this.shown(hits.map((h) => h.memory));
  }

  /** Memories as the manager is shown them: a small id, the text (redacted), the date it became true, its source. */
  private shown(memories: Memory[]): { candidates: CandidateView[]; meta: CandidateMeta[] } {
    return {
      candidates: memories.map((m, i) => ({ key: String(i), memoryId: m.id, text: this.privacy.text(m.text) })),
      meta: memories.map((m) => ({ date: (m.eventTime ?? m.createdAt).slice(0, 10), source: m.source.kind })),
    };
  }

  /** The yes/no check before a supersede, asked in the decision's conversation: is memory [key] still true? */
  private async stillTrue(prompt: ChatMessage[], answer: string, key: string, usage: TokenUsage, signal?: AbortSignal): Promise<boolean> {
    const v = await this.models.manager.complete({ messages: verifyMessages(prompt, answer, key), json: { schema: VERIFY_SCHEMA, name: 'still_true' }, temperature: this.options.temperature, maxTokens: 24, signal });
    addUsage(usage, v.usage);
    return /"?still_true"?\s*:\s*"?yes/i.test(v.text);
  }

  /** Step 2: the model's decision (asked again once, saying why, where the protocol's re-ask applies). None without related memories. */
  private async decide(fact: string, shown: { candidates: CandidateView[]; meta: CandidateMeta[] }, eventTime: string | undefined, usage: TokenUsage, signal?: AbortSignal): Promise<ManagerTurn> {
    const { candidates, meta } = shown;
    const protocol = this.options.managerProtocol;
    const prompt = managerPrompt(protocol, fact, candidates, meta, eventTime?.slice(0, 10));
    const schema = managerSchema(protocol, candidates);
    const call = async (messages: ChatMessage[]) => {
      const r = await this.models.manager.complete({
        messages,
        json: { schema, name: protocol === 'per-fact' ? 'memory_decision' : 'memory_operations' },
        temperature: this.options.temperature,
        // One decision needs few tokens; a cap keeps a looping small model from stalling the queue.
        maxTokens: protocol === 'per-fact' ? Math.min(this.options.maxTokens.manager, 48) : this.options.maxTokens.manager,
        signal,
      });
      addUsage(usage, r.usage);
      return r;
    };
    const parse = (raw: string) => (protocol === 'per-fact' ? parseDecisionOutput(raw, candidates, fact) : parseManagerOutput(raw, candidates));
    if (!candidates.length) {
      // Nothing in the bank is related: the fact is new, and no model call is needed.
      const decision: ManagerDecision = { ops: [{ type: 'ADD', text: fact, reason: 'no related memory' }], rejected: [], unparseable: false };
      return { prompt, res: { text: '', model: 'engine' }, firstOutput: '', decision, called: false, guards: ['no related memory: added without a model call'] };
    }
    let res = await call(prompt);
    let decision = parse(res.text);
    const firstOutput = res.text;
    const guards: string[] = [];
    const reask = this.options.managerReask === true || (this.options.managerReask === 'paper' && protocol === 'paper');
    if (reask && !keepsFact(decision.ops)) {
      const problem = decision.rejected.map((r) => r.reason).slice(0, 3).join('; ') || 'it does not keep the new fact';
      const res2 = await call([...prompt, { role: 'assistant', content: res.text }, reaskMessage(fact, problem)]);
      const second = parse(res2.text);
      guards.push(`re-asked (${problem})${keepsFact(second.ops) ? '' : '; second answer also unusable'}`);
      if (keepsFact(second.ops) || second.ops.length >= decision.ops.length) {
        decision = { ...second, rejected: [...decision.rejected, ...second.rejected] };
        res = res2;
      }
    }
    return { prompt, res, firstOutput, decision, called: true, guards };
  }

  /**
   * Step 3: what the engine does with the decision, whatever it is: an event's claims never retire each other,
   * an UPDATE gets its rewritten text, the fact is never lost, and (optionally) a supersede is checked first.
   */
  private async settle(fact: string, source: SourceRef, candidates: CandidateView[], turn: ManagerTurn, usage: TokenUsage, signal?: AbortSignal): Promise<PlannedOperation[]> {
    const { prompt, res, decision, guards, called } = turn;
    const perFact = called && this.options.managerProtocol === 'per-fact';
    let planned = decision.ops;
    if (source.event) {
      // One event makes its claims side by side: a fact never retires a memory the same event just wrote.
      planned = planned.map((o) => {
        if (!isRetirement(o) || this.bank.sourceEvent(o.memoryId!) !== source.event) return o;
        guards.push(`memory ${candidates.find((c) => c.memoryId === o.memoryId)?.key} comes from the same event: the fact is added beside it`);
        return { type: 'ADD', text: o.type === 'UPDATE' ? o.text : fact, reason: o.reason };
      });
    }
    const target = perFact && /"decision"\s*:\s*"UPDATE"/i.test(res.text) ? planned.find((o) => o.type === 'UPDATE') : undefined;
    const key = candidates.find((c) => c.memoryId === target?.memoryId)?.key;
    if (target && key !== undefined) {
      // UPDATE: the memory says several things and the fact changes one; the model writes the new text.
      const w = await this.models.manager.complete({ messages: rewriteMessages(prompt, res.text, key), json: { schema: REWRITE_SCHEMA, name: 'memory_text' }, temperature: this.options.temperature, maxTokens: 160, signal });
      addUsage(usage, w.usage);
      const text = parseRewrite(w.text);
      if (text) planned = planned.map((o) => (o === target ? { ...o, text } : o));
      else guards.push('UPDATE without a usable rewrite: the memory is superseded by the fact itself');
    }
    if (!keepsFact(planned) && this.options.managerFallback) {
      // No silent loss: whatever is left, the fact itself is added (beside a DELETE, never merged into it:
      // the fact may be the injection that asked for it).
      guards.push(`fallback ADD of the fact (${decision.unparseable ? 'the answer could not be read' : decision.rejected[0]?.reason ?? 'the answer does not keep it'})`);
      planned = [...planned.filter((o) => o.type !== 'NOOP'), { type: 'ADD', text: fact, reason: 'fallback: the manager did not keep the fact' }];
    }
    if (perFact && this.options.managerVerifyUpdates) {
      // A supersede is the one destructive decision: check it with a second, yes/no question.
      const next: PlannedOperation[] = [];
      for (const o of planned) {
        const shown = o.type === 'UPDATE' ? candidates.find((c) => c.memoryId === o.memoryId) : undefined;
        if (!shown) {
          next.push(o);
          continue;
        }
        if (await this.stillTrue(prompt, res.text, shown.key, usage, signal)) {
          guards.push(`verified: memory ${shown.key} is still true, so the fact is added beside it`);
          next.push({ type: 'ADD', text: fact, reason: o.reason });
        } else next.push(o);
      }
      planned = next;
    }
    return planned;
  }

  /**
   * Step 4: one fact changes at most one memory (it makes one claim): the retirement of the most related
   * memory named stands, the others are refused (added to `operations`). Texts pass the boundary; with no
   * change left, one NOOP tied to the memory that holds the fact keeps the history.
   */
  private oneRetirementPerFact(fact: string, planned: PlannedOperation[], candidates: CandidateView[], decision: ManagerDecision, operations: AppliedOperation[]): PlannedOperation[] {
    let ops: PlannedOperation[] = planned.map((o) => ({ ...o, text: this.privacy.optional(o.text), reason: this.privacy.optional(o.reason) }));
    const rank = (id: string | undefined) => candidates.findIndex((c) => c.memoryId === id);
    const retirements = ops.filter(isRetirement).sort((a, b) => rank(a.memoryId) - rank(b.memoryId));
    for (const extra of retirements.slice(1)) {
      operations.push({ type: 'NOOP', fact, rejected: `${extra.type} of memory ${candidates[rank(extra.memoryId)]?.key ?? '?'} refused: one fact changes at most one memory` });
      ops = ops.filter((o) => o !== extra);
    }
    const changes = ops.filter((o) => o.type !== 'NOOP');
    if (changes.length) return changes;
    const first = ops.find((o) => o.memoryId)?.memoryId;
    return [{ type: 'NOOP', memoryId: first, reason: ops[0]?.reason ?? (decision.unparseable ? 'manager output unusable' : 'no change') }];
  }

  /**
   * Step 5: applies the operations as one batch, or holds them for approval when they would retire more than
   * the event's or the run's cap (or most of the memories shown at once). Reports each operation.
   */
  private async applyOrHold(fact: string, ops: PlannedOperation[], ctx: BatchContext, candidates: CandidateView[], given: RetirementBudget[] | undefined, guard: string | undefined, operations: AppliedOperation[]): Promise<HistoryRecord[]> {
    const targets = ops.filter(isRetirement).map((o) => o.memoryId!);
    // A fact given on its own (remember, an agent's tool call) is its own event.
    const budgets = [...(given ?? [])];
    if (!budgets.some((b) => b.scope === 'event')) budgets.push(new RetirementBudget('event', this.bank.list({ limit: 0 }).counts.active, this.options.retirementCaps.perEvent));
    const overCap = budgets.find((b) => !b.fits(targets));
    const tooMany = targets.length >= this.options.minDestructiveOps && targets.length > this.options.maxDestructiveShare * Math.max(1, candidates.length);
    if (tooMany || overCap) {
      const why = overCap ? overCap.refusal(targets) : `would change ${targets.length} of ${candidates.length} related memories at once`;
      await this.bank.side.holdBatch(ops, ctx, why);
      for (const o of ops) operations.push({ ...this.describe(o, fact, candidates, true), reason: why });
      return [];
    }
    const records = await this.bank.applyBatch(ops, ctx);
    const written = records.filter((r) => r.action === 'ADD' || r.action === 'UPDATE').map((r) => r.memoryId);
    for (const b of budgets) b.spend(targets, written);
    const ids = new Set(records.map((r) => r.memoryId));
    for (const rec of records) {
      if (pairedSupersede(rec, ids)) continue; // reported with the UPDATE that superseded it
      if (rec.action === 'SUPERSEDE') {
        // Superseded into a memory that already holds the new text (one text is stored once).
        const holder = this.bank.get(rec.after!.supersededBy!);
        operations.push({ type: 'UPDATE', memoryId: holder?.id, before: rec.before?.text, after: holder?.text, fact, reason: rec.reason, supersededId: rec.memoryId, ...(guard ? { guard } : {}) });
        continue;
      }
      const replaced = rec.after?.supersedes ? records.find((r) => r.memoryId === rec.after!.supersedes) : undefined;
      operations.push({
        type: rec.action as AppliedOperation['type'],
        memoryId: rec.memoryId || undefined,
        before: replaced?.before?.text ?? rec.before?.text,
        after: rec.after?.text,
        fact,
        reason: rec.reason,
        ...(replaced ? { supersededId: replaced.memoryId } : {}),
        ...(guard ? { guard } : {}),
      });
    }
    return records;
  }

  async answer(rawQuestion: string, opts: AnswerOptions = {}): Promise<AnswerResult> {
    const found: RedactionCounts = {};
    const question = this.privacy.text(rawQuestion, found);
    // Superseded memories stay searchable ("what did we use before?"), marked so the agent prefers the current one.
    const hits = await this.bank.search(question, { topK: opts.topK ?? this.options.answerTopK, signal: opts.signal, includeSuperseded: true });
    opts.onRetrieved?.(hits);
    const { view, hits: shown } = buildAnswerContext(question, hits, {
      budgetTokens: opts.contextTokens ?? this.options.answerContextTokens,
      maxExcerpts: this.options.answerExcerpts,
      maxExcerptChars: this.options.answerExcerptChars,
      sourceOf: (m) => this.bank.sourceOf(m.id),
      noteOf: opts.memoryNote && ((m) => {
        const note = opts.memoryNote!(m);
        return note ? this.privacy.text(note) : undefined;
      }),
      redact: (t) => this.privacy.text(t),
    });
    const req = { messages: answerMessages(question, view), temperature: this.options.temperature, maxTokens: this.options.maxTokens.answer, signal: opts.signal };
    // What streams to the user passes the boundary too: a model can write a secret it was never shown.
    const answerOut = opts.onAnswerDelta ? new RedactingStream(this.privacy, opts.onAnswerDelta) : undefined;
    const rawOut = opts.onDelta ? new RedactingStream(this.privacy, opts.onDelta) : undefined;
    const filter = answerOut ? new AnswerStreamFilter((d) => answerOut.push(d)) : undefined;
    const onDelta =
      rawOut || filter
        ? (d: string) => {
            rawOut?.push(d);
            filter?.push(d);
          }
        : undefined;
    let res = onDelta ? await this.models.answerer.stream(req, onDelta) : await this.models.answerer.complete(req);
    const keys = new Set(view.map((v) => v.key));
    let parsed = parseAnswerOutput(res.text, keys);
    if (!parsed.answer.trim()) {
      // A small model can loop in its selection line ("[1], [2], … [134]") until the token cap and never
      // answer: asked once more, saying so. The first reply stays in `raw` only when the second has no answer either.
      const again = await this.models.answerer.complete({ ...req, messages: [...req.messages, { role: 'assistant', content: clipLine(res.text, 300) }, { role: 'user', content: ANSWER_REASK }] });
      const second = parseAnswerOutput(again.text, keys);
      const usage = { ...res.usage };
      addUsage(usage, again.usage);
      if (second.answer.trim()) {
        parsed = second;
        res = { ...again, usage };
      } else res = { ...res, usage };
    }
    const answer = this.privacy.text(parsed.answer);
    const selectedKeys = parsed.selectedKeys;
    filter?.end(answer);
    answerOut?.end();
    rawOut?.end();
    const citations = selectedKeys.map((k) => shown[Number(k) - 1].memory);
    const answerId = newId();
    if (this.options.recordTrajectories) {
      await this.bank.side.recordTrajectory({
        kind: 'answer',
        answerId,
        question,
        retrieved: shown.map((h) => h.memory.id),
        distilled: citations.map((c) => c.id),
        memories: view,
        output: res.text,
        answer,
        model: res.model,
        time: nowIso(),
        ...(countTotal(found) ? { redactions: found } : {}),
      });
    }
    return { answer, raw: this.privacy.text(res.text), citations, retrieved: hits, usage: res.usage, answerId, ...(countTotal(found) ? { redactions: found } : {}) };
  }

  private describe(o: PlannedOperation, fact: string, candidates: CandidateView[], held: boolean): AppliedOperation {
    const before = candidates.find((c) => c.memoryId === o.memoryId)?.text;
    return { type: o.type, memoryId: o.memoryId, before, after: o.text, fact, reason: o.reason, held };
  }
}

/**
 * Passes on only what follows the `**Answer:**` marker, so a user sees the answer stream without
 * the memory-selection preamble. If the model never writes the marker, the parsed answer is sent at the end.
 */
export class AnswerStreamFilter {
  private buffer = '';
  private open = false;
  private sent = false;
  private static readonly MARKER = /^[ \t>#*_-]*answer[ \t*_]*:[ \t*_]*/im;

  constructor(private readonly emit: (delta: string) => void) {}

  push(delta: string): void {
    if (this.open) {
      this.send(delta);
      return;
    }
    this.buffer += delta;
    const m = AnswerStreamFilter.MARKER.exec(this.buffer);
    // Wait for the rest of the line: the marker's trailing "**" may still be on its way.
    if (m && this.buffer.length > m.index + m[0].length) {
      this.open = true;
      this.send(this.buffer.slice(m.index + m[0].length));
    }
  }

  end(finalAnswer: string): void {
    if (!this.sent && finalAnswer) this.send(finalAnswer);
  }

  private send(text: string): void {
    if (!text) return;
    this.sent = true;
    this.emit(text);
  }
}

/** The text of a rewrite answer `{"text": "..."}`, or undefined. */
function parseRewrite(raw: string): string | undefined {
  const m = /"text"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(raw);
  if (!m) return undefined;
  try {
    const t = (JSON.parse(`"${m[1]}"`) as string).trim();
    return t.length >= 3 && t.length <= 2000 ? t : undefined;
  } catch {
    return undefined;
  }
}

function isRetirement(o: PlannedOperation): boolean {
  return o.type === 'UPDATE' || o.type === 'DELETE';
}

function addUsage(into: TokenUsage, add: TokenUsage): void {
  into.promptTokens += add.promptTokens;
  into.completionTokens += add.completionTokens;
}
