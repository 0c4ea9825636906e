// Memories checked against the workspace as it changes: a save, a rename, a delete or create re-checks
// the memories citing those paths; a commit or branch switch, and the window's start, re-check every cited
// memory a bounded slice at a time. No model is called here: flagged memories wait for the user's review
// (Project Memory: Review Memories That Need Review), shown in the status bar and the panel.
import * as vscode from 'vscode';
import type { MemoryBank } from '../../core/bank/memoryBank';
import { type CheckReport, type FreshnessChecker, freshnessFor } from '../../core/evidence/freshness';
import { FolderWorkspace } from '../../core/evidence/workspace';
import { SECTION } from '../settings';
import type { ProjectMemory } from '../projectMemory';

/** Changes within this long are checked together (a "save all", a refactoring's renames). */
const DEBOUNCE_MS = 400;
/** Memories one full check looks at before yielding; the rest follow in the next slice. */
const FULL_CHECK_SLICE = 500;

export interface FreshnessSettings {
  enabled: boolean;
  /** 0: off. */
  expireAfterDays: number;
}

export function readFreshnessSettings(): FreshnessSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const days = Number(cfg.get('freshness.expireAfterDays', 0));
  return { enabled: cfg.get<boolean>('freshness.enabled', true) !== false, expireAfterDays: Number.isFinite(days) && days > 0 ? Math.floor(days) : 0 };
}

export class FreshnessService implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];
  private paths = new Set<string>();
  private renames = new Map<string, string>();
  private full = false;
  /** New or rewritten memories are waiting to be cited. */
  private citeNew = false;
  private followed: MemoryBank | undefined;
  private bankSubscription: { dispose(): void } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly status: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<CheckReport>();
  /** Fires after each check (tests and the status bar follow it). */
  readonly onDidCheck = this.changed.event;

  constructor(private readonly pm: ProjectMemory) {
    this.status = vscode.window.createStatusBarItem('projectMemory.needsReview', vscode.StatusBarAlignment.Left, 10);
    this.status.name = vscode.l10n.t('Project Memory: memories that need review');
    this.status.command = 'projectMemory.reviewFlagged';
  }

  /** The workspace folder memories are checked against (the bank is per workspace: its first folder). */
  get root(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  start(): void {
    if (this.disposables.length) return;
    const folder = vscode.workspace.workspaceFolders?.[0];
    this.disposables.push(
      this.status,
      this.changed,
      vscode.workspace.onDidSaveTextDocument((d) => this.queue([d.uri])),
      vscode.workspace.onDidRenameFiles((e) => {
        for (const f of e.files) {
          const from = this.relative(f.oldUri);
          const to = this.relative(f.newUri);
          if (from && to) this.renames.set(from, to);
        }
        this.queue(e.files.flatMap((f) => [f.oldUri, f.newUri]));
      }),
      vscode.workspace.onDidDeleteFiles((e) => this.queue(e.files)),
      vscode.workspace.onDidCreateFiles((e) => this.queue(e.files)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.freshness`)) this.queueFull();
      }),
    );
    if (folder) {
      // Files created or deleted outside the editor (a terminal `mv`, a generator): VS Code's own rename and
      // delete events only cover what it did itself. Changes are left to saves.
      const files = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'), false, true, false);
      this.disposables.push(files, files.onDidCreate((u) => this.queue([u])), files.onDidDelete((u) => this.queue([u])));
      // A commit, checkout or branch switch moves HEAD: every cited memory is checked again.
      for (const glob of ['.git/HEAD', '.git/logs/HEAD']) {
        const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob));
        this.disposables.push(w, w.onDidChange(() => this.queueFull()), w.onDidCreate(() => this.queueFull()));
      }
    }
    // The window's start: files may have changed while it was closed.
    this.queueFull();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.bankSubscription?.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
  }

  private relative(uri: vscode.Uri): string | undefined {
    const root = this.root;
    if (uri.scheme !== 'file' || !root) return undefined;
    const rel = vscode.workspace.asRelativePath(uri, false);
    return rel === uri.fsPath ? undefined : rel.replace(/\\/g, '/');
  }

  private queue(uris: readonly vscode.Uri[]): void {
    for (const u of uris) {
      const rel = this.relative(u);
      if (rel && !rel.startsWith('.git/')) this.paths.add(rel);
    }
    this.schedule();
  }

  queueFull(): void {
    this.full = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.runQueued()).catch((err) => this.pm.log.warn(`Checking memories against the workspace failed: ${String(err)}`));
    }, DEBOUNCE_MS);
  }

  /** Runs what is queued now (tests and the check command). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = this.running.then(() => this.runQueued());
    }
    await this.running;
  }

  private async runQueued(): Promise<void> {
    const root = this.root;
    if (!root || !this.pm.isTrusted || !readFreshnessSettings().enabled) {
      this.paths.clear();
      this.renames.clear();
      this.full = false;
      return;
    }
    const full = this.full;
    const paths = [...this.paths];
    const renames = new Map(this.renames);
    this.paths.clear();
    this.renames.clear();
    this.full = false;
    const citeNew = this.citeNew;
    this.citeNew = false;
    if (!full && !paths.length && !citeNew) return;
    // A workspace that never had a memory has nothing to check: its bank is not created for that.
    if (!this.pm.peekBankSync() && this.pm.bankFolderIsEmpty()) return;
    const bank = await this.pm.getBank();
    this.follow(bank);
    const checker = freshnessFor(bank);
    const ws = new FolderWorkspace(root);
    if (!full && !paths.length) {
      await checker.cite(ws);
      return;
    }
    const started = performance.now();
    const report = await checker.check(ws, full ? { limit: FULL_CHECK_SLICE, renames } : { paths, renames });
    this.pm.log.debug(`Checked ${report.checked} memories against the workspace (${full ? 'all' : paths.join(', ')}): ${report.flagged.length} flagged, ${report.cleared.length} cleared, ${report.reads} files read, ${(performance.now() - started).toFixed(1)} ms.`);
    for (const f of report.flagged) this.pm.log.info(`Memory ${f.memoryId.slice(0, 8)} needs review: ${f.changes.join('; ')}`);
    if (full && report.remaining > 0) this.full = true;
    // Once per full pass (its last slice), not on every slice.
    else if (full) await this.expireIfDue(bank);
    this.showStatus(checker);
    this.changed.fire(report);
    if (this.full) this.schedule();
  }

  /** Memories the manager or the user just wrote are cited soon after (what they name, as the workspace is now). */
  private follow(bank: MemoryBank): void {
    if (this.followed === bank) return;
    this.bankSubscription?.dispose();
    this.followed = bank;
    this.bankSubscription = bank.onDidChange((e) => {
      if (e.records.some((r) => r.after?.status === 'active' && r.action !== 'NOOP')) {
        this.citeNew = true;
        this.schedule();
      }
    });
  }

  /** With projectMemory.freshness.expireAfterDays set, memories unused that long are retired in one undoable batch (after a full check: window start, commit, branch switch). */
  private async expireIfDue(bank: MemoryBank): Promise<void> {
    const days = readFreshnessSettings().expireAfterDays;
    if (!days) return;
    const recs = await freshnessFor(bank).expire(days);
    if (!recs.length) return;
    const undo = vscode.l10n.t('Undo');
    void vscode.window
      .showInformationMessage(vscode.l10n.t('Project Memory retired {0} memories neither changed, confirmed nor used for {1} days.', recs.length, days), undo)
      .then(async (choice) => {
        if (choice === undo) await bank.undoBatch(recs[0].batchId);
      });
  }

  showStatus(checker: FreshnessChecker): void {
    const n = checker.ledger.flagged().length;
    if (!n) {
      this.status.hide();
      return;
    }
    this.status.text = `$(warning) ${n === 1 ? vscode.l10n.t('1 memory needs review') : vscode.l10n.t('{0} memories need review', n)}`;
    this.status.tooltip = vscode.l10n.t('Files these memories cite have changed. Click to let the Memory Manager review them.');
    this.status.show();
  }
}
