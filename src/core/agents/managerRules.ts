// What the engine does with a manager's answer. The model judges what a fact does to the memory; the engine
// only parses, keeps ids to the memories the model was shown, and never loses the fact. There are no word
// lists or overlap thresholds here: they vetoed right decisions and let wrong ones through on real histories.
import type { CandidateView, PlannedOperation } from '../types';
import type { ManagerDecision } from './managerOutput';
import { extractJson } from '../util/jsonExtract';

/**
 * Parses the per-fact protocol's answer, `{"decision": "NEW|SAME|REPLACES|REFINES|UPDATE", "id", "text"?}`
 * (ADD, NONE and NOOP are read too). NEW and REFINES add the fact beside the memories; REPLACES supersedes
 * the memory by the fact; UPDATE supersedes it by the model's rewritten text (the fact itself when the model
 * wrote none). The engine writes the fact's text, so a small model never has to echo one. Never throws.
 */
export function parseDecisionOutput(raw: string, candidates: CandidateView[], fact: string): ManagerDecision {
  const json = extractJson(raw);
  const obj = Array.isArray(json) ? json[0] : json;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    return { ops: [], rejected: [{ item: clip(raw), reason: 'no JSON decision' }], unparseable: true };
  }
  const o = obj as Record<string, unknown>;
  const opRaw = o.decision ?? o.operation ?? o.event ?? o.op;
  const LABELS: Record<string, string> = { REPLACES: 'REPLACE', REPLACE: 'REPLACE', SUPERSEDE: 'REPLACE', SUPERSEDES: 'REPLACE', NEW: 'ADD', REFINES: 'REFINE', REFINE: 'REFINE', SAME: 'NONE' };
  const label = typeof opRaw === 'string' ? opRaw.trim().toUpperCase() : '';
  const op = LABELS[label] ?? label;
  const reason = typeof o.reason === 'string' ? o.reason.slice(0, 500) : undefined;
  const key = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id).trim().replace(/^\[(.*)\]$/, '$1') : '';
  const cand = candidates.find((c) => c.key === key);
  if (op === 'ADD') return { ops: [{ type: 'ADD', text: fact, reason }], rejected: [], unparseable: false };
  if (op === 'REFINE') {
    // Kept beside the memory it refines; the link is the history's (reason), not a veto.
    return { ops: [{ type: 'ADD', text: fact, reason: reason ?? (cand ? `refines memory ${cand.key}` : undefined) }], rejected: [], unparseable: false };
  }
  if (op === 'REPLACE' || op === 'UPDATE' || op === 'DELETE' || op === 'NONE' || op === 'NOOP') {
    if (!cand) return { ops: [], rejected: [{ item: clip(o), reason: `${label || op} needs the id of one of the memories shown, not ${JSON.stringify(key || null)}` }], unparseable: false };
    if (op === 'NONE' || op === 'NOOP') return { ops: [{ type: 'NOOP', memoryId: cand.memoryId, reason }], rejected: [], unparseable: false };
    if (op === 'DELETE') return { ops: [{ type: 'DELETE', memoryId: cand.memoryId, reason }], rejected: [], unparseable: false };
    // An UPDATE's rewritten text is asked for separately (the engine's follow-up); until then, the fact.
    const rewritten = op === 'UPDATE' && typeof o.text === 'string' && o.text.trim() ? o.text.trim() : fact;
    return { ops: [{ type: 'UPDATE', memoryId: cand.memoryId, text: rewritten, reason }], rejected: [], unparseable: false };
  }
  return { ops: [], rejected: [{ item: clip(o), reason: `unknown operation ${JSON.stringify(clip(opRaw))}` }], unparseable: false };
}

/**
 * Does the decision keep the fact? An ADD or UPDATE writes it (or a rewrite of a memory with it), a NOOP names
 * a memory the model says holds it. A DELETE alone, or nothing usable, does not: the engine then adds the
 * fact itself (no silent loss).
 */
export function keepsFact(ops: PlannedOperation[]): boolean {
  return ops.some((o) => o.type === 'ADD' || o.type === 'UPDATE' || (o.type === 'NOOP' && !!o.memoryId));
}

function clip(x: unknown): unknown {
  if (typeof x === 'string') return x.length > 300 ? x.slice(0, 300) + '…' : x;
  if (x && typeof x === 'object') {
    const s = JSON.stringify(x);
    return s.length > 300 ? s.slice(0, 300) + '…' : x;
  }
  return x;
}
