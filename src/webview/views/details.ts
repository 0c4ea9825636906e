// The details pane of the selected memory: its actions, fields, inline editor and history timeline
// (word diffs, undo and undo-batch per record).
import { wordDiff } from '../diff';
import { h, icon, iconButton, setAttrs, textButton } from '../dom';
import { actionLabel, formatTime, kindLabel, parseTags, sourceIcon, sourceLabel, statusLabel } from '../format';
import { MEMORY_KINDS, type MemoryKind } from '../../core/kinds';
import { t } from '../l10n';
import type { HistoryRecordView, MemoryView, SourceView } from '../protocol';
import { currentMemory, type PanelState } from '../state';
import type { PanelContext, View } from './context';

export function createDetails(ctx: PanelContext): View {
  const details = h('section', { className: 'details', attrs: { hidden: true, 'aria-label': t('Selected memory') } });
  const body = h('div', { className: 'details-body' });
  const timeline = h('ol', { className: 'timeline', attrs: { 'aria-label': t('History') } });
  const timelineTitle = h('h2', { className: 'section-title' });
  let shown: Pick<PanelState, 'selectedId' | 'history' | 'editing'> = { editing: false };

  const deselect = (): void => ctx.dispatch({ type: 'deselect' });
  const select = (id: string): void => ctx.dispatch({ type: 'select', id });

  /** A button that opens another memory (the one that replaced this one, or the one it replaced). */
  function linkToMemory(id: string): HTMLElement {
    const b = h('button', { className: 'link-button', text: t('memory {0}', id.slice(0, 8)), attrs: { type: 'button', title: t('Show this memory') } });
    b.addEventListener('click', () => select(id));
    return b;
  }

  function renderAll(s: PanelState): void {
    details.replaceChildren();
    const m = currentMemory(s);
    if (!s.selectedId || !m) {
      setAttrs(details, { hidden: !s.selectedId });
      if (s.selectedId && s.history && !s.history.memory) {
        details.append(h('p', { className: 'hint', text: t('This memory no longer exists.') }), textButton(t('Close'), deselect, true));
      }
      return;
    }
    setAttrs(details, { hidden: false });
    const actions = h('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': t('Memory actions') } });
    actions.append(iconButton('edit', t('Edit memory'), () => ctx.dispatch({ type: 'edit', editing: true })));
    actions.append(m.pinned ? iconButton('pinned', t('Unpin memory'), () => ctx.post({ type: 'unpin', id: m.id })) : iconButton('pin', t('Pin memory'), () => ctx.post({ type: 'pin', id: m.id })));
    actions.append(m.status === 'active' ? iconButton('trash', t('Delete memory'), () => ctx.post({ type: 'delete', id: m.id })) : iconButton('discard', t('Restore memory'), () => ctx.post({ type: 'restore', id: m.id })));
    actions.append(iconButton('close', t('Close details'), deselect));

    details.append(h('div', { className: 'details-header' }, h('h2', { className: 'section-title', text: t('Memory') }), actions));
    body.replaceChildren();
    if (s.editing) body.append(renderEditor(m));
    else body.append(h('p', { className: 'memory-text', text: m.text }));
    const dl = h('dl', { className: 'meta-grid' });
    const row = (k: string, v: Node | string): void => {
      dl.append(h('dt', { text: k }), h('dd', {}, v));
    };
    row(t('Status'), h('span', { className: `badge status status-${m.status}`, text: statusLabel(m.status) }));
    if (m.review) {
      row(
        t('Needs review'),
        h(
          'div',
          {},
          h('ul', { className: 'review-changes' }, ...m.review.changes.map((c) => h('li', { text: c }))),
          h(
            'div',
            { className: 'form-buttons review-actions' },
            textButton(t('Review'), () => ctx.post({ type: 'review', id: m.id })),
            textButton(t('Still true'), () => ctx.post({ type: 'stillTrue', id: m.id }), true),
          ),
        ),
      );
    }
    row(t('Source'), h('span', { className: 'source', attrs: { title: sourceLabel(m.source, { full: true }) } }, icon(sourceIcon(m.source.kind)), h('span', { text: sourceLabel(m.source) })));
    const sources = s.history?.sources ?? [];
    if (sources.length) row(t('From'), renderSources(m.id, sources));
    row(t('Created'), formatTime(m.createdAt));
    row(t('Updated'), formatTime(m.updatedAt));
    if (m.eventTime) row(t('Refers to'), formatTime(m.eventTime));
    if (m.validTo) row(t('Valid until'), formatTime(m.validTo));
    if (m.supersededBy) row(t('Replaced by'), linkToMemory(m.supersededBy));
    if (m.supersedes) row(t('Replaces'), linkToMemory(m.supersedes));
    if (m.status === 'active') {
      const kindSelect = h(
        'select',
        { className: 'select kind-select', attrs: { 'aria-label': t('Kind') } },
        h('option', { text: t('unlabelled'), attrs: { value: '' } }),
        ...MEMORY_KINDS.map((k) => h('option', { text: kindLabel(k.id), attrs: { value: k.id } })),
      );
      kindSelect.value = m.kind ?? '';
      kindSelect.addEventListener('change', () => ctx.post({ type: 'setKind', id: m.id, kind: kindSelect.value as MemoryKind | '' }));
      row(t('Kind'), kindSelect);
    } else row(t('Kind'), m.kind ? kindLabel(m.kind) : '—');
    row(t('Tags'), m.tags.length ? h('span', { className: 'tags' }, ...m.tags.map((tag) => h('span', { className: 'tag', text: tag }))) : '—');
    row(t('Pinned'), m.pinned ? t('yes') : t('no'));
    if (m.evidence?.length) row(t('Evidence'), h('ul', { className: 'evidence' }, ...m.evidence.map((e) => h('li', { text: e }))));
    body.append(dl);
    details.append(body, timelineTitle, timeline);
    renderTimeline(s);
  }

  /** Each event the memory came from, its text behind a disclosure; "Open" shows its file or the whole event. */
  function renderSources(id: string, sources: SourceView[]): HTMLElement {
    const list = h('div', { className: 'sources' });
    for (const src of sources) {
      const text = h('pre', { className: 'source-text', text: src.text + (src.clipped ? `\n${t('({0} more characters were not kept)', src.clipped)}` : '') });
      list.append(h('details', { className: 'source-event' }, h('summary', {}, icon(sourceIcon(src.kind)), h('span', { text: t('from: {0}', src.label) })), text));
    }
    list.append(textButton(t('Open source'), () => ctx.post({ type: 'openSource', id }), true));
    return list;
  }

  function renderEditor(m: MemoryView): HTMLElement {
    const area = h('textarea', { className: 'input textarea', attrs: { rows: 4, 'aria-label': t('Memory text') } });
    area.value = m.text;
    const tags = h('input', { className: 'input', attrs: { type: 'text', 'aria-label': t('Tags, comma separated'), placeholder: t('Tags, comma separated') } });
    tags.value = m.tags.join(', ');
    const save = (): void => {
      const text = area.value;
      const newTags = parseTags(tags.value);
      if (text.trim() !== m.text) ctx.post({ type: 'edit', id: m.id, text });
      if (newTags.join('\u0000') !== m.tags.join('\u0000')) ctx.post({ type: 'setTags', id: m.id, tags: newTags });
      ctx.dispatch({ type: 'edit', editing: false });
    };
    const cancel = (): void => ctx.dispatch({ type: 'edit', editing: false });
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        save();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        cancel();
      }
    };
    area.addEventListener('keydown', onKey);
    tags.addEventListener('keydown', onKey);
    queueMicrotask(() => area.focus());
    return h('div', { className: 'editor' }, area, tags, h('div', { className: 'form-buttons' }, textButton(t('Save'), save), textButton(t('Cancel'), cancel, true)));
  }

  function renderTimeline(s: PanelState): void {
    timeline.replaceChildren();
    const records = s.history?.records ?? [];
    timelineTitle.textContent = s.history ? t('History ({0})', records.length) : t('History…');
    for (let i = records.length - 1; i >= 0; i--) timeline.append(renderRecord(records[i]!));
  }

  function renderRecord(r: HistoryRecordView): HTMLLIElement {
    const head = h(
      'div',
      { className: 'record-head' },
      h('span', { className: `badge action action-${r.action}`, text: r.action, attrs: { title: actionLabel(r.action) } }),
      h('time', { className: 'date', text: formatTime(r.time), attrs: { datetime: r.time, title: r.time } }),
      r.undoneBy ? h('span', { className: 'badge undone', text: t('undone') }) : null,
    );
    const undoLabel = r.undoable ? t('Undo {0} from {1}', r.action, formatTime(r.time)) : r.undoneBy ? t('Already undone') : t('Later changes must be undone first');
    if (r.action !== 'NOOP' && r.action !== 'UNDO') {
      const undo = iconButton('discard', undoLabel, () => ctx.post({ type: 'undo', opId: r.opId }), { className: 'undo-button' });
      if (!r.undoable) setAttrs(undo, { disabled: true });
      head.append(undo);
      // A manager run, an import or "clear" changed several memories at once: undo them together.
      if (r.undoable && r.batchOperations) {
        head.append(iconButton('layers', t('Undo all {0} operations of this batch', r.batchOperations), () => ctx.post({ type: 'undoBatch', batchId: r.batchId }), { className: 'undo-batch-button' }));
      }
    }
    const body = h('div', { className: 'record-body' });
    const { before, after } = r;
    if (before && after && before.text !== after.text) {
      const diff = h('div', { className: 'diff', attrs: { 'aria-label': t('Text change') } });
      for (const part of wordDiff(before.text, after.text)) {
        diff.append(part.kind === 'same' ? document.createTextNode(part.text) : h(part.kind === 'add' ? 'ins' : 'del', { className: `diff-${part.kind}`, text: part.text }));
      }
      body.append(diff);
    } else if (after && !before) {
      body.append(h('div', { className: 'diff' }, h('ins', { className: 'diff-add', text: after.text })));
    }
    // NOOP: nothing changed; the fact below says what was considered.
    const changes: string[] = [];
    if (before && after && before.status !== after.status) changes.push(t('{0} → {1}', statusLabel(before.status), statusLabel(after.status)));
    if (r.action === 'SUPERSEDE' && after?.validTo) changes.push(t('valid until {0}', formatTime(after.validTo)));
    if (before && after && before.pinned !== after.pinned) changes.push(after.pinned ? t('pinned') : t('unpinned'));
    if (before && after && before.tags.join(',') !== after.tags.join(',')) changes.push(t('tags: {0} → {1}', before.tags.join(', ') || '—', after.tags.join(', ') || '—'));
    if (changes.length) body.append(h('div', { className: 'change', text: changes.join(' · ') }));
    const meta = h('dl', { className: 'record-meta' });
    const add = (k: string, v: string | undefined, title?: string): void => {
      if (v) meta.append(h('dt', { text: k }), h('dd', { text: v, attrs: title ? { title } : {} }));
    };
    add(t('Reason'), r.reason);
    add(t('Fact'), r.fact);
    add(t('Engine'), r.guard);
    if (r.action === 'SUPERSEDE' && after?.supersededBy) meta.append(h('dt', { text: t('Replaced by') }), h('dd', {}, linkToMemory(after.supersededBy)));
    if (after?.supersedes && r.action !== 'UNDO') meta.append(h('dt', { text: t('Replaces') }), h('dd', {}, linkToMemory(after.supersedes)));
    add(t('Source'), sourceLabel(r.source), sourceLabel(r.source, { full: true }));
    if (r.actor && r.actor !== r.source?.actor) add(t('By'), r.actor);
    add(t('Model'), r.model);
    if (meta.childElementCount) body.append(meta);
    return h('li', { className: `record action-${r.action}${r.undoneBy ? ' is-undone' : ''}` }, head, body);
  }

  return {
    root: details,
    render(s) {
      const prev = shown;
      if (s.selectedId === prev.selectedId && s.history === prev.history && s.editing === prev.editing) return;
      shown = { selectedId: s.selectedId, history: s.history, editing: s.editing };
      if (!s.selectedId) {
        setAttrs(details, { hidden: true });
        return;
      }
      // A history arriving while the editor is open refreshes the timeline only: typing is kept.
      const keepEditor = s.selectedId === prev.selectedId && s.editing && prev.editing && !!s.history && prev.history?.memoryId === s.history.memoryId;
      if (keepEditor) renderTimeline(s);
      else renderAll(s);
    },
  };
}
