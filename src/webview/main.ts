// The memory side panel page: host message -> state update (state.ts) -> render(state) of the view
// parts (views/). Plain DOM; every piece of data is rendered with textContent.
import { h } from './dom';
import { configureL10nFromAttribute, setNumberLocale, t } from './l10n';
import { isHostMessage, type HostMessage, type PageMessage } from './protocol';
import * as S from './state';
import { createAddForm } from './views/addForm';
import { createBanners } from './views/banners';
import type { PanelContext } from './views/context';
import { createDetails } from './views/details';
import { createMemoryList } from './views/list';
import { createPending } from './views/pending';
import { createToolbar } from './views/toolbar';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const SEARCH_DEBOUNCE_MS = 200;
const NOTICE_MS = 4000;

const app = document.getElementById('app') ?? document.body.appendChild(h('div', { attrs: { id: 'app' } }));
// The host puts the translations for VS Code's display language on the root (see l10n.ts).
configureL10nFromAttribute(app.getAttribute('data-l10n'));
setNumberLocale(document.documentElement.lang);

let state = S.restoreSaved(S.initialState(), vscode.getState());
let searchTimer: ReturnType<typeof setTimeout> | undefined;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

function post(msg: PageMessage): void {
  vscode.postMessage(msg);
}

function save(): void {
  vscode.setState(S.toSaved(state));
}

function sendQuery(): void {
  if (searchTimer) clearTimeout(searchTimer);
  searchTimer = undefined;
  state = S.querySent(state);
  save();
  post({ type: 'query', query: state.query });
}

/** User actions: the state changes, then what the action asks of the host is sent. */
function dispatch(action: S.Action): void {
  const before = state;
  state = S.update(state, action);
  switch (action.type) {
    case 'setQuery':
    case 'clearFilters':
      if (action.type === 'setQuery' && action.debounce) {
        if (searchTimer) clearTimeout(searchTimer);
        searchTimer = setTimeout(sendQuery, SEARCH_DEBOUNCE_MS);
      } else {
        sendQuery();
      }
      break;
    case 'loadMore': {
      const next = S.nextPageQuery(before);
      if (state !== before && next) post({ type: 'query', query: next });
      break;
    }
    case 'select':
      if (state !== before) save();
      post({ type: 'select', id: action.id });
      break;
    case 'deselect':
      save();
      post({ type: 'deselect' });
      break;
  }
  render(state);
  if (action.type === 'deselect') list.focus();
}

const ctx: PanelContext = { dispatch, post, state: () => state };
const toolbar = createToolbar(ctx);
const banners = createBanners(ctx);
const addForm = createAddForm(ctx);
const pending = createPending(ctx);
const list = createMemoryList(ctx);
const details = createDetails(ctx);
toolbar.onArrowDown = () => list.focus();

app.append(banners.progress, toolbar.root, banners.error, banners.notice, addForm.root, pending.root, list.root, details.root);

function render(s: S.PanelState): void {
  toolbar.render(s);
  banners.render(s);
  addForm.render(s);
  pending.render(s);
  list.render(s);
  details.render(s);
}

function showNotice(message: string): void {
  state = S.onNotice(state, message);
  const seq = state.notice!.seq;
  if (noticeTimer) clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => dispatch({ type: 'clearNotice', seq }), NOTICE_MS);
}

function onHostMessage(msg: HostMessage): void {
  const before = state;
  switch (msg.type) {
    case 'state':
      state = S.onState(state, msg);
      break;
    case 'history':
      state = S.onHistory(state, msg);
      break;
    case 'error':
      state = S.onError(state, msg.message);
      break;
    case 'notice':
      showNotice(msg.message);
      break;
    case 'changed':
      if (msg.external) showNotice(t('Updated by another window.'));
      break;
    case 'reveal':
      state = S.onReveal(state, msg.id);
      save();
      break;
    case 'busy':
      state = S.onBusy(state, msg.busy);
      break;
    case 'noBank':
      state = S.onNoBank(state, msg.message);
      break;
  }
  render(state);
  if (msg.type === 'reveal') {
    if (state.items[state.activeIndex]?.id === msg.id) list.scrollToActive();
    list.focus();
  }
  if (msg.type === 'state' && state !== before) list.fillViewport();
}

window.addEventListener('message', (event: MessageEvent) => {
  const msg: unknown = event.data;
  if (isHostMessage(msg)) onHostMessage(msg);
});

render(state);
post({ type: 'ready', query: state.query, selectedId: state.selectedId });
