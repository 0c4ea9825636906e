// Host side of the memory side panel: serves the page, validates every message, calls the bank.
import * as vscode from 'vscode';
import type { Disposable as BankDisposable } from '../../core/api';
import type { MemoryBank } from '../../core/bank/memoryBank';
import { BankError } from '../../core/errors';
import type { HistoryRecord, Memory, MemorySnapshot } from '../../core/types';
import {
  PAGE_SIZE,
  checkPageMessage,
  type HistoryRecordView,
  type HostMessage,
  type MemoryView,
  type SourceView,
  type PageMessage,
  type PanelQuery,
  type PendingBatchView,
  type SnapshotView,
} from '../../webview/protocol';
import { panelHtml } from './panelHtml';
import { type SourceEvent, describeSource } from '../../core/provenance';
import { describeEvidence } from '../../core/evidence/evidence';
import { freshnessFor } from '../../core/evidence/freshness';
import type { EvidenceLedger } from '../../core/evidence/ledger';

/** A refresh after a change re-sends everything the page has loaded, up to this many rows. */
const MAX_REFRESH_ROWS = 5000;
/** Bursts of bank changes (one ingest, a batch) coalesce into one refresh. */
const REFRESH_DELAY_MS = 25;

export class MemoryPanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'projectMemory.panel';

  private view: vscode.WebviewView | undefined;
  private viewSubscriptions: vscode.Disposable[] = [];
  private ready = false;
  /** Messages posted before the page said `ready`; state/history are recomputed instead of queued. */
  private outbox: HostMessage[] = [];
  private query: PanelQuery = { text: '', status: 'active', offset: 0, limit: PAGE_SIZE };
  private loadedRows = 0;
  private selectedId: string | undefined;
  private pendingReveal: string | undefined;
  private subscribedBank: MemoryBank | undefined;
  private bankSubscription: BankDisposable | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private lastChange: { external: boolean; records: number } | undefined;
  private dirty = false;
  private busyCount = 0;
  private disposed = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly getBank: () => Promise<MemoryBank>,
    private readonly log: vscode.LogOutputChannel,
    /** projectMemory.freshness.expireAfterDays (0: off), read when the page's state is sent. */
    private readonly expireAfterDays: () => number = () => 0,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    this.ready = false;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    const uri = (base: vscode.Uri, ...p: string[]): string => view.webview.asWebviewUri(vscode.Uri.joinPath(base, ...p)).toString();
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      scriptUri: uri(dist, 'webview.js'),
      styleUri: uri(media, 'panel.css'),
      codiconUri: uri(dist, 'codicons', 'codicon.css'),
      // The page has no vscode API: its strings come from the bundle VS Code loaded for the display language.
      l10n: vscode.l10n.bundle,
      language: vscode.env.language,
    });
    this.viewSubscriptions.push(
      view.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      view.onDidDispose(() => {
        if (this.view === view) this.disposeView();
      }),
      view.onDidChangeVisibility(() => {
        if (view.visible && this.dirty) this.scheduleRefresh();
      }),
    );
    // Open the bank early so its changes are followed even before the page is ready.
    void this.bank().catch(() => undefined);
  }

  /** Focuses the view and, when given, selects that memory (chat citations link here). */
  async reveal(memoryId?: string): Promise<void> {
    if (memoryId) this.pendingReveal = memoryId;
    try {
      if (this.view) this.view.show(false);
      else await vscode.commands.executeCommand(`${MemoryPanelProvider.viewType}.focus`);
    } catch (err) {
      this.log.warn(`Memory panel: could not focus the view: ${String(err)}`);
    }
    if (this.ready) await this.flushReveal();
  }

  dispose(): void {
    this.disposed = true;
    this.disposeView();
    this.bankSubscription?.dispose();
    this.bankSubscription = undefined;
    this.subscribedBank = undefined;
  }

  // ---------------------------------------------------------------- messages in

  private async receive(raw: unknown): Promise<void> {
    const checked = checkPageMessage(raw);
    if (!checked.ok) {
      this.log.warn(`Memory panel: refused a message from the page: ${checked.error}`);
      return;
    }
    try {
      await this.handle(checked.message);
    } catch (err) {
      this.reportError(checked.message.type, err);
    }
  }

  private async handle(msg: PageMessage): Promise<void> {
    switch (msg.type) {
      case 'ready': {
        if (msg.query) this.query = { ...msg.query, offset: 0 };
        if (msg.selectedId) this.selectedId = msg.selectedId;
        const queued = this.outbox;
        this.outbox = [];
        this.ready = true;
        this.loadedRows = 0;
        // The first state may wait for the bank to open (seconds for a large one): show progress meanwhile.
        this.setBusy(+1);
        try {
          await this.sendState(0, Math.max(PAGE_SIZE, this.query.limit));
        } finally {
          this.setBusy(-1);
        }
        if (this.selectedId) await this.sendHistory(this.selectedId);
        for (const m of queued) void this.post(m);
        await this.flushReveal();
        return;
      }
      case 'query':
        this.query = msg.query;
        await this.sendState(msg.query.offset, msg.query.limit);
        return;
      case 'select':
        this.selectedId = msg.id;
        await this.sendHistory(msg.id);
        return;
      case 'deselect':
        this.selectedId = undefined;
        return;
      case 'edit':
        await this.act('edit', (b) => b.edit(msg.id, msg.text));
        return;
      case 'setTags':
        await this.act('set tags', (b) => b.setTags(msg.id, msg.tags));
        return;
      case 'setKind':
        await this.act('set kind', (b) => b.setKind(msg.id, msg.kind || undefined));
        return;
      case 'delete':
        await this.act('delete', (b) => b.delete(msg.id), vscode.l10n.t('Memory deleted. Undo is in its history.'));
        return;
      case 'restore':
        await this.act('restore', (b) => b.restore(msg.id), vscode.l10n.t('Memory restored.'));
        return;
      case 'pin':
      case 'unpin':
        await this.act(msg.type, (b) => b.setPinned(msg.id, msg.type === 'pin'));
        return;
      case 'undo':
        await this.act('undo', (b) => b.undo(msg.opId), vscode.l10n.t('Undone.'));
        return;
      case 'undoBatch': {
        const res = await this.act('undo batch', (b) => b.undoBatch(msg.batchId));
        if (res) {
          const message = res.skipped.length
            ? vscode.l10n.t('Undid {0} operations. {1} changed since and stayed as they are.', res.operations, res.skipped.length)
            : vscode.l10n.t('Undid {0} operations.', res.operations);
          void this.post({ type: 'notice', message });
        }
        return;
      }
      case 'add': {
        const rec = await this.act('add', (b) => b.addManual(msg.text, { tags: msg.tags, ...(msg.kind ? { kind: msg.kind } : {}) }), vscode.l10n.t('Memory added.'));
        if (rec) {
          this.pendingReveal = rec.memoryId;
          await this.flushReveal();
        }
        return;
      }
      case 'approve':
        await this.act('approve', (b) => b.side.resolvePending(msg.batchId, true), vscode.l10n.t('Held operations applied.'));
        return;
      case 'reject':
        await this.act('reject', (b) => b.side.resolvePending(msg.batchId, false), vscode.l10n.t('Held operations discarded.'));
        return;
      case 'clearAll':
        await this.clearAll();
        return;
      case 'review':
      case 'stillTrue':
        // The commands own the workspace, the models, progress and undo: the panel is one more way to run them.
        await vscode.commands.executeCommand(msg.type === 'review' ? 'projectMemory.reviewFlagged' : 'projectMemory.markStillTrue', msg.id);
        return;
      case 'openSource':
        await vscode.commands.executeCommand('projectMemory.openMemorySource', msg.id);
        return;
    }
  }

  private async clearAll(): Promise<void> {
    const bank = await this.bank();
    const active = bank.list({ status: 'active', limit: 0 }).counts.active;
    if (active === 0) {
      void this.post({ type: 'notice', message: vscode.l10n.t('There are no active memories to delete.') });
      return;
    }
    const confirm = vscode.l10n.t('Delete All');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Delete all {0} active memories?', active),
      { modal: true, detail: vscode.l10n.t('They are soft-deleted: history is kept and each deletion can be undone from the panel.') },
      confirm,
    );
    if (choice !== confirm) {
      this.log.info('Memory panel: delete all cancelled.');
      return;
    }
    await this.act('delete all', (b) => b.clear(), vscode.l10n.t('Deleted {0} memories.', active));
  }

  /** Runs one bank action with the busy indicator; errors go to the page and the log. */
  private async act<T>(label: string, fn: (bank: MemoryBank) => Promise<T>, notice?: string): Promise<T | undefined> {
    this.setBusy(+1);
    try {
      const bank = await this.bank();
      const result = await fn(bank);
      this.log.info(`Memory panel: ${label} done.`);
      if (notice) void this.post({ type: 'notice', message: notice });
      this.scheduleRefresh();
      return result;
    } catch (err) {
      this.reportError(label, err);
      return undefined;
    } finally {
      this.setBusy(-1);
    }
  }

  private reportError(label: string, err: unknown): void {
    if (err instanceof BankError) {
      this.log.warn(`Memory panel: ${label} refused (${err.code}): ${err.message}`);
      void this.post({ type: 'error', message: err.message });
    } else {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(`Memory panel: ${label} failed: ${message}`);
      void this.post({ type: 'error', message: vscode.l10n.t('Could not {0}: {1}', label, message) });
    }
  }

  private setBusy(delta: number): void {
    const was = this.busyCount > 0;
    this.busyCount = Math.max(0, this.busyCount + delta);
    const now = this.busyCount > 0;
    if (was !== now) void this.post({ type: 'busy', busy: now });
  }

  // ---------------------------------------------------------------- messages out

  private async bank(): Promise<MemoryBank> {
    let bank: MemoryBank;
    try {
      bank = await this.getBank();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn(`Memory panel: no memory bank: ${message}`);
      void this.post({ type: 'noBank', message });
      throw err;
    }
    if (bank !== this.subscribedBank && !this.disposed) {
      this.bankSubscription?.dispose();
      this.subscribedBank = bank;
      this.bankSubscription = bank.onDidChange((e) => {
        this.lastChange = { external: !!e.external, records: e.records.length };
        this.scheduleRefresh();
      });
    }
    return bank;
  }

  private scheduleRefresh(): void {
    if (!this.view || !this.ready) {
      this.dirty = true;
      return;
    }
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  /** Re-sends what the page shows (same query, all loaded rows, the selection) after a change. */
  private async refresh(): Promise<void> {
    if (!this.view || !this.ready) {
      this.dirty = true;
      return;
    }
    if (!this.view.visible) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    try {
      if (this.lastChange) void this.post({ type: 'changed', ...this.lastChange });
      this.lastChange = undefined;
      await this.sendState(0, Math.min(MAX_REFRESH_ROWS, Math.max(PAGE_SIZE, this.loadedRows)));
      if (this.selectedId) await this.sendHistory(this.selectedId);
    } catch (err) {
      this.reportError('refresh', err);
    }
  }

  private async sendState(offset: number, limit: number): Promise<void> {
    const bank = await this.bank();
    const q = this.query;
    const res = bank.list({ text: q.text || undefined, status: q.status, tag: q.tag || undefined, pinned: q.pinned, kinds: q.kind ? [q.kind] : undefined, offset, limit });
    this.loadedRows = offset + res.items.length;
    // Flags another window wrote are read here: the ledger folds what was appended since.
    const checker = freshnessFor(bank);
    const ledger = checker.ledger;
    ledger.refresh();
    // With expiry on, the page marks what the next expiry would retire.
    const days = this.expireAfterDays();
    const expiring = days ? new Set(checker.expiring(days).map((m) => m.id)) : undefined;
    await this.post({
      type: 'state',
      query: { ...q, offset, limit },
      items: res.items.map((m) => memoryView(m, ledger, expiring)),
      total: res.total,
      counts: res.counts,
      offset,
      pending: pendingViews(bank),
      sharedBank: sharedBankView(bank),
    });
  }

  private async sendHistory(memoryId: string): Promise<void> {
    const bank = await this.bank();
    const memory = bank.get(memoryId);
    const sources = memory ? bank.sourcesOf(memoryId).map(sourceView) : [];
    await this.post({
      type: 'history',
      memoryId,
      memory: memory && memoryView(memory, freshnessFor(bank).ledger),
      records: historyViews(bank.history(memoryId), memory, (b) => bank.batchOperations(b)),
      ...(sources.length ? { sources } : {}),
    });
  }

  private async flushReveal(): Promise<void> {
    const id = this.pendingReveal;
    if (!id || !this.ready || !this.view) return;
    this.pendingReveal = undefined;
    this.selectedId = id;
    await this.post({ type: 'reveal', id });
    const bank = await this.bank();
    if (!bank.get(id)) {
      void this.post({ type: 'error', message: vscode.l10n.t("That memory is not in this workspace's memory bank.") });
      return;
    }
    await this.sendHistory(id);
  }

  private async post(msg: HostMessage): Promise<void> {
    if (!this.view || !this.ready) {
      if (msg.type !== 'state' && msg.type !== 'history' && msg.type !== 'busy' && msg.type !== 'changed') this.outbox.push(msg);
      return;
    }
    try {
      await this.view.webview.postMessage(msg);
    } catch (err) {
      this.log.warn(`Memory panel: could not post ${msg.type}: ${String(err)}`);
    }
  }

  private disposeView(): void {
    for (const d of this.viewSubscriptions) d.dispose();
    this.viewSubscriptions = [];
    this.view = undefined;
    this.ready = false;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
  }
}

// ------------------------------------------------------------------ views of engine data

function memoryView(m: Memory, ledger?: EvidenceLedger, expiring?: ReadonlySet<string>): MemoryView {
  const state = ledger?.state(m.id);
  return {
    id: m.id,
    text: m.text,
    status: m.status,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    eventTime: m.eventTime,
    source: { ...m.source },
    tags: [...m.tags],
    pinned: m.pinned,
    ...(m.kind ? { kind: m.kind } : {}),
    ...(m.validTo ? { validTo: m.validTo } : {}),
    ...(m.supersededBy ? { supersededBy: m.supersededBy } : {}),
    ...(m.supersedes ? { supersedes: m.supersedes } : {}),
    ...(state?.review && m.status === 'active' ? { review: { changes: [...state.review.changes], since: state.review.since } } : {}),
    ...(state?.evidence.length ? { evidence: state.evidence.map(describeEvidence) } : {}),
    ...(expiring?.has(m.id) ? { expiring: true } : {}),
  };
}

function snapshotView(s: MemorySnapshot | undefined): SnapshotView | undefined {
  return (
    s && {
      text: s.text,
      status: s.status,
      tags: [...s.tags],
      pinned: s.pinned,
      ...(s.validTo ? { validTo: s.validTo } : {}),
      ...(s.supersededBy ? { supersededBy: s.supersededBy } : {}),
      ...(s.supersedes ? { supersedes: s.supersedes } : {}),
    }
  );
}

function sameSnapshot(a: MemorySnapshot, m: Memory): boolean {
  return a.text === m.text && a.status === m.status && a.pinned === m.pinned && a.kind === m.kind && a.tags.join('\u0000') === m.tags.join('\u0000');
}

/** Adds undo state to a memory's records: which were undone, and which undo would succeed now. */
export function historyViews(records: HistoryRecord[], current: Memory | undefined, batchOperations?: (batchId: string) => number): HistoryRecordView[] {
  const undoneBy = new Map<string, string>();
  for (const r of records) if (r.action === 'UNDO' && r.undoes) undoneBy.set(r.undoes, r.opId);
  const sizes = new Map<string, number>();
  const batchSize = (r: HistoryRecord): number | undefined => {
    if (!batchOperations || r.action === 'NOOP' || r.action === 'UNDO') return undefined;
    let n = sizes.get(r.batchId);
    if (n === undefined) sizes.set(r.batchId, (n = batchOperations(r.batchId)));
    return n > 1 ? n : undefined;
  };
  return records.map((r) => ({
    seq: r.seq,
    opId: r.opId,
    batchId: r.batchId,
    action: r.action,
    memoryId: r.memoryId,
    time: r.time,
    before: snapshotView(r.before),
    after: snapshotView(r.after),
    fact: r.fact,
    reason: r.reason,
    model: r.model,
    source: r.source && { ...r.source },
    actor: r.actor,
    guard: r.guard,
    undoes: r.undoes,
    undoneBy: undoneBy.get(r.opId),
    undoable:
      r.action !== 'NOOP' && r.action !== 'UNDO' && !undoneBy.has(r.opId) && !!r.after && !!current && sameSnapshot(r.after, current),
    ...(batchSize(r) ? { batchOperations: batchSize(r) } : {}),
  }));
}

function sharedBankView(bank: MemoryBank): { id: string; location: string } | undefined {
  const { kind, location } = bank.storageInfo;
  if (kind === 'file') return undefined;
  return { id: location.slice(location.lastIndexOf('#') + 1), location };
}

function pendingViews(bank: MemoryBank): PendingBatchView[] {
  return bank.side.pendingBatches().map((b) => ({
    id: b.id,
    reason: b.reason,
    time: b.time,
    fact: b.ctx.fact,
    ops: b.ops.map((op) => ({ type: op.type, memoryId: op.memoryId, text: op.text ?? (op.memoryId ? bank.get(op.memoryId)?.text : undefined), reason: op.reason })),
  }));
}

/** A kept source event as the page shows it: a label, and the text behind a disclosure. */
export function sourceView(s: SourceEvent): SourceView {
  return { label: describeSource(s), kind: s.kind, time: s.time, text: s.text, ...(s.clipped ? { clipped: s.clipped } : {}) };
}
