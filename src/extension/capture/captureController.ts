import * as vscode from 'vscode';
import * as fs from 'node:fs';
import {
  formatCommitEvent,
  formatDiagnosticFixedEvent,
  formatSaveEvent,
  formatTerminalEvent,
  isCapturedCommand,
  isWhitespaceOnlyChange,
  summarizeChange,
  type DiagnosticInfo,
} from '../../core/capture/eventFormat';
import type { SourceKind } from '../../core/types';
import { readCaptureSettings } from '../settings';
import { gitHead, gitIgnored, newCommits } from './git';
import { createPathFilter, type PathFilter } from './pathFilter';

export type CaptureSink = (kind: SourceKind, text: string, ref?: string) => void;

/** Timing knobs; tests shorten them. */
export interface CaptureTimings {
  saveDebounceMs: number;
  commitDebounceMs: number;
  /** An error must have been visible this long before its disappearance counts as a fix. */
  diagnosticMinOpenMs: number;
}

export const DEFAULT_TIMINGS: CaptureTimings = { saveDebounceMs: 4000, commitDebounceMs: 1500, diagnosticMinOpenMs: 15_000 };

const MAX_BASELINE_CHARS = 256 * 1024;
const MAX_BASELINES = 300;
const MAX_OUTPUT_CHARS = 16 * 1024;

interface OpenError extends DiagnosticInfo {
  since: number;
}

/**
 * Watches the workspace (saves, git commits, terminal commands, diagnostics that get fixed) and
 * turns each into a compact event text for `sink`. Excluded and git-ignored files never get there.
 */
export class CaptureController implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];
  private baselines = new Map<string, string>();
  private saveTimers = new Map<string, NodeJS.Timeout>();
  private commitTimers = new Map<string, NodeJS.Timeout>();
  private terminalOutput = new WeakMap<vscode.TerminalShellExecution, { text: string }>();
  private openErrors = new Map<string, Map<string, OpenError>>();
  private filter: PathFilter;
  private running = false;

  constructor(
    private readonly sink: CaptureSink,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
    private readonly timings: CaptureTimings = DEFAULT_TIMINGS,
  ) {
    this.filter = createPathFilter(readCaptureSettings().exclude);
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const doc of vscode.workspace.textDocuments) this.rememberBaseline(doc);
    const w = vscode.window as Partial<typeof vscode.window>;
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.rememberBaseline(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.baselines.delete(d.uri.toString())),
      vscode.workspace.onDidSaveTextDocument((d) => this.onSave(d)),
      vscode.languages.onDidChangeDiagnostics((e) => this.onDiagnostics(e.uris)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('projectMemory.capture.exclude')) this.filter = createPathFilter(readCaptureSettings().exclude);
      }),
    );
    // Shell integration events exist from VS Code 1.93; older hosts simply get no terminal capture.
    if (w.onDidStartTerminalShellExecution) this.disposables.push(w.onDidStartTerminalShellExecution((e) => this.onTerminalStart(e)));
    if (w.onDidEndTerminalShellExecution) this.disposables.push(w.onDidEndTerminalShellExecution((e) => void this.onTerminalEnd(e)));
    this.watchGit();
    for (const uri of vscode.languages.getDiagnostics().map(([u]) => u)) this.onDiagnostics([uri]);
  }

  stop(): void {
    this.running = false;
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
    for (const t of [...this.saveTimers.values(), ...this.commitTimers.values()]) clearTimeout(t);
    this.saveTimers.clear();
    this.commitTimers.clear();
  }

  dispose(): void {
    this.stop();
  }

  // ------------------------------------------------------------------ saves

  private rememberBaseline(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file') return;
    const text = doc.getText();
    if (text.length > MAX_BASELINE_CHARS) return;
    const key = doc.uri.toString();
    this.baselines.delete(key);
    this.baselines.set(key, text);
    if (this.baselines.size > MAX_BASELINES) this.baselines.delete(this.baselines.keys().next().value as string);
  }

  private onSave(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file' || !readCaptureSettings().saves) return;
    const key = doc.uri.toString();
    clearTimeout(this.saveTimers.get(key));
    // A burst of saves (format on save, auto save) becomes one event.
    const timer = setTimeout(() => {
      this.saveTimers.delete(key);
      void this.captureSave(doc).catch((err) => this.log.warn(`Capturing a save of ${doc.uri.fsPath} failed: ${String(err)}`));
    }, this.timings.saveDebounceMs);
    timer.unref?.();
    this.saveTimers.set(key, timer);
  }

  /** Flushes pending debounced saves now (used on deactivate and by tests). */
  async flushSaves(): Promise<void> {
    const pending = [...this.saveTimers.keys()];
    for (const t of this.saveTimers.values()) clearTimeout(t);
    this.saveTimers.clear();
    const docs = vscode.workspace.textDocuments.filter((d) => pending.includes(d.uri.toString()));
    await Promise.all(docs.map((d) => this.captureSave(d)));
  }

  private async captureSave(doc: vscode.TextDocument): Promise<void> {
    if (!this.running) return;
    const rel = await this.includedPath(doc.uri);
    if (rel === undefined) return;
    let text: string;
    try {
      text = doc.isClosed ? fs.readFileSync(doc.uri.fsPath, 'utf8') : doc.getText();
    } catch {
      return;
    }
    if (text.length > MAX_BASELINE_CHARS) return;
    const key = doc.uri.toString();
    const before = this.baselines.get(key);
    const change = summarizeChange(before, text);
    this.baselines.set(key, text);
    if ((change.added === 0 && change.removed === 0) || isWhitespaceOnlyChange(before, text)) return;
    this.sink('save', formatSaveEvent(rel, doc.languageId, change, before === undefined), rel);
  }

  /** Workspace-relative path when the file may be captured; undefined when excluded or ignored. */
  async includedPath(uri: vscode.Uri): Promise<string | undefined> {
    if (uri.scheme !== 'file') return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return undefined;
    const rel = vscode.workspace.asRelativePath(uri, false);
    if (this.filter.isExcluded(rel)) return undefined;
    const ignored = await gitIgnored(folder.uri.fsPath, [uri.fsPath]);
    if (ignored.size > 0) return undefined;
    return rel;
  }

  // ------------------------------------------------------------------ git

  private watchGit(): void {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const root = folder.uri.fsPath;
      // Watching the ref files catches commits made in a terminal or another tool, not only the SCM view.
      for (const glob of ['.git/logs/HEAD', '.git/HEAD', '.git/refs/heads/**']) {
        const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob));
        this.disposables.push(watcher, watcher.onDidChange(() => this.scheduleCommitCheck(root)), watcher.onDidCreate(() => this.scheduleCommitCheck(root)));
      }
      void this.checkCommits(root);
    }
    const gitExt = vscode.extensions.getExtension<{ getAPI(v: 1): GitApi }>('vscode.git');
    if (!gitExt) return;
    const hook = (api: GitApi) => {
      const watch = (repo: GitRepository) => this.disposables.push(repo.state.onDidChange(() => this.scheduleCommitCheck(repo.rootUri.fsPath)));
      api.repositories.forEach(watch);
      this.disposables.push(api.onDidOpenRepository(watch));
    };
    if (gitExt.isActive) {
      try {
        hook(gitExt.exports.getAPI(1));
      } catch (err) {
        this.log.warn(`The git extension API is unavailable: ${String(err)}`);
      }
    } else {
      void Promise.resolve(gitExt.activate()).then(
        (exp) => this.running && hook(exp.getAPI(1)),
        (err) => this.log.warn(`The git extension did not activate: ${String(err)}`),
      );
    }
  }

  scheduleCommitCheck(root: string): void {
    if (!this.running) return;
    clearTimeout(this.commitTimers.get(root));
    const t = setTimeout(() => {
      this.commitTimers.delete(root);
      void this.checkCommits(root).catch((err) => this.log.warn(`Checking commits in ${root} failed: ${String(err)}`));
    }, this.timings.commitDebounceMs);
    t.unref?.();
    this.commitTimers.set(root, t);
  }

  private checking = new Map<string, Promise<void>>();

  /** Captures commits made since the last check (each once: the last seen HEAD is kept in workspace state). */
  checkCommits(root: string): Promise<void> {
    const prev = this.checking.get(root) ?? Promise.resolve();
    const next = prev.then(() => this.doCheckCommits(root));
    this.checking.set(root, next.catch(() => undefined));
    return next;
  }

  private async doCheckCommits(root: string): Promise<void> {
    if (!this.running) return;
    const head = await gitHead(root);
    if (!head) return;
    const key = `projectMemory.git.${root}`;
    const seen = this.state.get<{ head: string; checkedAt: number; captured: string[] }>(key);
    if (!seen) {
      // First look at this repository: remember where it is, do not replay its whole history.
      await this.state.update(key, { head, checkedAt: Date.now(), captured: [] });
      return;
    }
    if (seen.head === head) return;
    const captured = new Set(seen.captured);
    const commits = readCaptureSettings().commits ? await newCommits(root, seen.head, new Date(seen.checkedAt - 60_000)) : [];
    for (const c of commits) {
      if (captured.has(c.sha)) continue;
      captured.add(c.sha);
      const files = c.files.filter((line) => !this.filter.isExcluded(line.split('|')[0].trim()));
      this.sink('commit', formatCommitEvent({ ...c, files }), c.sha);
    }
    await this.state.update(key, { head, checkedAt: Date.now(), captured: [...captured].slice(-200) });
  }

  // ------------------------------------------------------------------ terminal

  private onTerminalStart(e: vscode.TerminalShellExecutionStartEvent): void {
    const buf = { text: '' };
    this.terminalOutput.set(e.execution, buf);
    void (async () => {
      try {
        for await (const data of e.execution.read()) {
          buf.text = (buf.text + data).slice(-MAX_OUTPUT_CHARS);
        }
      } catch {
        /* the terminal went away */
      }
    })();
  }

  private async onTerminalEnd(e: vscode.TerminalShellExecutionEndEvent): Promise<void> {
    if (!this.running || !readCaptureSettings().terminal) return;
    const commandLine = e.execution.commandLine.value;
    if (!isCapturedCommand(commandLine, e.exitCode)) return;
    const cwdUri = e.execution.cwd;
    let cwd: string | undefined;
    if (cwdUri) {
      if (!vscode.workspace.getWorkspaceFolder(cwdUri)) return; // a command outside the project
      cwd = vscode.workspace.asRelativePath(cwdUri, true);
    }
    const output = e.exitCode ? this.terminalOutput.get(e.execution)?.text : undefined;
    this.sink('terminal', formatTerminalEvent(commandLine, e.exitCode, cwd, output), cwd);
  }

  // ------------------------------------------------------------------ diagnostics

  private onDiagnostics(uris: readonly vscode.Uri[]): void {
    if (!this.running) return;
    const now = Date.now();
    for (const uri of uris) {
      if (uri.scheme !== 'file') continue;
      const key = uri.toString();
      const current = new Map<string, OpenError>();
      for (const d of vscode.languages.getDiagnostics(uri)) {
        if (d.severity !== vscode.DiagnosticSeverity.Error) continue;
        const code = typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
        const k = `${d.source ?? ''}|${code ?? ''}|${d.message}`;
        current.set(k, { relPath: vscode.workspace.asRelativePath(uri, false), line: d.range.start.line + 1, message: d.message, source: d.source, code, since: now });
      }
      const prev = this.openErrors.get(key) ?? new Map<string, OpenError>();
      const fixed: OpenError[] = [];
      for (const [k, err] of prev) {
        if (current.has(k)) current.set(k, { ...current.get(k)!, since: err.since });
        else if (now - err.since >= this.timings.diagnosticMinOpenMs) fixed.push(err);
      }
      if (current.size) this.openErrors.set(key, current);
      else this.openErrors.delete(key);
      // Closing a file clears its diagnostics in many language servers: that is not a fix.
      const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === key);
      if (fixed.length && open && readCaptureSettings().diagnostics) void this.emitFixed(uri, fixed, now);
    }
  }

  private async emitFixed(uri: vscode.Uri, fixed: OpenError[], now: number): Promise<void> {
    const rel = await this.includedPath(uri);
    if (rel === undefined || !this.running) return;
    const text = fixed.map((f) => formatDiagnosticFixedEvent(f, now - f.since)).join('\n');
    this.sink('diagnostic', text, rel);
  }
}

// The parts of the built-in git extension's API this file uses.
interface GitRepository {
  rootUri: vscode.Uri;
  state: { onDidChange: vscode.Event<void> };
}
interface GitApi {
  repositories: GitRepository[];
  onDidOpenRepository: vscode.Event<GitRepository>;
}
