// Caps on how much of the bank one event or one run may retire. A captured event is untrusted text: an
// injected instruction can make an extractor split it into many "contradictions" and a manager obey each
// one, one fact at a time, which no per-batch check sees. Retirements (supersede, delete) of memories that
// existed before the event or run are counted; beyond the cap a fact's operations are held for approval.
import { newId } from '../util/text';

export interface RetirementCap {
  /** Retirements always allowed, however small the bank. */
  min: number;
  /** Share of the active memories at the start that may be retired. */
  share: number;
}

export interface RetirementCaps {
  perEvent: RetirementCap;
  perRun: RetirementCap;
}

export const DEFAULT_RETIREMENT_CAPS: RetirementCaps = {
  perEvent: { min: 2, share: 0.25 },
  perRun: { min: 4, share: 0.25 },
};

/** The retirements one event, or one run (an `ingest`, an agent session), has spent against its cap. */
export class RetirementBudget {
  readonly limit: number;
  private used = 0;
  /** Memories written within this scope: retiring them again spends nothing (they are the scope's own). */
  private readonly own = new Set<string>();

  constructor(
    readonly scope: 'event' | 'run',
    readonly activeAtStart: number,
    readonly cap: RetirementCap,
    /** For a run: the id stored on its records, which `undo` reverts as one. */
    readonly id: string = newId(),
  ) {
    this.limit = Math.max(cap.min, Math.floor(cap.share * activeAtStart));
  }

  get spent(): number {
    return this.used;
  }

  /** How many of these retirement targets count against the cap. */
  count(targets: string[]): number {
    return targets.filter((t) => !this.own.has(t)).length;
  }

  fits(targets: string[]): boolean {
    return this.used + this.count(targets) <= this.limit;
  }

  spend(targets: string[], written: string[]): void {
    this.used += this.count(targets);
    for (const id of written) this.own.add(id);
  }

  /** Why a fact's operations were held, for the user. */
  refusal(targets: string[]): string {
    const n = this.count(targets);
    const share = Math.round(this.cap.share * 100);
    return `this ${this.scope} would retire ${this.used + n} memories that existed before it; one ${this.scope} may retire at most ${this.limit} (the larger of ${this.cap.min} and ${share}% of the ${this.activeAtStart} active memories)`;
  }
}
