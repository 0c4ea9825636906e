// Labels and formats for the panel; pure functions, no DOM. Labels are looked up when called, so they
// follow the bundle configured at start.
import type { HistoryAction, MemoryKind, MemoryStatus, SourceKind, SourceRef } from '../core/types';
import { formatNumber, t } from './l10n';

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2025-03-04 14:05" in local time; the raw value when it is not a date. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatCount(n: number): string {
  return formatNumber(n);
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

/** A source kind as shown (chat, save, commit, …). */
export function sourceKindLabel(kind: string): string {
  const labels: Record<SourceKind, string> = {
    chat: t('chat'),
    save: t('save'),
    commit: t('commit'),
    terminal: t('terminal'),
    diagnostic: t('diagnostic'),
    manual: t('manual'),
    import: t('import'),
    dialogue: t('dialogue'),
    cli: t('cli'),
    agent: t('agent'),
  };
  return labels[kind as SourceKind] ?? kind;
}

/** A memory status as shown (its badge, counts). */
export function statusLabel(status: MemoryStatus | string): string {
  const labels: Record<MemoryStatus, string> = { active: t('active'), superseded: t('superseded'), deleted: t('deleted') };
  return labels[status as MemoryStatus] ?? status;
}

/** A memory kind in the page's words (one literal per kind so the strings can be translated). */
export function kindLabel(kind: MemoryKind | string): string {
  const labels: Record<MemoryKind, string> = {
    convention: t('convention'),
    decision: t('decision'),
    workflow: t('command / workflow'),
    architecture: t('architecture'),
    ownership: t('ownership'),
    bugfix: t('bug / fix'),
    other: t('other'),
  };
  return labels[kind as MemoryKind] ?? kind;
}

/** A source as one line; a commit's full sha is cut to 7 characters like git's short form. */
export function sourceLabel(src: SourceRef | undefined, options: { full?: boolean } = {}): string {
  if (!src) return '';
  const parts: string[] = [sourceKindLabel(src.kind)];
  if (src.ref) parts.push(!options.full && src.kind === 'commit' && /^[0-9a-f]{40}$/i.test(src.ref) ? src.ref.slice(0, 7) : src.ref);
  if (src.actor) parts.push(t('by {0}', src.actor));
  return parts.join(' · ');
}

/** What a history action did, in words (the tooltip of its badge). */
export function actionLabel(action: HistoryAction | string): string {
  const labels: Record<HistoryAction, string> = {
    ADD: t('Added'),
    UPDATE: t('Updated (replaces an older memory, kept as history)'),
    SUPERSEDE: t('Superseded: no longer current, kept as history'),
    DELETE: t('Deleted'),
    NOOP: t('No change'),
    RESTORE: t('Restored'),
    EDIT: t('Edited'),
    PIN: t('Pinned'),
    UNPIN: t('Unpinned'),
    UNDO: t('Undo'),
    IMPORT: t('Imported'),
    SCRUB: t('Secrets scrubbed'),
  };
  return labels[action as HistoryAction] ?? action;
}

/** Splits "a, b ,c" into clean unique tags. */
export function parseTags(input: string): string[] {
  return [...new Set(input.split(',').map((t) => t.trim()).filter(Boolean))];
}
