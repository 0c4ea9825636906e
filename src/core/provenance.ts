// Provenance as data: the capture event a memory came from, as the bank keeps it (bank/sources.ts) and as
// the panel's host, the CLI, the tools and the Answer Agent show it. Floor 0.
import type { SourceKind } from './types';
import { readableDate } from './util/text';

/** One capture event as the bank keeps it. */
export interface SourceEvent {
  /** The capture event's id (the `event` of the records it wrote). */
  event: string;
  kind: SourceKind;
  ref?: string;
  actor?: string;
  /** When the event happened (a commit's date, a dialogue session's date). */
  time: string;
  /** The event's text, redacted and clipped to `maxEventChars`. */
  text: string;
  /** Characters cut off the end of the text. */
  clipped?: number;
}

/** "commit 3f2a9c1, 2026-04-11": what a memory came from, in a few words (the panel, the CLI, the tools). */
export function describeSource(s: Pick<SourceEvent, 'kind' | 'ref' | 'time'>, opts: { readableDate?: boolean } = {}): string {
  const ref = s.ref ? shortRef(s.kind, s.ref) : '';
  const when = s.time ? (opts.readableDate ? readableDate(s.time) : s.time.slice(0, 10)) : '';
  return [`${s.kind}${ref ? ` ${ref}` : ''}`, when].filter(Boolean).join(', ');
}

/** A commit's full sha as its 7-character short form; any other reference as it is. */
export function shortRef(kind: SourceKind, ref: string): string {
  return kind === 'commit' && /^[0-9a-f]{40}$/i.test(ref) ? ref.slice(0, 7) : ref;
}
