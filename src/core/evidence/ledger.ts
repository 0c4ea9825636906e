// The evidence ledger: per memory, what it cites in the workspace and whether it needs review. An
// append-only side log beside the history (`evidence.jsonl`, or rows of a team bank): citing or flagging
// never changes a memory, so it never enters the memory's history; what the manager then does to a flagged
// memory goes through the normal operations, history and undo. Losing this log loses only flags.
import { createHash } from 'node:crypto';
import type { MemoryBank } from '../bank/memoryBank';
import type { Memory } from '../types';
import { nowIso } from '../util/text';
import { type Evidence, evidencePaths } from './evidence';

export type LedgerEntry =
  | { t: 'cite'; memoryId: string; textHash: string; evidence: Evidence[]; time: string }
  | { t: 'flag'; memoryId: string; changes: string[]; time: string; context?: string; gone?: boolean }
  | { t: 'clear'; memoryId: string; how: string; time: string }
  | { t: 'seen'; memoryId: string; why: 'validated' | 'used'; time: string };

export interface Review {
  /** What changed, one line per piece of evidence. */
  changes: string[];
  since: string;
  /** What made the change, when known (a commit's subject). */
  context?: string;
  /** Every change says only that what the memory cites is gone (no new state known). */
  gone?: boolean;
}

export interface EvidenceState {
  evidence: Evidence[];
  /** The text the evidence was found in (an edited memory is cited again). */
  textHash: string;
  citedAt: string;
  review?: Review;
  /** The last time a check found its evidence unchanged, or an answer used it. */
  validatedAt?: string;
  usedAt?: string;
}

export function memoryTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** How often a memory's "still holds" / "was used" times are written: once a day is enough for expiry. */
const SEEN_EVERY_MS = 24 * 3600 * 1000;

export class EvidenceLedger {
  private states = new Map<string, EvidenceState>();
  private byPath = new Map<string, Set<string>>();
  private folded = 0;
  private hashed = new Map<string, { text: string; hash: string }>();

  constructor(private readonly bank: MemoryBank) {
    this.refresh();
  }

  /** Folds entries written since the last read (by this window or another). */
  refresh(): void {
    const all = this.bank.side.evidence<LedgerEntry>();
    if (all.length < this.folded) {
      // The log was rewritten (a scrub): fold it again from the start.
      this.states.clear();
      this.byPath.clear();
      this.folded = 0;
    }
    for (let i = this.folded; i < all.length; i++) this.apply(all[i]);
    this.folded = all.length;
  }

  private apply(e: LedgerEntry): void {
    if (!e || typeof e !== 'object' || typeof e.memoryId !== 'string') return;
    const cur = this.states.get(e.memoryId);
    switch (e.t) {
      case 'cite':
        if (cur) for (const p of cur.evidence.flatMap(evidencePaths)) this.byPath.get(p)?.delete(e.memoryId);
        // Citing confirms a memory only when it found something to confirm it by: a memory citing nothing
        // keeps its expiry clock.
        this.states.set(e.memoryId, {
          evidence: Array.isArray(e.evidence) ? e.evidence : [],
          textHash: e.textHash,
          citedAt: e.time,
          validatedAt: e.evidence?.length ? e.time : cur?.validatedAt,
          usedAt: cur?.usedAt,
          review: cur?.review,
        });
        for (const p of (e.evidence ?? []).flatMap(evidencePaths)) {
          let set = this.byPath.get(p);
          if (!set) this.byPath.set(p, (set = new Set()));
          set.add(e.memoryId);
        }
        break;
      case 'flag':
        if (cur) cur.review = { changes: e.changes, since: e.time, ...(typeof e.context === 'string' ? { context: e.context } : {}), ...(e.gone === true ? { gone: true } : {}) };
        break;
      case 'clear':
        if (cur) {
          delete cur.review;
          cur.validatedAt = e.time;
        }
        break;
      case 'seen': {
        // A memory never cited (no workspace yet) still has its use recorded, for expiry.
        const s = cur ?? { evidence: [], textHash: '', citedAt: '' };
        if (!cur) this.states.set(e.memoryId, s);
        if (e.why === 'used') s.usedAt = e.time;
        else s.validatedAt = e.time;
        break;
      }
    }
  }

  state(memoryId: string): EvidenceState | undefined {
    return this.states.get(memoryId);
  }

  review(memoryId: string): Review | undefined {
    return this.states.get(memoryId)?.review;
  }

  /** Whether the memory's evidence was found for its current text. */
  isCited(m: Memory): boolean {
    const s = this.states.get(m.id);
    if (!s) return false;
    // Hashed once per text: a check asks this of every active memory.
    let known = this.hashed.get(m.id);
    if (known?.text !== m.text) this.hashed.set(m.id, (known = { text: m.text, hash: memoryTextHash(m.text) }));
    return s.textHash === known.hash;
  }

  /** Active memories whose evidence changed, oldest flag first. */
  flagged(): { memory: Memory; review: Review }[] {
    const out: { memory: Memory; review: Review }[] = [];
    for (const [id, s] of this.states) {
      const m = this.bank.get(id);
      if (s.review && m?.status === 'active') out.push({ memory: m, review: s.review });
    }
    return out.sort((a, b) => a.review.since.localeCompare(b.review.since));
  }

  /** Memories citing any of these paths (or something inside a cited folder). */
  citing(paths: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const p of paths) {
      for (const id of this.byPath.get(p) ?? []) out.add(id);
      // A file added to or removed from a cited folder can change the folder (its last file gone).
      for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) for (const id of this.byPath.get(p.slice(0, i)) ?? []) out.add(id);
      // A folder renamed or deleted takes the files under it along.
      const prefix = `${p}/`;
      for (const [cited, ids] of this.byPath) if (cited.startsWith(prefix)) for (const id of ids) out.add(id);
    }
    return out;
  }

  /** Memory ids with a citation (any evidence at all). */
  cited(): string[] {
    return [...this.states.entries()].filter(([, s]) => s.evidence.length).map(([id]) => id);
  }

  async write(entries: LedgerEntry[]): Promise<void> {
    if (!entries.length) return;
    await this.bank.side.appendEvidence(entries as unknown as Record<string, unknown>[]);
    this.refresh();
  }

  cite(m: Memory, evidence: Evidence[], time = nowIso()): LedgerEntry {
    return { t: 'cite', memoryId: m.id, textHash: memoryTextHash(m.text), evidence, time };
  }

  /** "Still holds" / "was used" entries for these memories, skipping those written within the last day. */
  seen(ids: Iterable<string>, why: 'validated' | 'used', now = new Date()): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (const id of ids) {
      const s = this.states.get(id);
      const last = why === 'used' ? s?.usedAt : s?.validatedAt;
      if (last && now.getTime() - Date.parse(last) < SEEN_EVERY_MS) continue;
      out.push({ t: 'seen', memoryId: id, why, time: now.toISOString() });
    }
    return out;
  }
}
