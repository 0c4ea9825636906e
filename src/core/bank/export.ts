// The bank as files for people and for other banks: the JSON bundle `importBundle` reads again, and
// a Markdown list. Pure functions of the folded state; the bank passes what they need.
import type { Feedback } from '../api';
import type { HistoryRecord, Memory } from '../types';
import { nowIso } from '../util/text';
import type { BankBundle } from './bundle';
import type { SourceEvent } from '../provenance';

export function makeBundle(embedder: string, memories: Iterable<Memory>, history: HistoryRecord[], feedback: Feedback[], evidence: Record<string, unknown>[] = [], sources: SourceEvent[] = []): BankBundle {
  return {
    format: 'project-memory-bank',
    version: 1,
    exportedAt: nowIso(),
    embedder,
    memories: [...memories].map((m) => ({ ...m, tags: [...m.tags] })),
    history,
    feedback,
    ...(evidence.length ? { evidence } : {}),
    ...(sources.length ? { sources } : {}),
  };
}

export function renderMarkdown(memories: readonly Memory[], records: readonly HistoryRecord[]): string {
  const lines = ['# Project memory', '', `Exported ${nowIso()}.`, ''];
  for (const status of ['active', 'superseded', 'deleted'] as const) {
    const items = memories.filter((m) => m.status === status);
    if (!items.length) continue;
    lines.push(`## ${status[0].toUpperCase()}${status.slice(1)} (${items.length})`, '');
    for (const m of items) {
      const meta = [m.pinned ? 'pinned' : '', m.tags.length ? `tags: ${m.tags.join(', ')}` : '', `source: ${m.source.kind}${m.source.ref ? ` ${m.source.ref}` : ''}`, `updated ${m.updatedAt}`, `id ${m.id}`]
        .filter(Boolean)
        .join(' · ');
      lines.push(`- ${m.text.replace(/\n/g, ' ')}  `, `  <sub>${meta}</sub>`);
    }
    lines.push('');
  }
  lines.push('## History', '');
  for (const r of records) {
    const change = r.before && r.after && r.before.text !== r.after.text ? `: "${r.before.text}" → "${r.after.text}"` : r.after ? `: "${r.after.text}"` : '';
    lines.push(`- ${r.time} **${r.action}** ${r.memoryId}${change}${r.reason ? ` (${r.reason})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
