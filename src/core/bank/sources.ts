// Provenance: the redacted text of the capture events that wrote memories (a commit message, a chat turn,
// a saved file's summary, a LoCoMo dialogue slice), kept beside the history in the `sources` side log so a
// memory can show where it came from and the Answer Agent can read the event next to the fact distilled
// from it. Facts drop details (the dish, the exact date); their source keeps them.
//
// Bounded: each event's text is clipped, an event is stored once however many memories cite it, and past
// the bank's cap the oldest events no memory cites any more are dropped first (then the oldest cited ones),
// with the count kept in the log and reported by `stats()`.
import type { PrivacyBoundary } from '../privacy/boundary';
import type { SourceKind } from '../types';
import type { SourceEvent } from '../provenance';
import type { BankStorage, StorageTx } from './storage';

export type { SourceEvent } from '../provenance';

/** A line of the log that records a prune (sources are otherwise only appended). */
interface PruneMark {
  pruned: number;
  time: string;
}

export interface SourceLimits {
  /** Events kept per bank. */
  maxEvents: number;
  /** Characters of text kept per event. */
  maxEventChars: number;
  /** Characters of text kept per bank, all events together. */
  maxTotalChars: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = { maxEvents: 5000, maxEventChars: 4000, maxTotalChars: 8_000_000 };

export interface SourceStats {
  events: number;
  chars: number;
  /** Events dropped by the cap since the bank was created. */
  dropped: number;
  limits: SourceLimits;
}

export interface SourcesHost {
  readonly storage: BankStorage;
  readonly privacy: PrivacyBoundary;
  /** Events cited by a memory that is not deleted (their sources are dropped last). */
  citedEvents(): Set<string>;
}

const isSource = (v: unknown): v is SourceEvent =>
  !!v && typeof v === 'object' && typeof (v as SourceEvent).event === 'string' && typeof (v as SourceEvent).text === 'string' && typeof (v as SourceEvent).kind === 'string';
const isPruneMark = (v: unknown): v is PruneMark => !!v && typeof v === 'object' && typeof (v as PruneMark).pruned === 'number';

export class SourceStore {
  private byEvent = new Map<string, SourceEvent>();
  private readCount = -1;
  private dropped = 0;
  private chars = 0;

  constructor(
    private readonly host: SourcesHost,
    readonly limits: SourceLimits = DEFAULT_SOURCE_LIMITS,
  ) {}

  /** The stored event, if it is kept (re-reads the log when another process may have added it). */
  get(event: string | undefined): SourceEvent | undefined {
    if (!event) return undefined;
    const hit = this.byEvent.get(event);
    if (hit) return hit;
    this.reload();
    return this.byEvent.get(event);
  }

  has(event: string): boolean {
    return this.get(event) !== undefined;
  }

  all(): SourceEvent[] {
    this.reload();
    return [...this.byEvent.values()];
  }

  stats(): SourceStats {
    this.reload();
    return { events: this.byEvent.size, chars: this.chars, dropped: this.dropped, limits: this.limits };
  }

  /** A redacted, clipped entry for an event that writes records; undefined when it is already kept. */
  prepare(e: { event?: string; kind: SourceKind; ref?: string; actor?: string; time: string; text: string }): SourceEvent | undefined {
    if (!e.event || !e.text.trim() || this.has(e.event)) return undefined;
    const text = this.host.privacy.text(e.text.trim());
    const max = this.limits.maxEventChars;
    const entry: SourceEvent = { event: e.event, kind: e.kind, time: e.time, text: text.length > max ? text.slice(0, max) : text };
    if (e.ref) entry.ref = this.host.privacy.text(e.ref);
    if (e.actor) entry.actor = this.host.privacy.text(e.actor);
    if (text.length > max) entry.clipped = text.length - max;
    return entry;
  }

  /** Appends under the caller's lock (the bank's write), unless another process kept it meanwhile. */
  async append(tx: StorageTx, entry: SourceEvent): Promise<boolean> {
    if (this.has(entry.event)) return false;
    await tx.appendSide('sources', entry);
    this.remember(entry);
    return true;
  }

  /** Entries from an import (validated by parseBundle): redacted and clipped like captured ones. */
  async importAll(tx: StorageTx, entries: SourceEvent[]): Promise<number> {
    let n = 0;
    for (const raw of entries) {
      const entry = this.prepare(raw);
      if (entry && (await this.append(tx, entry))) n++;
    }
    return n;
  }

  overCap(): boolean {
    return this.byEvent.size > this.limits.maxEvents || this.chars > this.limits.maxTotalChars;
  }

  /**
   * Drops events down to 90% of the caps: the oldest uncited ones first, then the oldest cited ones.
   * Rewrites the log under the lock; returns how many were dropped. `citing`: the event the batch being
   * written cites (its records are not applied yet, but it is cited).
   */
  async prune(tx: StorageTx, citing?: string): Promise<number> {
    // Not re-read from the store: an entry appended in this transaction may not be visible there yet.
    this.reload();
    if (!this.overCap()) return 0;
    const cited = this.host.citedEvents();
    if (citing) cited.add(citing);
    const byAge = [...this.byEvent.values()].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const order = [...byAge.filter((s) => !cited.has(s.event)), ...byAge.filter((s) => cited.has(s.event))];
    const targetEvents = Math.floor(this.limits.maxEvents * 0.9);
    const targetChars = Math.floor(this.limits.maxTotalChars * 0.9);
    const drop = new Set<string>();
    let events = this.byEvent.size;
    let chars = this.chars;
    for (const s of order) {
      if (events <= targetEvents && chars <= targetChars) break;
      drop.add(s.event);
      events--;
      chars -= s.text.length;
    }
    if (!drop.size) return 0;
    const dropped = this.dropped + drop.size;
    const kept = [...this.byEvent.values()].filter((s) => !drop.has(s.event));
    await tx.rewriteSide('sources', [{ pruned: dropped, time: new Date().toISOString() } satisfies PruneMark, ...kept]);
    this.byEvent = new Map(kept.map((s) => [s.event, s]));
    this.chars = chars;
    this.dropped = dropped;
    this.readCount = -1;
    return drop.size;
  }

  private remember(entry: SourceEvent): void {
    if (this.byEvent.has(entry.event)) return;
    this.byEvent.set(entry.event, entry);
    this.chars += entry.text.length;
  }

  private reload(): void {
    const items = this.host.storage.sideLog<unknown>('sources');
    if (items.length === this.readCount) return;
    this.byEvent.clear();
    this.chars = 0;
    this.dropped = 0;
    for (const it of items) {
      if (isPruneMark(it)) this.dropped = Math.max(this.dropped, it.pruned);
      else if (isSource(it)) this.remember(it);
    }
    this.readCount = items.length;
  }
}
