// The memory side panel page. Plain DOM; every piece of data is rendered with textContent.
import { wordDiff } from './diff';
import { clear, h, icon, iconButton, setAttrs, textButton } from './dom';
import { ACTION_LABELS, formatCount, formatTime, parseTags, sourceIcon, sourceLabel } from './format';
import {
  PAGE_SIZE,
  isHostMessage,
  type HistoryRecordView,
  type HostMessage,
  type MemoryView,
  type PageMessage,
  type PanelQuery,
  type PendingBatchView,
  type StatusFilter,
} from './protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  query: PanelQuery;
  selectedId?: string;
}

const vscode = acquireVsCodeApi();
const SEARCH_DEBOUNCE_MS = 200;
const LOAD_MORE_MARGIN_PX = 300;

// ------------------------------------------------------------------ state

const state = {
  query: { text: '', status: 'active', offset: 0, limit: PAGE_SIZE } as PanelQuery,
  items: [] as MemoryView[],
  total: 0,
  counts: { active: 0, superseded: 0, deleted: 0 },
  pending: [] as PendingBatchView[],
  received: false,
  loadingMore: false,
  /** Set when the page asked for a new query: the next state scrolls to the top. */
  resetScroll: false,
  activeIndex: -1,
  selectedId: undefined as string | undefined,
  history: undefined as Extract<HostMessage, { type: 'history' }> | undefined,
  editing: false,
  adding: false,
  noBank: undefined as string | undefined,
};

function post(msg: PageMessage): void {
  vscode.postMessage(msg);
}

function save(): void {
  const saved: SavedState = { query: { ...state.query, offset: 0, limit: PAGE_SIZE }, selectedId: state.selectedId };
  vscode.setState(saved);
}

function restoreSaved(): void {
  const s = vscode.getState() as Partial<SavedState> | undefined;
  if (!s || typeof s !== 'object' || !s.query || typeof s.query !== 'object') return;
  const q = s.query;
  state.query = {
    text: typeof q.text === 'string' ? q.text : '',
    status: (['active', 'superseded', 'deleted', 'all'] as const).includes(q.status as StatusFilter) ? q.status : 'active',
    tag: typeof q.tag === 'string' && q.tag ? q.tag : undefined,
    pinned: q.pinned === true ? true : undefined,
    offset: 0,
    limit: PAGE_SIZE,
  };
  if (typeof s.selectedId === 'string') state.selectedId = s.selectedId;
}

// ------------------------------------------------------------------ static layout

const app = document.getElementById('app') ?? document.body.appendChild(h('div', { attrs: { id: 'app' } }));

const progress = h('div', { className: 'progress', attrs: { role: 'progressbar', 'aria-label': 'Working', hidden: true } });

const searchInput = h('input', {
  className: 'input search-input',
  attrs: { type: 'search', placeholder: 'Search memories', 'aria-label': 'Search memories', spellcheck: 'false' },
});
const statusSelect = h(
  'select',
  { className: 'select', attrs: { 'aria-label': 'Status filter' } },
  ...(['active', 'superseded', 'deleted', 'all'] as const).map((s) => h('option', { text: s[0].toUpperCase() + s.slice(1), attrs: { value: s } })),
);
const tagInput = h('input', {
  className: 'input tag-input',
  attrs: { type: 'text', placeholder: 'Tag', 'aria-label': 'Tag filter', spellcheck: 'false' },
});
const pinnedToggle = iconButton('pinned', 'Show pinned only', () => {
  state.query = { ...state.query, pinned: state.query.pinned ? undefined : true };
  syncFilterControls();
  sendQuery();
}, { className: 'toggle', attrs: { 'aria-pressed': 'false' } });
const addToggle = iconButton('add', 'Add a memory', () => toggleAddForm(!state.adding));
const clearAllButton = iconButton('clear-all', 'Delete all active memories…', () => post({ type: 'clearAll' }));

const summary = h('div', { className: 'summary', attrs: { 'aria-live': 'polite' } });
const sharedBankLine = h('div', { className: 'shared-bank', attrs: { hidden: true } });
const errorBanner = h('div', { className: 'banner error', attrs: { role: 'alert', hidden: true } });
const noticeLine = h('div', { className: 'notice', attrs: { role: 'status', 'aria-live': 'polite' } });

const addText = h('textarea', { className: 'input textarea', attrs: { rows: 3, placeholder: 'A fact worth remembering about this project', 'aria-label': 'New memory text' } });
const addTags = h('input', { className: 'input', attrs: { type: 'text', placeholder: 'Tags, comma separated', 'aria-label': 'New memory tags' } });
const addForm = h(
  'form',
  { className: 'add-form', attrs: { hidden: true, 'aria-label': 'Add a memory' } },
  addText,
  addTags,
  h('div', { className: 'form-buttons' }, textButton('Add', () => submitAdd()), textButton('Cancel', () => toggleAddForm(false), true)),
);

const pendingSection = h('section', { className: 'pending', attrs: { hidden: true, 'aria-label': 'Operations held for approval' } });

const listbox = h('ul', {
  className: 'memory-list',
  attrs: { role: 'listbox', tabindex: 0, 'aria-label': 'Memories' },
});
const loadMoreButton = textButton('Load more', () => loadMore(), true);
loadMoreButton.classList.add('load-more');
const emptyState = h('div', { className: 'empty', attrs: { hidden: true } });
const listScroller = h('div', { className: 'list-scroller' }, listbox, emptyState, loadMoreButton);

const details = h('section', { className: 'details', attrs: { hidden: true, 'aria-label': 'Selected memory' } });

app.append(
  progress,
  h(
    'header',
    { className: 'toolbar' },
    h('div', { className: 'search-row' }, h('div', { className: 'search-box' }, icon('search', 'search-icon'), searchInput), addToggle, clearAllButton),
    h('div', { className: 'filter-row' }, statusSelect, tagInput, pinnedToggle),
    sharedBankLine,
    summary,
  ),
  errorBanner,
  noticeLine,
  addForm,
  pendingSection,
  listScroller,
  details,
);

// ------------------------------------------------------------------ queries

let searchTimer: ReturnType<typeof setTimeout> | undefined;

function sendQuery(): void {
  state.resetScroll = true;
  state.loadingMore = false;
  state.query = { ...state.query, offset: 0, limit: PAGE_SIZE };
  save();
  post({ type: 'query', query: state.query });
}

function debouncedQuery(): void {
  if (searchTimer) clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    searchTimer = undefined;
    sendQuery();
  }, SEARCH_DEBOUNCE_MS);
}

function loadMore(): void {
  if (state.loadingMore || state.items.length >= state.total) return;
  state.loadingMore = true;
  post({ type: 'query', query: { ...state.query, offset: state.items.length, limit: PAGE_SIZE } });
}

function sameFilters(a: PanelQuery, b: PanelQuery): boolean {
  return a.text === b.text && a.status === b.status && (a.tag ?? '') === (b.tag ?? '') && (a.pinned ?? false) === (b.pinned ?? false);
}

function syncFilterControls(): void {
  if (searchInput.value !== state.query.text) searchInput.value = state.query.text;
  statusSelect.value = state.query.status;
  if (tagInput.value !== (state.query.tag ?? '')) tagInput.value = state.query.tag ?? '';
  setAttrs(pinnedToggle, { 'aria-pressed': state.query.pinned ? 'true' : 'false' });
  pinnedToggle.classList.toggle('checked', !!state.query.pinned);
}

searchInput.addEventListener('input', () => {
  state.query = { ...state.query, text: searchInput.value.slice(0, 1000) };
  debouncedQuery();
});
searchInput.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowDown') {
    e.preventDefault();
    listbox.focus();
  }
});
tagInput.addEventListener('input', () => {
  const tag = tagInput.value.trim().slice(0, 100);
  state.query = { ...state.query, tag: tag || undefined };
  debouncedQuery();
});
statusSelect.addEventListener('change', () => {
  state.query = { ...state.query, status: statusSelect.value as StatusFilter };
  sendQuery();
});

function clearFilters(): void {
  state.query = { text: '', status: 'active', offset: 0, limit: PAGE_SIZE };
  syncFilterControls();
  sendQuery();
}

// ------------------------------------------------------------------ host messages

window.addEventListener('message', (event: MessageEvent) => {
  const msg: unknown = event.data;
  if (!isHostMessage(msg)) return;
  switch (msg.type) {
    case 'state':
      onState(msg);
      break;
    case 'history':
      onHistory(msg);
      break;
    case 'error':
      showError(msg.message);
      break;
    case 'notice':
      showNotice(msg.message);
      break;
    case 'changed':
      if (msg.external) showNotice('Updated by another window.');
      break;
    case 'reveal':
      onReveal(msg.id);
      break;
    case 'busy':
      setAttrs(progress, { hidden: !msg.busy });
      document.body.setAttribute('aria-busy', msg.busy ? 'true' : 'false');
      break;
    case 'noBank':
      state.noBank = msg.message;
      renderList();
      break;
  }
});

function onState(msg: Extract<HostMessage, { type: 'state' }>): void {
  if (state.received && !sameFilters(msg.query, state.query)) return; // an answer to an older query
  state.noBank = undefined;
  if (!state.received) {
    state.query = { ...msg.query, offset: 0, limit: PAGE_SIZE };
    syncFilterControls();
  }
  state.received = true;
  renderSharedBank(msg.sharedBank);
  state.total = msg.total;
  state.counts = msg.counts;
  state.pending = msg.pending;
  const activeId = state.items[state.activeIndex]?.id;
  if (msg.offset === 0) {
    const scrollTop = listScroller.scrollTop;
    state.items = msg.items;
    state.loadingMore = false;
    renderList();
    if (state.resetScroll) {
      listScroller.scrollTop = 0;
      state.resetScroll = false;
    } else {
      listScroller.scrollTop = scrollTop;
    }
  } else if (msg.offset <= state.items.length) {
    state.items = state.items.slice(0, msg.offset).concat(msg.items);
    state.loadingMore = false;
    appendRows(msg.offset);
  } else {
    return; // a gap: stale page
  }
  const idx = activeId ? state.items.findIndex((m) => m.id === activeId) : -1;
  setActive(idx >= 0 ? idx : Math.min(state.activeIndex, state.items.length - 1), false);
  renderSummary();
  renderPending();
  renderLoadMore();
  // Memories selected that vanished from the bank close their details; filtered-out ones stay open.
  maybeFillViewport();
}

function onHistory(msg: Extract<HostMessage, { type: 'history' }>): void {
  if (msg.memoryId !== state.selectedId) return;
  const wasEditing = state.editing && state.history?.memoryId === msg.memoryId;
  state.history = msg;
  if (!wasEditing) renderDetails();
  else renderTimelineOnly();
}

function onReveal(id: string): void {
  state.selectedId = id;
  state.editing = false;
  save();
  const idx = state.items.findIndex((m) => m.id === id);
  if (idx >= 0) setActive(idx, true);
  markSelected();
  renderDetails();
  listbox.focus();
}

// ------------------------------------------------------------------ list rendering

/** A team's shared bank says so, so nobody mistakes it for a private one. */
function renderSharedBank(shared: { id: string; location: string } | undefined): void {
  setAttrs(sharedBankLine, { hidden: !shared, title: shared ? `Shared bank on ${shared.location}` : undefined });
  clear(sharedBankLine);
  if (shared) sharedBankLine.append(icon('organization'), h('span', { text: `Shared bank: ${shared.id}` }));
}

function renderSummary(): void {
  const c = state.counts;
  const shown = state.items.length;
  summary.textContent =
    `${formatCount(c.active)} active · ${formatCount(c.superseded)} superseded · ${formatCount(c.deleted)} deleted` +
    (state.total > 0 ? ` — showing ${formatCount(shown)} of ${formatCount(state.total)}` : '');
  const labels: Record<StatusFilter, string> = {
    active: `Active (${formatCount(c.active)})`,
    superseded: `Superseded (${formatCount(c.superseded)})`,
    deleted: `Deleted (${formatCount(c.deleted)})`,
    all: `All (${formatCount(c.active + c.superseded + c.deleted)})`,
  };
  for (const opt of Array.from(statusSelect.options)) opt.textContent = labels[opt.value as StatusFilter];
}

function renderLoadMore(): void {
  const remaining = state.total - state.items.length;
  setAttrs(loadMoreButton, { hidden: remaining <= 0 });
  const label = loadMoreButton.querySelector('span');
  if (label) label.textContent = `Load more (${formatCount(remaining)} more)`;
}

function renderList(): void {
  clear(listbox);
  appendRows(0);
  const filtered = !!(state.query.text || state.query.tag || state.query.pinned || state.query.status !== 'active');
  const bankEmpty = state.counts.active + state.counts.superseded + state.counts.deleted === 0;
  const showEmpty = state.items.length === 0 && (state.received || !!state.noBank);
  setAttrs(emptyState, { hidden: !showEmpty });
  setAttrs(listbox, { hidden: showEmpty });
  if (showEmpty) renderEmpty(filtered && !bankEmpty, bankEmpty);
  markSelected();
}

function renderEmpty(filtered: boolean, bankEmpty: boolean): void {
  clear(emptyState);
  if (state.noBank) {
    emptyState.append(icon('database', 'empty-icon'), h('p', { className: 'empty-title', text: 'No memory bank' }), h('p', { className: 'hint', text: state.noBank }));
  } else if (filtered) {
    emptyState.append(
      icon('search', 'empty-icon'),
      h('p', { className: 'empty-title', text: 'No memories match these filters.' }),
      textButton('Clear filters', () => clearFilters(), true),
    );
  } else if (!bankEmpty) {
    // Only deleted or superseded memories are left: "No memories yet" would be wrong.
    const c = state.counts;
    emptyState.append(
      icon('archive', 'empty-icon'),
      h('p', { className: 'empty-title', text: 'No active memories' }),
      h('p', { className: 'hint', text: `${formatCount(c.deleted)} deleted and ${formatCount(c.superseded)} superseded memories keep their history.` }),
      textButton('Show all', () => {
        state.query = { ...state.query, status: 'all' };
        syncFilterControls();
        sendQuery();
      }, true),
    );
  } else {
    emptyState.append(
      icon('lightbulb', 'empty-icon'),
      h('p', { className: 'empty-title', text: 'No memories yet' }),
      h('p', {
        className: 'hint',
        text: 'Project Memory learns facts from @memory chats, saved files, commits and terminal commands. You can also add one by hand.',
      }),
      textButton('Add a memory', () => toggleAddForm(true), false, 'add'),
    );
  }
}

function appendRows(from: number): void {
  while (listbox.children.length > from) listbox.lastElementChild?.remove();
  const frag = document.createDocumentFragment();
  for (let i = from; i < state.items.length; i++) frag.append(renderRow(state.items[i], i));
  listbox.append(frag);
}

function renderRow(m: MemoryView, index: number): HTMLLIElement {
  const statusBadge = h('span', { className: `badge status status-${m.status}`, text: m.status });
  const meta = h(
    'div',
    { className: 'row-meta' },
    statusBadge,
    h('span', { className: 'source', attrs: { title: sourceLabel(m.source, { full: true }) } }, icon(sourceIcon(m.source.kind)), h('span', { text: sourceLabel({ kind: m.source.kind, ref: m.source.ref }) })),
    h('span', { className: 'date', text: formatTime(m.updatedAt), attrs: { title: `Created ${formatTime(m.createdAt)}, updated ${formatTime(m.updatedAt)}` } }),
  );
  const tags = m.tags.length
    ? h('div', { className: 'tags' }, ...m.tags.map((t) => h('span', { className: 'tag', text: t })))
    : null;
  const label = `${m.pinned ? 'Pinned. ' : ''}${m.text} (${m.status}, ${m.source.kind}, updated ${formatTime(m.updatedAt)})`;
  const selected = m.id === state.selectedId;
  return h(
    'li',
    {
      className: `row${m.pinned ? ' pinned' : ''} status-${m.status}${selected ? ' selected' : ''}${index === state.activeIndex ? ' active' : ''}`,
      attrs: { role: 'option', id: `opt-${index}`, 'data-index': index, 'aria-selected': selected ? 'true' : 'false', 'aria-label': label },
      on: {
        click: () => {
          setActive(index, false);
          select(index);
        },
      },
    },
    h('div', { className: 'row-text' }, m.pinned ? icon('pinned', 'pin-mark') : null, h('span', { className: 'text', text: m.text })),
    meta,
    tags,
  );
}

/** Updates only the rows whose selection changed: touching every row restyles the whole list. */
function markSelected(): void {
  for (const li of Array.from(listbox.querySelectorAll('[aria-selected="true"]'))) {
    li.setAttribute('aria-selected', 'false');
    li.classList.remove('selected');
  }
  const idx = state.selectedId ? state.items.findIndex((m) => m.id === state.selectedId) : -1;
  const row = idx >= 0 ? listbox.children[idx] : undefined;
  if (row) {
    row.setAttribute('aria-selected', 'true');
    row.classList.add('selected');
  }
  if (!state.selectedId) setAttrs(details, { hidden: true });
}

function setActive(index: number, scroll: boolean): void {
  const prev = listbox.children[state.activeIndex];
  prev?.classList.remove('active');
  state.activeIndex = index;
  const row = index >= 0 ? (listbox.children[index] as HTMLElement | undefined) : undefined;
  if (row) {
    row.classList.add('active');
    setAttrs(listbox, { 'aria-activedescendant': row.id });
    if (scroll) row.scrollIntoView({ block: 'nearest' });
  } else {
    setAttrs(listbox, { 'aria-activedescendant': undefined });
  }
}

function select(index: number): void {
  const m = state.items[index];
  if (!m) return;
  if (state.selectedId !== m.id) {
    state.selectedId = m.id;
    state.editing = false;
    state.history = undefined;
    save();
  }
  markSelected();
  renderDetails();
  post({ type: 'select', id: m.id });
}

function deselect(): void {
  state.selectedId = undefined;
  state.history = undefined;
  state.editing = false;
  save();
  markSelected();
  post({ type: 'deselect' });
  listbox.focus();
}

/** With tall viewports the first page may not fill the list; fetch until it scrolls or ends. */
function maybeFillViewport(): void {
  if (listScroller.scrollHeight <= listScroller.clientHeight + LOAD_MORE_MARGIN_PX && state.items.length < state.total) loadMore();
}

listScroller.addEventListener('scroll', () => {
  if (listScroller.scrollTop + listScroller.clientHeight >= listScroller.scrollHeight - LOAD_MORE_MARGIN_PX) loadMore();
});

listbox.addEventListener('focus', () => {
  if (state.activeIndex < 0 && state.items.length) {
    const sel = state.items.findIndex((m) => m.id === state.selectedId);
    setActive(sel >= 0 ? sel : 0, true);
  }
});

listbox.addEventListener('keydown', (e) => {
  const n = state.items.length;
  if (!n) return;
  let next = state.activeIndex;
  switch (e.key) {
    case 'ArrowDown':
      next = Math.min(n - 1, state.activeIndex + 1);
      if (state.activeIndex >= n - 1) loadMore();
      break;
    case 'ArrowUp':
      next = Math.max(0, state.activeIndex - 1);
      break;
    case 'Home':
      next = 0;
      break;
    case 'End':
      next = n - 1;
      break;
    case 'PageDown':
      next = Math.min(n - 1, state.activeIndex + 10);
      break;
    case 'PageUp':
      next = Math.max(0, state.activeIndex - 10);
      break;
    case 'Enter':
    case ' ':
      e.preventDefault();
      select(state.activeIndex);
      return;
    case 'Escape':
      if (state.selectedId) {
        e.preventDefault();
        deselect();
      }
      return;
    default:
      return;
  }
  e.preventDefault();
  setActive(next, true);
});

// ------------------------------------------------------------------ pending batches

function renderPending(): void {
  clear(pendingSection);
  setAttrs(pendingSection, { hidden: state.pending.length === 0 });
  if (!state.pending.length) return;
  pendingSection.append(h('h2', { className: 'section-title' }, icon('warning'), h('span', { text: `Held for approval (${state.pending.length})` })));
  for (const b of state.pending) {
    const ops = h('ul', { className: 'pending-ops' }, ...b.ops.map((op) => h('li', {}, h('span', { className: `badge action action-${op.type}`, text: op.type }), h('span', { text: op.text ?? op.memoryId ?? '' }))));
    pendingSection.append(
      h(
        'div',
        { className: 'pending-batch' },
        h('div', { className: 'pending-reason', text: b.reason }),
        b.fact ? h('div', { className: 'hint', text: `From: ${b.fact}` }) : null,
        ops,
        h('div', { className: 'form-buttons' }, textButton('Approve', () => post({ type: 'approve', batchId: b.id }), false, 'check'), textButton('Reject', () => post({ type: 'reject', batchId: b.id }), true, 'close')),
      ),
    );
  }
}

// ------------------------------------------------------------------ details and timeline

const detailsBody = h('div', { className: 'details-body' });
const timeline = h('ol', { className: 'timeline', attrs: { 'aria-label': 'History' } });
const timelineTitle = h('h2', { className: 'section-title' });

function currentMemory(): MemoryView | undefined {
  return state.history?.memory ?? state.items.find((m) => m.id === state.selectedId);
}

function renderDetails(): void {
  clear(details);
  const m = currentMemory();
  if (!state.selectedId || !m) {
    setAttrs(details, { hidden: !state.selectedId });
    if (state.selectedId && state.history && !state.history.memory) {
      details.append(h('p', { className: 'hint', text: 'This memory no longer exists.' }), textButton('Close', () => deselect(), true));
    }
    return;
  }
  setAttrs(details, { hidden: false });
  const actions = h('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': 'Memory actions' } });
  actions.append(iconButton('edit', 'Edit memory', () => startEdit()));
  actions.append(m.pinned ? iconButton('pinned', 'Unpin memory', () => post({ type: 'unpin', id: m.id })) : iconButton('pin', 'Pin memory', () => post({ type: 'pin', id: m.id })));
  actions.append(m.status === 'active' ? iconButton('trash', 'Delete memory', () => post({ type: 'delete', id: m.id })) : iconButton('discard', 'Restore memory', () => post({ type: 'restore', id: m.id })));
  actions.append(iconButton('close', 'Close details', () => deselect()));

  details.append(h('div', { className: 'details-header' }, h('h2', { className: 'section-title', text: 'Memory' }), actions));
  clear(detailsBody);
  if (state.editing) detailsBody.append(renderEditor(m));
  else detailsBody.append(h('p', { className: 'memory-text', text: m.text }));
  const dl = h('dl', { className: 'meta-grid' });
  const row = (k: string, v: Node | string): void => {
    dl.append(h('dt', { text: k }), h('dd', {}, v));
  };
  row('Status', h('span', { className: `badge status status-${m.status}`, text: m.status }));
  row('Source', h('span', { className: 'source', attrs: { title: sourceLabel(m.source, { full: true }) } }, icon(sourceIcon(m.source.kind)), h('span', { text: sourceLabel(m.source) })));
  row('Created', formatTime(m.createdAt));
  row('Updated', formatTime(m.updatedAt));
  if (m.eventTime) row('Refers to', formatTime(m.eventTime));
  if (m.validTo) row('Valid until', formatTime(m.validTo));
  if (m.supersededBy) row('Replaced by', linkToMemory(m.supersededBy));
  if (m.supersedes) row('Replaces', linkToMemory(m.supersedes));
  row('Tags', m.tags.length ? h('span', { className: 'tags' }, ...m.tags.map((t) => h('span', { className: 'tag', text: t }))) : '—');
  row('Pinned', m.pinned ? 'yes' : 'no');
  detailsBody.append(dl);
  details.append(detailsBody, timelineTitle, timeline);
  renderTimelineOnly();
}

function renderEditor(m: MemoryView): HTMLElement {
  const area = h('textarea', { className: 'input textarea', attrs: { rows: 4, 'aria-label': 'Memory text' } });
  area.value = m.text;
  const tags = h('input', { className: 'input', attrs: { type: 'text', 'aria-label': 'Tags, comma separated', placeholder: 'Tags, comma separated' } });
  tags.value = m.tags.join(', ');
  const saveEdit = (): void => {
    const text = area.value;
    const newTags = parseTags(tags.value);
    if (text.trim() !== m.text) post({ type: 'edit', id: m.id, text });
    if (newTags.join('\u0000') !== m.tags.join('\u0000')) post({ type: 'setTags', id: m.id, tags: newTags });
    state.editing = false;
    renderDetails();
  };
  const cancel = (): void => {
    state.editing = false;
    renderDetails();
  };
  const onKey = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      saveEdit();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      cancel();
    }
  };
  area.addEventListener('keydown', onKey);
  tags.addEventListener('keydown', onKey);
  queueMicrotask(() => area.focus());
  return h('div', { className: 'editor' }, area, tags, h('div', { className: 'form-buttons' }, textButton('Save', saveEdit), textButton('Cancel', cancel, true)));
}

function startEdit(): void {
  state.editing = true;
  renderDetails();
}

function renderTimelineOnly(): void {
  clear(timeline);
  const records = state.history?.records ?? [];
  timelineTitle.textContent = state.history ? `History (${records.length})` : 'History…';
  for (let i = records.length - 1; i >= 0; i--) timeline.append(renderRecord(records[i]));
}

/** A button that opens another memory (the one that replaced this one, or the one it replaced). */
function linkToMemory(id: string): HTMLElement {
  const b = h('button', { className: 'link-button', text: `memory ${id.slice(0, 8)}`, attrs: { type: 'button', title: 'Show this memory' } });
  b.addEventListener('click', () => {
    state.selectedId = id;
    state.editing = false;
    state.history = undefined;
    save();
    markSelected();
    renderDetails();
    post({ type: 'select', id });
  });
  return b;
}

function renderRecord(r: HistoryRecordView): HTMLLIElement {
  const head = h(
    'div',
    { className: 'record-head' },
    h('span', { className: `badge action action-${r.action}`, text: r.action, attrs: { title: ACTION_LABELS[r.action] ?? r.action } }),
    h('time', { className: 'date', text: formatTime(r.time), attrs: { datetime: r.time, title: r.time } }),
    r.undoneBy ? h('span', { className: 'badge undone', text: 'undone' }) : null,
  );
  const undoLabel = r.undoable
    ? `Undo ${r.action} from ${formatTime(r.time)}`
    : r.undoneBy
      ? 'Already undone'
      : 'Later changes must be undone first';
  const canHaveUndo = r.action !== 'NOOP' && r.action !== 'UNDO';
  if (canHaveUndo) {
    const undo = iconButton('discard', undoLabel, () => post({ type: 'undo', opId: r.opId }), { className: 'undo-button' });
    if (!r.undoable) setAttrs(undo, { disabled: true });
    head.append(undo);
    // A manager run, an import or "clear" changed several memories at once: undo them together.
    if (r.undoable && r.batchOperations) {
      head.append(iconButton('layers', `Undo all ${r.batchOperations} operations of this batch`, () => post({ type: 'undoBatch', batchId: r.batchId }), { className: 'undo-batch-button' }));
    }
  }
  const body = h('div', { className: 'record-body' });
  const before = r.before;
  const after = r.after;
  if (before && after && before.text !== after.text) {
    const diff = h('div', { className: 'diff', attrs: { 'aria-label': 'Text change' } });
    for (const part of wordDiff(before.text, after.text)) {
      diff.append(part.kind === 'same' ? document.createTextNode(part.text) : h(part.kind === 'add' ? 'ins' : 'del', { className: `diff-${part.kind}`, text: part.text }));
    }
    body.append(diff);
  } else if (after && !before) {
    body.append(h('div', { className: 'diff' }, h('ins', { className: 'diff-add', text: after.text })));
  } else if (!after && r.fact && r.action === 'NOOP') {
    // NOOP: nothing changed; the fact below says what was considered.
  }
  const changes: string[] = [];
  if (before && after && before.status !== after.status) changes.push(`${before.status} → ${after.status}`);
  if (r.action === 'SUPERSEDE' && after?.validTo) changes.push(`valid until ${formatTime(after.validTo)}`);
  if (before && after && before.pinned !== after.pinned) changes.push(after.pinned ? 'pinned' : 'unpinned');
  if (before && after && before.tags.join(',') !== after.tags.join(',')) changes.push(`tags: ${before.tags.join(', ') || '—'} → ${after.tags.join(', ') || '—'}`);
  if (changes.length) body.append(h('div', { className: 'change', text: changes.join(' · ') }));
  const meta = h('dl', { className: 'record-meta' });
  const add = (k: string, v: string | undefined, title?: string): void => {
    if (v) meta.append(h('dt', { text: k }), h('dd', { text: v, attrs: title ? { title } : {} }));
  };
  add('Reason', r.reason);
  add('Fact', r.fact);
  add('Engine', r.guard);
  if (r.action === 'SUPERSEDE' && after?.supersededBy) meta.append(h('dt', { text: 'Replaced by' }), h('dd', {}, linkToMemory(after.supersededBy)));
  if (after?.supersedes && r.action !== 'UNDO') meta.append(h('dt', { text: 'Replaces' }), h('dd', {}, linkToMemory(after.supersedes)));
  add('Source', sourceLabel(r.source), sourceLabel(r.source, { full: true }));
  if (r.actor && r.actor !== r.source?.actor) add('By', r.actor);
  add('Model', r.model);
  if (meta.childElementCount) body.append(meta);
  return h('li', { className: `record action-${r.action}${r.undoneBy ? ' is-undone' : ''}` }, head, body);
}

// ------------------------------------------------------------------ add form, banners

function toggleAddForm(open: boolean): void {
  state.adding = open;
  setAttrs(addForm, { hidden: !open });
  setAttrs(addToggle, { 'aria-expanded': open ? 'true' : 'false' });
  if (open) addText.focus();
}

function submitAdd(): void {
  const text = addText.value;
  if (!text.trim()) {
    showError('A memory needs some text.');
    addText.focus();
    return;
  }
  post({ type: 'add', text, tags: parseTags(addTags.value) });
  addText.value = '';
  addTags.value = '';
  toggleAddForm(false);
}

addForm.addEventListener('submit', (e) => {
  e.preventDefault();
  submitAdd();
});
addText.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    submitAdd();
  } else if (e.key === 'Escape') toggleAddForm(false);
});

function showError(message: string): void {
  clear(errorBanner);
  errorBanner.append(icon('error'), h('span', { className: 'banner-text', text: message }), iconButton('close', 'Dismiss error', () => setAttrs(errorBanner, { hidden: true })));
  setAttrs(errorBanner, { hidden: false });
}

let noticeTimer: ReturnType<typeof setTimeout> | undefined;
function showNotice(message: string): void {
  noticeLine.textContent = message;
  if (noticeTimer) clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (noticeLine.textContent = ''), 4000);
}

// ------------------------------------------------------------------ start

restoreSaved();
syncFilterControls();
renderList();
setAttrs(emptyState, { hidden: true });
setAttrs(loadMoreButton, { hidden: true });
post({ type: 'ready', query: state.query, selectedId: state.selectedId });
