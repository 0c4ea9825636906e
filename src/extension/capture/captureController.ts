import * as vscode from 'vscode';
import * as fs from 'node:fs';
import type { CommitInfo } from '../../core/capture/eventFormat';
import {
  CAPTURE_SOURCES,
  DEFAULT_TIMINGS,
  type CaptureSink,
  type CaptureTimings,
  type HostDisposable,
  type HostDocument,
  type HostTerminalRun,
  type RunningSource,
  type WorkspaceHost,
} from '../../core/capture/sources';
import type { RunningCommits } from '../../core/capture/sources/commits';
import { readCaptureSettings } from '../settings';
import { gitHead, gitIgnored, newCommits } from './git';
import { createPathFilter, type PathFilter } from './pathFilter';

export type { CaptureSink, CaptureTimings };
export { DEFAULT_TIMINGS };

/**
 * The capture sources (src/core/capture/sources: saves, commits, terminal, diagnostics) running in VS Code:
 * this class is their WorkspaceHost, VS Code's events and files behind the small interface the sources use.
 * Excluded and git-ignored files never reach a source's event.
 */
export class CaptureController implements vscode.Disposable, WorkspaceHost {
  private running = new Map<string, RunningSource>();
  private disposables: vscode.Disposable[] = [];
  private filter: PathFilter;
  private readonly runs = new WeakMap<vscode.TerminalShellExecution, HostTerminalRun>();

  constructor(
    private readonly sink: CaptureSink,
    readonly memento: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
    readonly timings: CaptureTimings = DEFAULT_TIMINGS,
  ) {
    this.filter = createPathFilter(readCaptureSettings().exclude);
  }

  get isRunning(): boolean {
    return this.running.size > 0;
  }

  start(): void {
    if (this.running.size) return;
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('projectMemory.capture.exclude')) this.filter = createPathFilter(readCaptureSettings().exclude);
      }),
    );
    for (const source of CAPTURE_SOURCES) this.running.set(source.id, source.start(this, this.sink));
  }

  stop(): void {
    for (const r of this.running.values()) r.dispose();
    this.running.clear();
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
  }

  dispose(): void {
    this.stop();
  }

  /** Flushes pending debounced saves now (used on deactivate and by tests). */
  async flushSaves(): Promise<void> {
    await this.running.get('saves')?.flush?.();
  }

  /** Captures commits made since the last check of `root` (tests drive it directly). */
  async checkCommits(root: string): Promise<void> {
    await (this.running.get('commits') as RunningCommits | undefined)?.check(root);
  }

  // ------------------------------------------------------------------ WorkspaceHost

  switches() {
    return readCaptureSettings();
  }

  warn(message: string): void {
    this.log.warn(message);
  }

  get state(): WorkspaceHost['state'] {
    return this.memento;
  }

  openDocuments(): HostDocument[] {
    return vscode.workspace.textDocuments.map(hostDocument);
  }

  onDidOpen(cb: (doc: HostDocument) => void): HostDisposable {
    return vscode.workspace.onDidOpenTextDocument((d) => cb(hostDocument(d)));
  }

  onDidClose(cb: (doc: HostDocument) => void): HostDisposable {
    return vscode.workspace.onDidCloseTextDocument((d) => cb(hostDocument(d)));
  }

  onDidSave(cb: (doc: HostDocument) => void): HostDisposable {
    return vscode.workspace.onDidSaveTextDocument((d) => cb(hostDocument(d)));
  }

  readFile(file: string): string {
    return fs.readFileSync(file, 'utf8');
  }

  /** Workspace-relative path when the file may be captured; undefined when excluded or ignored. */
  async includedPath(doc: HostDocument): Promise<string | undefined> {
    return doc.path ? this.includedUri(vscode.Uri.file(doc.path)) : undefined;
  }

  async includedUri(uri: vscode.Uri): Promise<string | undefined> {
    if (uri.scheme !== 'file') return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return undefined;
    const rel = vscode.workspace.asRelativePath(uri, false);
    if (this.filter.isExcluded(rel)) return undefined;
    const ignored = await gitIgnored(folder.uri.fsPath, [uri.fsPath]);
    if (ignored.size > 0) return undefined;
    return rel;
  }

  isExcluded(relPath: string): boolean {
    return this.filter.isExcluded(relPath);
  }

  onTerminalStart(cb: (run: HostTerminalRun) => void): HostDisposable {
    // Shell integration events exist from VS Code 1.93; older hosts simply get no terminal capture.
    const w = vscode.window as Partial<typeof vscode.window>;
    return w.onDidStartTerminalShellExecution?.((e) => cb(this.run(e.execution))) ?? { dispose() {} };
  }

  onTerminalEnd(cb: (run: HostTerminalRun, exitCode: number | undefined) => void): HostDisposable {
    const w = vscode.window as Partial<typeof vscode.window>;
    return w.onDidEndTerminalShellExecution?.((e) => cb(this.run(e.execution), e.exitCode)) ?? { dispose() {} };
  }

  private run(execution: vscode.TerminalShellExecution): HostTerminalRun {
    let run = this.runs.get(execution);
    if (!run) {
      const cwdUri = execution.cwd;
      const inside = cwdUri ? !!vscode.workspace.getWorkspaceFolder(cwdUri) : true;
      run = {
        id: execution,
        commandLine: execution.commandLine.value,
        cwd: cwdUri && inside ? vscode.workspace.asRelativePath(cwdUri, true) : undefined,
        outside: !inside,
        read: () => execution.read(),
      };
      this.runs.set(execution, run);
    }
    return run;
  }

  onDiagnostics(cb: (keys: string[]) => void): HostDisposable {
    return vscode.languages.onDidChangeDiagnostics((e) => cb(e.uris.filter((u) => u.scheme === 'file').map((u) => u.toString())));
  }

  filesWithDiagnostics(): string[] {
    return vscode.languages
      .getDiagnostics()
      .map(([u]) => u)
      .filter((u) => u.scheme === 'file')
      .map((u) => u.toString());
  }

  errorsIn(key: string): { line: number; message: string; source?: string; code?: string }[] {
    return vscode.languages
      .getDiagnostics(vscode.Uri.parse(key))
      .filter((d) => d.severity === vscode.DiagnosticSeverity.Error)
      .map((d) => ({
        line: d.range.start.line + 1,
        message: d.message,
        source: d.source,
        code: typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code),
      }));
  }

  openDocument(key: string): HostDocument | undefined {
    const d = vscode.workspace.textDocuments.find((x) => x.uri.toString() === key);
    return d && hostDocument(d);
  }

  gitRoots(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  }

  /** Watching the ref files catches commits made in a terminal or another tool, not only the SCM view. */
  onGitChange(cb: (root: string) => void): HostDisposable[] {
    const subs: vscode.Disposable[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const root = folder.uri.fsPath;
      for (const glob of ['.git/logs/HEAD', '.git/HEAD', '.git/refs/heads/**']) {
        const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob));
        subs.push(watcher, watcher.onDidChange(() => cb(root)), watcher.onDidCreate(() => cb(root)));
      }
    }
    const gitExt = vscode.extensions.getExtension<{ getAPI(v: 1): GitApi }>('vscode.git');
    if (!gitExt) return subs;
    let live = true;
    subs.push({ dispose: () => (live = false) });
    const hook = (api: GitApi) => {
      const watch = (repo: GitRepository) => subs.push(repo.state.onDidChange(() => cb(repo.rootUri.fsPath)));
      api.repositories.forEach(watch);
      subs.push(api.onDidOpenRepository(watch));
    };
    if (gitExt.isActive) {
      try {
        hook(gitExt.exports.getAPI(1));
      } catch (err) {
        this.log.warn(`The git extension API is unavailable: ${String(err)}`);
      }
    } else {
      void Promise.resolve(gitExt.activate()).then(
        (exp) => live && hook(exp.getAPI(1)),
        (err) => this.log.warn(`The git extension did not activate: ${String(err)}`),
      );
    }
    // Disposed late (after the activation above): a list the caller disposes in full.
    return [{ dispose: () => subs.forEach((s) => s.dispose()) }];
  }

  gitHead(root: string): Promise<string | undefined> {
    return gitHead(root);
  }

  newCommits(root: string, since: string, notBefore: Date): Promise<CommitInfo[]> {
    return newCommits(root, since, notBefore);
  }
}

function hostDocument(d: vscode.TextDocument): HostDocument {
  return { key: d.uri.toString(), path: d.uri.scheme === 'file' ? d.uri.fsPath : undefined, languageId: d.languageId, isClosed: d.isClosed, getText: () => d.getText() };
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
