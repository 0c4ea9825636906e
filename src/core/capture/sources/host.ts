// What a capture source needs of the editor it runs in, and what a source is. The VS Code extension
// implements WorkspaceHost (src/extension/capture/captureController.ts); a test implements it with plain
// objects, so a source is tested without VS Code. Never imports vscode.
import type { CommitInfo } from '../eventFormat';
import type { SourceKind } from '../../types';

export interface HostDisposable {
  dispose(): void;
}

/** A text document as a source sees it. */
export interface HostDocument {
  /** Stable identity (a URI). */
  key: string;
  /** Absolute file path; undefined for a document that is not a file. */
  path?: string;
  languageId: string;
  isClosed: boolean;
  getText(): string;
}

/** A terminal command as it started and ended. */
export interface HostTerminalRun {
  /** Identity shared by the start and the end of one run. */
  id: object;
  commandLine: string;
  /** Workspace-relative working folder; `outside` when it is outside every workspace folder. */
  cwd?: string;
  outside?: boolean;
  /** The command's output as it streams (from its start). */
  read?: () => AsyncIterable<string>;
}

/** An error diagnostic in a file. */
export interface HostError {
  line: number;
  message: string;
  source?: string;
  code?: string;
}

/** Which sources are on (the user's capture settings). */
export interface CaptureSwitches {
  saves: boolean;
  commits: boolean;
  terminal: boolean;
  diagnostics: boolean;
}

/** Timing knobs; tests shorten them. */
export interface CaptureTimings {
  saveDebounceMs: number;
  commitDebounceMs: number;
  /** An error must have been visible this long before its disappearance counts as a fix. */
  diagnosticMinOpenMs: number;
}

export const DEFAULT_TIMINGS: CaptureTimings = { saveDebounceMs: 4000, commitDebounceMs: 1500, diagnosticMinOpenMs: 15_000 };

export interface WorkspaceHost {
  readonly timings: CaptureTimings;
  switches(): CaptureSwitches;
  warn(message: string): void;
  /** Workspace state that survives restarts (which commits were seen). */
  state: { get<T>(key: string): T | undefined; update(key: string, value: unknown): PromiseLike<void> };

  openDocuments(): HostDocument[];
  onDidOpen(cb: (doc: HostDocument) => void): HostDisposable;
  onDidClose(cb: (doc: HostDocument) => void): HostDisposable;
  onDidSave(cb: (doc: HostDocument) => void): HostDisposable;
  readFile(path: string): string;
  /** Workspace-relative path when the file may be captured; undefined when excluded, git-ignored or outside. */
  includedPath(doc: HostDocument): Promise<string | undefined>;

  /** Terminal commands (shell integration); absent where the editor has none. */
  onTerminalStart?(cb: (run: HostTerminalRun) => void): HostDisposable;
  onTerminalEnd?(cb: (run: HostTerminalRun, exitCode: number | undefined) => void): HostDisposable;

  /** Files whose diagnostics changed (keys as in HostDocument.key). */
  onDiagnostics(cb: (keys: string[]) => void): HostDisposable;
  filesWithDiagnostics(): string[];
  errorsIn(key: string): HostError[];
  /** The document for a diagnostics key while it is open (closing a file clears its diagnostics: not a fix). */
  openDocument(key: string): HostDocument | undefined;

  /** The roots of the workspace's git repositories, and a call when one may have new commits. */
  gitRoots(): string[];
  onGitChange(cb: (root: string) => void): HostDisposable[];
  gitHead(root: string): Promise<string | undefined>;
  newCommits(root: string, since: string, notBefore: Date): Promise<CommitInfo[]>;
  /** Drops changed files that may not be captured (excluded paths). */
  isExcluded(relPath: string): boolean;
}

export type CaptureSink = (kind: SourceKind, text: string, ref?: string) => void;

/** A running source: stopped with dispose; `flush` emits what a debounce still holds (on shutdown, in tests). */
export interface RunningSource extends HostDisposable {
  flush?(): Promise<void>;
}

/** One kind of workspace activity that becomes capture events. To add one: a file here and a line in CAPTURE_SOURCES. */
export interface CaptureSource<R extends RunningSource = RunningSource> {
  id: keyof CaptureSwitches;
  start(host: WorkspaceHost, sink: CaptureSink): R;
}
