// The toolbar: search, status and tag filters, pinned-only, add and delete-all, the shared-bank line
// and the counts.
import { h, icon, iconButton, setAttrs } from '../dom';
import { formatCount, kindLabel } from '../format';
import { MEMORY_KINDS } from '../../core/kinds';
import { t } from '../l10n';
import { PROTOCOL_LIMITS, STATUS_FILTERS, type PanelQuery, type StatusFilter } from '../protocol';
import type { PanelState } from '../state';
import type { PanelContext, View } from './context';

export interface Toolbar extends View {
  /** Focus moves from the search box to the list (ArrowDown). */
  onArrowDown?: () => void;
}

function statusLabel(s: StatusFilter, counts?: PanelState['counts']): string {
  if (!counts) return { active: t('Active'), superseded: t('Superseded'), deleted: t('Deleted'), all: t('All') }[s];
  const n = (k: number): string => formatCount(k);
  switch (s) {
    case 'active':
      return t('Active ({0})', n(counts.active));
    case 'superseded':
      return t('Superseded ({0})', n(counts.superseded));
    case 'deleted':
      return t('Deleted ({0})', n(counts.deleted));
    case 'all':
      return t('All ({0})', n(counts.active + counts.superseded + counts.deleted));
  }
}

export function createToolbar(ctx: PanelContext): Toolbar {
  const searchInput = h('input', {
    className: 'input search-input',
    attrs: { type: 'search', placeholder: t('Search memories'), 'aria-label': t('Search memories'), spellcheck: 'false' },
  });
  const statusSelect = h(
    'select',
    { className: 'select', attrs: { 'aria-label': t('Status filter') } },
    ...STATUS_FILTERS.map((s) => h('option', { text: statusLabel(s), attrs: { value: s } })),
  );
  const kindSelect = h(
    'select',
    { className: 'select kind-select', attrs: { 'aria-label': t('Kind filter') } },
    h('option', { text: t('All kinds'), attrs: { value: '' } }),
    ...MEMORY_KINDS.map((k) => h('option', { text: kindLabel(k.id), attrs: { value: k.id } })),
  );
  const tagInput = h('input', {
    className: 'input tag-input',
    attrs: { type: 'text', placeholder: t('Tag'), 'aria-label': t('Tag filter'), spellcheck: 'false' },
  });
  const pinnedToggle = iconButton('pinned', t('Show pinned only'), () => {
    ctx.dispatch({ type: 'setQuery', patch: { pinned: ctx.state().query.pinned ? undefined : true } });
  }, { className: 'toggle', attrs: { 'aria-pressed': 'false' } });
  const addToggle = iconButton('add', t('Add a memory'), () => ctx.dispatch({ type: 'toggleAdd', open: !ctx.state().adding }));
  const clearAllButton = iconButton('clear-all', t('Delete all active memories…'), () => ctx.post({ type: 'clearAll' }));
  const summary = h('div', { className: 'summary', attrs: { 'aria-live': 'polite' } });
  const sharedBankLine = h('div', { className: 'shared-bank', attrs: { hidden: true } });

  const toolbar: Toolbar = {
    root: h(
      'header',
      { className: 'toolbar' },
      h('div', { className: 'search-row' }, h('div', { className: 'search-box' }, icon('search', 'search-icon'), searchInput), addToggle, clearAllButton),
      h('div', { className: 'filter-row' }, statusSelect, kindSelect, tagInput, pinnedToggle),
      sharedBankLine,
      summary,
    ),
    render,
  };

  searchInput.addEventListener('input', () => {
    ctx.dispatch({ type: 'setQuery', patch: { text: searchInput.value.slice(0, PROTOCOL_LIMITS.queryChars) }, typed: true, debounce: true });
  });
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      toolbar.onArrowDown?.();
    }
  });
  tagInput.addEventListener('input', () => {
    const tag = tagInput.value.trim().slice(0, PROTOCOL_LIMITS.tagChars);
    ctx.dispatch({ type: 'setQuery', patch: { tag: tag || undefined }, typed: true, debounce: true });
  });
  kindSelect.addEventListener('change', () => {
    ctx.dispatch({ type: 'setQuery', patch: { kind: (kindSelect.value || undefined) as PanelQuery['kind'] }, typed: true });
  });
  statusSelect.addEventListener('change', () => {
    ctx.dispatch({ type: 'setQuery', patch: { status: statusSelect.value as StatusFilter }, typed: true });
  });

  let filtersRev = -1;
  let counts: PanelState['counts'] | undefined;
  let shown = -1;
  let total = -1;
  let shared: PanelState['sharedBank'] | null = null;

  function render(s: PanelState): void {
    // The boxes are only written when the filters changed elsewhere: typing must not be overwritten.
    if (s.filtersRev !== filtersRev) {
      filtersRev = s.filtersRev;
      if (searchInput.value !== s.query.text) searchInput.value = s.query.text;
      if (tagInput.value !== (s.query.tag ?? '')) tagInput.value = s.query.tag ?? '';
    }
    if (statusSelect.value !== s.query.status) statusSelect.value = s.query.status;
    if (kindSelect.value !== (s.query.kind ?? '')) kindSelect.value = s.query.kind ?? '';
    setAttrs(pinnedToggle, { 'aria-pressed': s.query.pinned ? 'true' : 'false' });
    pinnedToggle.classList.toggle('checked', !!s.query.pinned);
    setAttrs(addToggle, { 'aria-expanded': s.adding ? 'true' : 'false' });

    if (s.sharedBank !== shared) {
      shared = s.sharedBank;
      renderSharedBank(s.sharedBank);
    }
    if (!s.received) return;
    if (s.counts !== counts || s.items.length !== shown || s.total !== total) {
      counts = s.counts;
      shown = s.items.length;
      total = s.total;
      const c = s.counts;
      summary.textContent =
        s.total > 0
          ? t('{0} active · {1} superseded · {2} deleted — showing {3} of {4}', formatCount(c.active), formatCount(c.superseded), formatCount(c.deleted), formatCount(shown), formatCount(s.total))
          : t('{0} active · {1} superseded · {2} deleted', formatCount(c.active), formatCount(c.superseded), formatCount(c.deleted));
      for (const opt of Array.from(statusSelect.options)) opt.textContent = statusLabel(opt.value as StatusFilter, c);
    }
  }

  /** A team's shared bank says so, so nobody mistakes it for a private one. */
  function renderSharedBank(bank: PanelState['sharedBank']): void {
    setAttrs(sharedBankLine, { hidden: !bank, title: bank ? t('Shared bank on {0}', bank.location) : undefined });
    sharedBankLine.replaceChildren();
    if (bank) sharedBankLine.append(icon('organization'), h('span', { text: t('Shared bank: {0}', bank.id) }));
  }

  return toolbar;
}
