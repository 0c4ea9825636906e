// The memory list: a listbox of rows paged in as it scrolls, its keyboard, the empty states and
// "Load more". Rows are only rebuilt from the first one that changed: touching every row of a long
// list restyles all of it.
import { h, icon, setAttrs, textButton } from '../dom';
import { formatCount, formatTime, kindLabel, sourceIcon, sourceKindLabel, sourceLabel, statusLabel } from '../format';
import { t } from '../l10n';
import type { MemoryView } from '../protocol';
import { isFiltered, selectedIndex, type PanelState } from '../state';
import type { PanelContext, View } from './context';

const LOAD_MORE_MARGIN_PX = 300;

export interface MemoryList extends View {
  /** Focuses the list (from the search box, after a reveal or a deselect). */
  focus(): void;
  /** Scrolls the row with keyboard focus into view. */
  scrollToActive(): void;
  /** With tall viewports the first page may not fill the list; fetch until it scrolls or ends. */
  fillViewport(): void;
}

export function createMemoryList(ctx: PanelContext): MemoryList {
  const listbox = h('ul', { className: 'memory-list', attrs: { role: 'listbox', tabindex: 0, 'aria-label': t('Memories') } });
  const loadMoreButton = textButton(t('Load more'), () => ctx.dispatch({ type: 'loadMore' }), true);
  loadMoreButton.classList.add('load-more');
  setAttrs(loadMoreButton, { hidden: true });
  const emptyState = h('div', { className: 'empty', attrs: { hidden: true } });
  const scroller = h('div', { className: 'list-scroller' }, listbox, emptyState, loadMoreButton);

  // What the DOM shows now.
  let rendered: readonly MemoryView[] = [];
  let emptyFor: { items: readonly MemoryView[]; noBank?: string; received: boolean } | undefined;
  let scrolledGen = 0;
  let selectedRow: Element | undefined;
  let activeRow: Element | undefined;
  let remaining = -1;

  const setActive = (index: number): void => {
    ctx.dispatch({ type: 'setActive', index });
    list.scrollToActive();
  };

  function renderRow(s: PanelState, m: MemoryView, index: number): HTMLLIElement {
    const meta = h(
      'div',
      { className: 'row-meta' },
      h('span', { className: `badge status status-${m.status}`, text: statusLabel(m.status) }),
      m.kind && m.kind !== 'other' ? h('span', { className: `badge kind kind-${m.kind}`, text: kindLabel(m.kind) }) : null,
      m.review ? h('span', { className: 'badge needs-review', text: t('needs review'), attrs: { title: m.review.changes.join('\n') } }) : null,
      m.expiring ? h('span', { className: 'badge expiring', text: t('unused'), attrs: { title: t('Neither changed, confirmed nor used for the days set in projectMemory.freshness.expireAfterDays: the next expiry retires it.') } }) : null,
      h('span', { className: 'source', attrs: { title: sourceLabel(m.source, { full: true }) } }, icon(sourceIcon(m.source.kind)), h('span', { text: sourceLabel({ kind: m.source.kind, ref: m.source.ref }) })),
      // The memory's date is when its fact became true (the event's time), else when it was recorded.
      h('span', { className: 'date', text: formatTime(m.eventTime ?? m.createdAt), attrs: { title: t('Created {0}, updated {1}', formatTime(m.createdAt), formatTime(m.updatedAt)) } }),
    );
    const tags = m.tags.length ? h('div', { className: 'tags' }, ...m.tags.map((tag) => h('span', { className: 'tag', text: tag }))) : null;
    const labelArgs = [m.text, statusLabel(m.status), sourceKindLabel(m.source.kind), formatTime(m.eventTime ?? m.createdAt)];
    const base = m.pinned ? t('Pinned. {0} ({1}, {2}, dated {3})', ...labelArgs) : t('{0} ({1}, {2}, dated {3})', ...labelArgs);
    const label = m.review ? `${base} ${t('Needs review: {0}', m.review.changes.join('; '))}` : base;
    const selected = m.id === s.selectedId;
    return h(
      'li',
      {
        className: `row${m.pinned ? ' pinned' : ''} status-${m.status}${selected ? ' selected' : ''}${index === s.activeIndex ? ' active' : ''}`,
        attrs: { role: 'option', id: `opt-${index}`, 'data-index': index, 'aria-selected': selected ? 'true' : 'false', 'aria-label': label },
        on: {
          click: () => {
            ctx.dispatch({ type: 'setActive', index });
            ctx.dispatch({ type: 'select', id: m.id });
          },
        },
      },
      h('div', { className: 'row-text' }, m.pinned ? icon('pinned', 'pin-mark') : null, h('span', { className: 'text', text: m.text })),
      meta,
      tags,
    );
  }

  /** Rows from the first item that is not the one already shown; a page appended keeps the rest. */
  function renderRows(s: PanelState): void {
    let from = 0;
    const n = Math.min(rendered.length, s.items.length);
    while (from < n && rendered[from] === s.items[from]) from++;
    const rebuild = from === 0;
    const scrollTop = scroller.scrollTop;
    while (listbox.children.length > from) listbox.lastElementChild?.remove();
    const frag = document.createDocumentFragment();
    for (let i = from; i < s.items.length; i++) frag.append(renderRow(s, s.items[i]!, i));
    listbox.append(frag);
    rendered = s.items;
    selectedRow = listbox.querySelector('[aria-selected="true"]') ?? undefined;
    activeRow = listbox.querySelector('.row.active') ?? undefined;
    if (rebuild) {
      if (s.queryGen !== scrolledGen) {
        scroller.scrollTop = 0;
        scrolledGen = s.queryGen;
      } else {
        scroller.scrollTop = scrollTop;
      }
    }
  }

  function renderEmpty(s: PanelState): void {
    const bankEmpty = s.counts.active + s.counts.superseded + s.counts.deleted === 0;
    const showEmpty = s.items.length === 0 && (s.received || !!s.noBank);
    setAttrs(emptyState, { hidden: !showEmpty });
    setAttrs(listbox, { hidden: showEmpty });
    if (!showEmpty) return;
    emptyState.replaceChildren();
    if (s.noBank) {
      emptyState.append(icon('database', 'empty-icon'), h('p', { className: 'empty-title', text: t('No memory bank') }), h('p', { className: 'hint', text: s.noBank }));
    } else if (isFiltered(s.query) && !bankEmpty) {
      emptyState.append(
        icon('search', 'empty-icon'),
        h('p', { className: 'empty-title', text: t('No memories match these filters.') }),
        textButton(t('Clear filters'), () => ctx.dispatch({ type: 'clearFilters' }), true),
      );
    } else if (!bankEmpty) {
      // Only deleted or superseded memories are left: "No memories yet" would be wrong.
      emptyState.append(
        icon('archive', 'empty-icon'),
        h('p', { className: 'empty-title', text: t('No active memories') }),
        h('p', { className: 'hint', text: t('{0} deleted and {1} superseded memories keep their history.', formatCount(s.counts.deleted), formatCount(s.counts.superseded)) }),
        textButton(t('Show all'), () => ctx.dispatch({ type: 'setQuery', patch: { status: 'all' } }), true),
      );
    } else {
      emptyState.append(
        icon('lightbulb', 'empty-icon'),
        h('p', { className: 'empty-title', text: t('No memories yet') }),
        h('p', { className: 'hint', text: t('Project Memory learns facts from @memory chats, saved files, commits and terminal commands. You can also add one by hand.') }),
        textButton(t('Add a memory'), () => ctx.dispatch({ type: 'toggleAdd', open: true }), false, 'add'),
      );
    }
  }

  /** Moves the selected and active marks; only the rows whose marks changed are touched. */
  function renderMarks(s: PanelState): void {
    const sel = selectedIndex(s);
    const row = sel >= 0 ? listbox.children[sel] : undefined;
    if (row !== selectedRow) {
      selectedRow?.setAttribute('aria-selected', 'false');
      selectedRow?.classList.remove('selected');
      row?.setAttribute('aria-selected', 'true');
      row?.classList.add('selected');
      selectedRow = row;
    }
    const active = s.activeIndex >= 0 ? listbox.children[s.activeIndex] : undefined;
    if (active !== activeRow) {
      activeRow?.classList.remove('active');
      active?.classList.add('active');
      activeRow = active;
    }
    setAttrs(listbox, { 'aria-activedescendant': active?.id || undefined });
  }

  const list: MemoryList = {
    root: scroller,
    render(s) {
      if (s.items !== rendered) renderRows(s);
      if (!emptyFor || emptyFor.items !== s.items || emptyFor.noBank !== s.noBank || emptyFor.received !== s.received) {
        emptyFor = { items: s.items, noBank: s.noBank, received: s.received };
        renderEmpty(s);
      }
      renderMarks(s);
      const left = s.received ? s.total - s.items.length : 0;
      if (left !== remaining) {
        remaining = left;
        setAttrs(loadMoreButton, { hidden: left <= 0 });
        const label = loadMoreButton.querySelector('span');
        if (label && s.received) label.textContent = t('Load more ({0} more)', formatCount(left));
      }
    },
    focus: () => listbox.focus(),
    scrollToActive() {
      const i = ctx.state().activeIndex;
      const row = i >= 0 ? (listbox.children[i] as HTMLElement | undefined) : undefined;
      row?.scrollIntoView({ block: 'nearest' });
    },
    fillViewport() {
      const s = ctx.state();
      if (scroller.scrollHeight <= scroller.clientHeight + LOAD_MORE_MARGIN_PX && s.items.length < s.total) ctx.dispatch({ type: 'loadMore' });
    },
  };

  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - LOAD_MORE_MARGIN_PX) ctx.dispatch({ type: 'loadMore' });
  });

  listbox.addEventListener('focus', () => {
    const s = ctx.state();
    if (s.activeIndex < 0 && s.items.length) {
      const sel = selectedIndex(s);
      setActive(sel >= 0 ? sel : 0);
    }
  });

  listbox.addEventListener('keydown', (e) => {
    const s = ctx.state();
    const n = s.items.length;
    if (!n) return;
    const at = s.activeIndex;
    let next = at;
    switch (e.key) {
      case 'ArrowDown':
        next = Math.min(n - 1, at + 1);
        if (at >= n - 1) ctx.dispatch({ type: 'loadMore' });
        break;
      case 'ArrowUp':
        next = Math.max(0, at - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = n - 1;
        break;
      case 'PageDown':
        next = Math.min(n - 1, at + 10);
        break;
      case 'PageUp':
        next = Math.max(0, at - 10);
        break;
      case 'Enter':
      case ' ': {
        e.preventDefault();
        const m = s.items[at];
        if (m) ctx.dispatch({ type: 'select', id: m.id });
        return;
      }
      case 'Escape':
        if (s.selectedId) {
          e.preventDefault();
          ctx.dispatch({ type: 'deselect' });
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    setActive(next);
  });

  return list;
}
