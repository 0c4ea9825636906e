// The engine's rules on a manager decision, applied whatever the model says: no fact is lost silently.
import type { CandidateView, PlannedOperation } from '../types';
import type { ManagerDecision } from './managerOutput';
import { extractJson } from '../util/jsonExtract';
import { carriesFact, factCoverage, holdsFact, looksLikeInstruction, mayReplace, relatedTo } from './factOverlap';

/** A memory holds the fact plainly enough to skip the model: every key token and this share of the content. */
export const PLAIN_HOLD_THRESHOLD = 0.75;

/**
 * The per-fact protocol's screen: only memories related to the fact are worth a decision. None related:
 * the fact is new (ADD). One that plainly holds it (all key tokens, most content): NOOP on it.
 */
export function prescreenCandidates(fact: string, candidates: CandidateView[]): { related: CandidateView[]; decided?: ManagerDecision; note?: string } {
  const related = candidates.filter((c) => relatedTo(c.text, fact));
  if (related.length === 0) {
    return { related, decided: { ops: [{ type: 'ADD', text: fact, reason: 'no related memory' }], rejected: [], unparseable: false }, note: 'no related memory: added without a model call' };
  }
  const holder = related.find((c) => holdsFact(c.text, fact).ok && factCoverage(fact, c.text) >= PLAIN_HOLD_THRESHOLD);
  if (holder) {
    return { related, decided: { ops: [{ type: 'NOOP', memoryId: holder.memoryId, reason: 'already held by this memory' }], rejected: [], unparseable: false }, note: `memory ${holder.key} already holds the fact: NOOP without a model call` };
  }
  return { related };
}

/**
 * Parses the per-fact protocol's answer, `{"decision": "REPLACES|NEW|SAME", "id"}` (ADD/UPDATE/NONE accepted too). ADD and UPDATE take the fact
 * itself as the memory text, so a small model never has to write (or echo) one. Never throws.
 */
export function parseDecisionOutput(raw: string, candidates: CandidateView[], fact: string): ManagerDecision {
  const json = extractJson(raw);
  const obj = Array.isArray(json) ? json[0] : json;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    return { ops: [], rejected: [{ item: clip(raw), reason: 'no JSON decision' }], unparseable: true };
  }
  const o = obj as Record<string, unknown>;
  const opRaw = o.decision ?? o.operation ?? o.event ?? o.op;
  const LABELS: Record<string, string> = { REPLACES: 'UPDATE', REPLACE: 'UPDATE', NEW: 'ADD', SAME: 'NONE' };
  const label = typeof opRaw === 'string' ? opRaw.trim().toUpperCase() : '';
  const op = LABELS[label] ?? label;
  const reason = typeof o.reason === 'string' ? o.reason.slice(0, 500) : undefined;
  const key = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id).trim().replace(/^\[(.*)\]$/, '$1') : '';
  const cand = candidates.find((c) => c.key === key);
  if (op === 'ADD') return { ops: [{ type: 'ADD', text: fact, reason }], rejected: [], unparseable: false };
  if (op === 'UPDATE' || op === 'DELETE' || op === 'NONE' || op === 'NOOP') {
    if (!cand) return { ops: [], rejected: [{ item: clip(o), reason: `${op} needs the id of one of the memories shown, not ${JSON.stringify(key || null)}` }], unparseable: false };
    if (op === 'NONE' || op === 'NOOP') return { ops: [{ type: 'NOOP', memoryId: cand.memoryId, reason }], rejected: [], unparseable: false };
    return { ops: [{ type: 'UPDATE', memoryId: cand.memoryId, text: fact, reason }], rejected: [], unparseable: false };
  }
  return { ops: [], rejected: [{ item: clip(o), reason: `unknown operation ${JSON.stringify(clip(opRaw))}` }], unparseable: false };
}

export interface RuledDecision {
  /** Operations that passed the rules (may still include NOOPs). */
  ops: PlannedOperation[];
  /** Items the rules refused, with why (added to the parser's own rejections). */
  rejected: { item: unknown; reason: string }[];
  /** True when an accepted operation keeps the fact: an ADD/UPDATE carrying it, or a NOOP on a memory that holds it. */
  addressed: boolean;
  /** Why the decision does not address the fact (for the re-ask and the history). */
  problem?: string;
  /** What rule 6 changed (a supersede turned into a NOOP or an ADD), for the history's guard. */
  notes?: string[];
}

/**
 * The rules:
 * 1. An ADD or UPDATE text must carry the fact's content (`carriesFact`): "1234567890" for a fact
 *    about a migration, or an UPDATE that echoes the old memory, is refused.
 * 2. An UPDATE or DELETE must target a memory related to the fact; an UPDATE of an unrelated memory
 *    whose text carries the fact becomes an ADD (nothing is overwritten on a whim).
 * 3. A NOOP must name a memory that already holds the fact (`holdsFact`: most of its content and every
 *    number, name, path and negation in it).
 *    A DELETE of a memory that already holds the fact is a NOOP (Mem0 #1674: a duplicate became a DELETE).
 * 4. A DELETE of a related memory, paired with an ADD of the fact, is a supersede: the memory is
 *    replaced by the fact (kept as superseded history), as the paper's "contradiction" case means.
 * 5. A fact that carries instructions to the memory system ("delete every memory about X") never
 *    updates or deletes another memory.
 * 6. A supersede must change the memory it replaces: an UPDATE of a memory that already holds the fact
 *    is a NOOP on it, and one whose memory the fact does not speak about (`mayReplace`: "Ivan adopted a
 *    dog" against "Ivan works as a nurse") is an ADD beside it.
 * 7. One fact removes at most one memory: of several DELETEs only the one closest to the fact stands,
 *    and a DELETE beside an UPDATE is refused (Mem0 #4536: a contradiction erased both memories).
 */
/** Which rules apply (all by default); the benchmark turns them off one at a time to measure each. */
export interface RuleFlags {
  carry: boolean;
  related: boolean;
  holds: boolean;
  /** Rule 6 (absent = on). */
  supersede?: boolean;
}
export const ALL_RULES: RuleFlags = { carry: true, related: true, holds: true, supersede: true };

export function applyManagerRules(fact: string, candidates: CandidateView[], decision: ManagerDecision, flags: RuleFlags = ALL_RULES): RuledDecision {
  const byId = new Map(candidates.map((c) => [c.memoryId, c]));
  const rejected: RuledDecision['rejected'] = [];
  const ops: PlannedOperation[] = [];
  const noopRefusals: RuledDecision['rejected'] = [];
  const notes: string[] = [];
  const instruction = flags.related && looksLikeInstruction(fact);
  for (const op of decision.ops) {
    const target = op.memoryId ? byId.get(op.memoryId) : undefined;
    if (instruction && (op.type === 'UPDATE' || op.type === 'DELETE')) {
      // Rule 5: a fact that instructs the memory system never changes other memories; it is kept as a fact.
      rejected.push({ item: clip(target?.text), reason: `${op.type} refused: the fact carries instructions to the memory; it is added as a fact instead` });
      if (op.type === 'UPDATE' && op.text && carriesFact(op.text, fact).ok) ops.push({ type: 'ADD', text: op.text, reason: op.reason });
      continue;
    }
    if (op.type === 'ADD') {
      const c = carriesFact(op.text ?? '', fact);
      if (flags.carry && !c.ok) {
        rejected.push({ item: clip(op.text), reason: `ADD text does not carry the fact (${pct(c.coverage)} of its content)` });
        continue;
      }
      ops.push(op);
    } else if (op.type === 'UPDATE') {
      const c = carriesFact(op.text ?? '', fact, target?.text);
      if (flags.carry && !c.ok) {
        rejected.push({ item: clip(op.text), reason: `UPDATE text does not carry the fact (${pct(c.coverage)} of its content, ${pct(c.novelCoverage)} of what it adds)` });
        continue;
      }
      if (flags.related && (!target || !relatedTo(target.text, fact))) {
        rejected.push({ item: clip(target?.text), reason: 'UPDATE of a memory unrelated to the fact; the fact is added instead' });
        ops.push({ type: 'ADD', text: op.text, reason: op.reason });
        continue;
      }
      if (flags.supersede !== false && target) {
        // Rule 6: a supersede must change what the memory says.
        if (holdsFact(target.text, fact).ok) {
          notes.push(`supersede of memory ${target.key} refused: it already holds the fact, so NOOP on it`);
          ops.push({ type: 'NOOP', memoryId: target.memoryId, reason: op.reason });
          continue;
        }
        const g = mayReplace(target.text, fact);
        if (!g.ok) {
          notes.push(`supersede of memory ${target.key} refused (${g.why}), so the fact is added beside it`);
          ops.push({ type: 'ADD', text: op.text, reason: op.reason });
          continue;
        }
      }
      ops.push(op);
    } else if (op.type === 'DELETE') {
      if (flags.related && (!target || !relatedTo(target.text, fact))) {
        rejected.push({ item: clip(target?.text), reason: 'DELETE of a memory unrelated to the fact' });
        continue;
      }
      if (flags.holds && target && holdsFact(target.text, fact).ok) {
        // Mem0 #1674: a duplicate answered with DELETE of the memory that holds it. A duplicate is a NOOP.
        rejected.push({ item: clip(target.text), reason: 'DELETE of the memory that already holds the fact: a duplicate is a NOOP' });
        ops.push({ type: 'NOOP', memoryId: target.memoryId, reason: op.reason });
        continue;
      }
      ops.push(op);
    } else {
      if (!target) {
        // A NOOP on no memory: says nothing about the fact; only kept when nothing else is left.
        continue;
      }
      const h = holdsFact(target.text, fact);
      if (flags.holds && !h.ok) {
        // In the paper's list, NONE on the other candidates only means "leave it": reported only when nothing keeps the fact.
        noopRefusals.push({
          item: clip(target.text),
          reason: `NONE names a memory that does not hold the fact (${pct(h.coverage)} of its content${h.missingKeys.length ? `; missing ${h.missingKeys.slice(0, 4).join(', ')}` : ''})`,
        });
        continue;
      }
      ops.push(op);
    }
  }
  // Rule 7 (Mem0 #4536, a contradiction that erased both memories): one fact removes at most one memory, the
  // DELETE target that shares most of it; a DELETE beside an UPDATE, or a second DELETE, is refused.
  if (flags.related) {
    const deletes = ops.filter((o) => o.type === 'DELETE');
    const hasUpdate = ops.some((o) => o.type === 'UPDATE');
    if (deletes.length > 1 || (hasUpdate && deletes.length > 0)) {
      const score = (o: PlannedOperation) => factCoverage(byId.get(o.memoryId!)?.text ?? '', fact);
      const keep = hasUpdate ? undefined : deletes.reduce((best, o) => (score(o) > score(best) ? o : best));
      for (const o of deletes) {
        if (o === keep) continue;
        ops.splice(ops.indexOf(o), 1);
        rejected.push({
          item: clip(byId.get(o.memoryId!)?.text),
          reason: hasUpdate ? 'DELETE beside an UPDATE: one fact replaces one memory' : 'a second DELETE: one fact removes at most one memory (the one closest to it)',
        });
      }
    }
  }
  // Rule 4: DELETE + ADD of the fact = supersede the deleted memory by the fact.
  const del = ops.findIndex((o) => o.type === 'DELETE');
  const add = ops.findIndex((o) => o.type === 'ADD');
  if (del >= 0 && add >= 0) {
    ops[del] = { type: 'UPDATE', memoryId: ops[del].memoryId, text: ops[add].text, reason: ops[del].reason ?? ops[add].reason };
    ops.splice(add, 1);
  }
  const addressed = ops.some((o) => o.type === 'ADD' || o.type === 'UPDATE' || (o.type === 'NOOP' && !!o.memoryId));
  if (!addressed) rejected.push(...noopRefusals.slice(0, 3));
  const problems = [...decision.rejected.map((r) => r.reason), ...rejected.map((r) => r.reason)];
  const problem = addressed
    ? undefined
    : problems.length
      ? problems.slice(0, 3).join('; ')
      : ops.some((o) => o.type === 'DELETE')
        ? 'it deletes a memory but does not keep the new fact'
        : 'it does not keep the new fact';
  return { ops, rejected, addressed, problem, ...(notes.length ? { notes } : {}) };
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function clip(x: unknown): unknown {
  if (typeof x === 'string') return x.length > 300 ? x.slice(0, 300) + '…' : x;
  if (x && typeof x === 'object') {
    const s = JSON.stringify(x);
    return s.length > 300 ? s.slice(0, 300) + '…' : x;
  }
  return x;
}
