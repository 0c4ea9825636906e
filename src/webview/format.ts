// Labels and formats for the panel; pure functions, no DOM.
import type { SourceKind, SourceRef } from '../core/types';

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2025-03-04 14:05" in local time; the raw value when it is not a date. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const SOURCE_ICONS: Record<SourceKind, string> = {
  chat: 'comment-discussion',
  save: 'save',
  commit: 'git-commit',
  terminal: 'terminal',
  diagnostic: 'warning',
  manual: 'edit',
  import: 'cloud-download',
  dialogue: 'comment',
  cli: 'terminal',
  agent: 'hubot',
};

export function sourceIcon(kind: string): string {
  return SOURCE_ICONS[kind as SourceKind] ?? 'info';
}

/** A source as one line; a commit's full sha is cut to 7 characters like git's short form. */
export function sourceLabel(src: SourceRef | undefined, options: { full?: boolean } = {}): string {
  if (!src) return '';
  const parts: string[] = [src.kind];
  if (src.ref) parts.push(!options.full && src.kind === 'commit' && /^[0-9a-f]{40}$/i.test(src.ref) ? src.ref.slice(0, 7) : src.ref);
  if (src.actor) parts.push(`by ${src.actor}`);
  return parts.join(' · ');
}

export const ACTION_LABELS: Record<string, string> = {
  ADD: 'Added',
  UPDATE: 'Updated (replaces an older memory, kept as history)',
  SUPERSEDE: 'Superseded: no longer current, kept as history',
  DELETE: 'Deleted',
  NOOP: 'No change',
  RESTORE: 'Restored',
  EDIT: 'Edited',
  PIN: 'Pinned',
  UNPIN: 'Unpinned',
  UNDO: 'Undo',
  IMPORT: 'Imported',
  SCRUB: 'Secrets scrubbed',
};

/** Splits "a, b ,c" into clean unique tags. */
export function parseTags(input: string): string[] {
  return [...new Set(input.split(',').map((t) => t.trim()).filter(Boolean))];
}
