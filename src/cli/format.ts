import type { AppliedOperation } from '../core/api';
import type { HistoryRecord, Memory } from '../core/types';

export function formatOperation(o: AppliedOperation): string {
  const id = o.memoryId ? ` ${o.memoryId.slice(0, 8)}` : '';
  const tag = o.held ? ' (held for approval)' : o.rejected ? ` (rejected: ${o.rejected})` : '';
  if (o.type === 'UPDATE') return `UPDATE${id}: "${o.before}" -> "${o.after}"${tag}`;
  if (o.type === 'ADD') return `ADD${id}: "${o.after}"${tag}`;
  if (o.type === 'DELETE') return `DELETE${id}: "${o.before ?? ''}"${tag}`;
  return `NOOP${id}${o.reason ? ` (${o.reason})` : ''}${tag}`;
}

export function formatMemory(m: Memory): string {
  const flags = [m.status !== 'active' ? m.status : '', m.pinned ? 'pinned' : '', m.tags.length ? `#${m.tags.join(' #')}` : ''].filter(Boolean).join(' ');
  return `${m.id}  ${m.updatedAt.slice(0, 10)}  ${m.text}${flags ? `  [${flags}]` : ''}`;
}

export function formatRecord(r: HistoryRecord): string {
  const change =
    r.before && r.after && r.before.text !== r.after.text
      ? `"${r.before.text}" -> "${r.after.text}"`
      : r.after
        ? `"${r.after.text}"${r.before && r.before.status !== r.after.status ? ` (${r.before.status} -> ${r.after.status})` : ''}`
        : '';
  const why = [r.reason, r.model ? `model ${r.model}` : '', r.source ? `from ${r.source.kind}${r.source.ref ? ` ${r.source.ref}` : ''}` : ''].filter(Boolean).join('; ');
  return `#${r.seq} ${r.time}  ${r.action.padEnd(7)} ${r.memoryId.slice(0, 8)}  ${change}${why ? `  (${why})` : ''}  op ${r.opId}`;
}
