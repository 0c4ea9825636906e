import type { AppliedOperation } from '../core/api';
import type { HistoryRecord, Memory } from '../core/types';

export function formatOperation(o: AppliedOperation): string {
  const id = o.memoryId ? ` ${o.memoryId.slice(0, 8)}` : '';
  const tag = o.held ? ` (held for approval${o.reason ? `: ${o.reason}` : ''})` : o.rejected ? ` (rejected: ${o.rejected})` : '';
  const guard = o.guard ? `  [engine: ${o.guard}]` : '';
  if (o.type === 'UPDATE') return `UPDATE${id}: "${o.before}" -> "${o.after}"${o.supersededId ? ` (supersedes ${o.supersededId.slice(0, 8)}, kept as history)` : ''}${tag}${guard}`;
  if (o.type === 'ADD') return `ADD${id}: "${o.after}"${tag}${guard}`;
  if (o.type === 'DELETE') return `DELETE${id}: "${o.before ?? ''}"${tag}`;
  return `NOOP${id}${o.reason ? ` (${o.reason})` : ''}${tag}`;
}

/** One memory per line; `review` (what changed in its cited files) marks a memory that needs review. */
export function formatMemory(m: Memory, review?: { changes: string[] }): string {
  const status = m.status === 'superseded' ? `superseded${m.validTo ? ` ${m.validTo.slice(0, 10)}` : ''}${m.supersededBy ? ` by ${m.supersededBy.slice(0, 8)}` : ''}` : m.status !== 'active' ? m.status : '';
  const flags = [m.kind ?? '', status, review ? `needs review: ${review.changes.join('; ')}` : '', m.supersedes ? `replaces ${m.supersedes.slice(0, 8)}` : '', m.pinned ? 'pinned' : '', m.tags.length ? `#${m.tags.join(' #')}` : ''].filter(Boolean).join(' ');
  // The memory's date is when its fact became true (the event's time), else when it was recorded.
  return `${m.id}  ${(m.eventTime ?? m.createdAt).slice(0, 10)}  ${m.text}${flags ? `  [${flags}]` : ''}`;
}

export function formatRecord(r: HistoryRecord): string {
  if (r.action === 'SUPERSEDE' && r.after) {
    // Bi-temporal: valid until validTo (when it stopped being true), recorded at r.time.
    const until = r.after.validTo ? ` valid until ${r.after.validTo.slice(0, 10)}` : '';
    return `#${r.seq} ${r.time}  SUPERSEDE ${r.memoryId.slice(0, 8)}  "${r.after.text}"${until}, replaced by ${r.after.supersededBy?.slice(0, 8) ?? '?'}${r.fact ? ` (fact: "${r.fact}")` : ''}  op ${r.opId}`;
  }
  const replaces = r.after?.supersedes ? ` (replaces ${r.after.supersedes.slice(0, 8)})` : '';
  const change =
    r.before && r.after && r.before.text !== r.after.text
      ? `"${r.before.text}" -> "${r.after.text}"`
      : r.after
        ? `"${r.after.text}"${r.before && r.before.status !== r.after.status ? ` (${r.before.status} -> ${r.after.status})` : ''}`
        : '';
  const why = [r.reason, r.guard ? `engine: ${r.guard}` : '', r.model ? `model ${r.model}` : '', r.source ? `from ${r.source.kind}${r.source.ref ? ` ${r.source.ref}` : ''}` : ''].filter(Boolean).join('; ');
  return `#${r.seq} ${r.time}  ${r.action.padEnd(7)} ${r.memoryId.slice(0, 8)}  ${change}${replaces}${why ? `  (${why})` : ''}  op ${r.opId}`;
}
