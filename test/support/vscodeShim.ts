// A small in-process stand-in for the `vscode` module (vitest aliases `vscode` here). It implements
// the API surface the extension glue uses, with real events and state, and a `testing` handle
// that scripts the user's answers and fires editor events.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';

// ------------------------------------------------------------------ basics

export class Disposable {
  constructor(private readonly fn: () => void) {}
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export type Event<T> = (listener: (e: T) => unknown, thisArg?: unknown, disposables?: Disposable[]) => Disposable;

export class EventEmitter<T> {
  private listeners = new Set<(e: T) => unknown>();
  readonly event: Event<T> = (listener, _this, disposables) => {
    this.listeners.add(listener);
    const d = new Disposable(() => this.listeners.delete(listener));
    disposables?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class CancellationError extends Error {
  constructor() {
    super('Canceled');
    this.name = 'Canceled';
  }
}

export interface CancellationToken {
  isCancellationRequested: boolean;
  onCancellationRequested: Event<void>;
}

export class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  readonly token: CancellationToken;
  constructor() {
    const self = this;
    this.token = {
      isCancellationRequested: false,
      onCancellationRequested: (l, t, d) => {
        if (self.token.isCancellationRequested) {
          queueMicrotask(() => l(undefined));
        }
        return self.emitter.event(l, t, d);
      },
    };
  }
  cancel(): void {
    if (this.token.isCancellationRequested) return;
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', '', nodePath.resolve(p).replace(/\\/g, '/'), '', '');
  }
  static parse(value: string): Uri {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
    if (!m) throw new Error(`bad uri ${value}`);
    return new Uri(m[1], m[2] ?? '', m[3] ?? '', m[4] ?? '', m[5] ?? '');
  }
  static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, nodePath.posix.join(base.path, ...parts), base.query, base.fragment);
  }
  get fsPath(): string {
    return this.path;
  }
  with(change: { scheme?: string; path?: string; query?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, change.query ?? this.query, this.fragment);
  }
  toString(): string {
    return `${this.scheme}:${this.authority || this.scheme === 'file' ? `//${this.authority}` : ''}${this.path}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
  }
  toJSON(): unknown {
    return this.toString();
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}
export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(sl: number | Position, sc: number | Position, el?: number, ec?: number) {
    // Both of vscode.Range's forms: (start, end) positions, or four numbers.
    this.start = sl instanceof Position ? sl : new Position(sl, sc as number);
    this.end = sc instanceof Position ? sc : new Position(el!, ec!);
  }
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}
export class Selection extends Range {}

export enum DiagnosticSeverity {
  Error = 0,
  Warning = 1,
  Information = 2,
  Hint = 3,
}
export class Diagnostic {
  source?: string;
  code?: string | number | { value: string | number; target: Uri };
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: DiagnosticSeverity = DiagnosticSeverity.Error,
  ) {}
}

export class RelativePattern {
  constructor(
    readonly base: unknown,
    readonly pattern: string,
  ) {}
}
export class ThemeIcon {
  constructor(readonly id: string) {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}

/** One `window.withProgress` call: its options, what it reported, and a way to press its Cancel. */
export interface ProgressRecord {
  options: { title?: string; location?: unknown; cancellable?: boolean };
  reports: { message?: string; increment?: number }[];
  cancel(): void;
}

export class MarkdownString {
  isTrusted?: boolean | { enabledCommands: string[] };
  constructor(public value = '') {}
  appendMarkdown(v: string): this {
    this.value += v;
    return this;
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}
export enum ChatResultFeedbackKind {
  Unhelpful = 0,
  Helpful = 1,
}
export enum LanguageModelChatMessageRole {
  User = 1,
  Assistant = 2,
}
export enum LanguageModelChatToolMode {
  Auto = 1,
  Required = 2,
}

export class LanguageModelTextPart {
  constructor(public value: string) {}
}
export class LanguageModelToolCallPart {
  constructor(
    public callId: string,
    public name: string,
    public input: object,
  ) {}
}
export class LanguageModelToolResultPart {
  constructor(
    public callId: string,
    public content: unknown[],
  ) {}
}
export class LanguageModelToolResult {
  constructor(public content: unknown[]) {}
}
export class McpStdioServerDefinition {
  cwd?: Uri;
  constructor(
    readonly label: string,
    public command: string,
    public args: string[] = [],
    public env: Record<string, string | number | null> = {},
    public version?: string,
  ) {}
}
export class LanguageModelChatMessage {
  constructor(
    public role: LanguageModelChatMessageRole,
    public content: (LanguageModelTextPart | LanguageModelToolCallPart | LanguageModelToolResultPart)[],
    public name?: string,
  ) {}
  static User(content: string | unknown[], name?: string): LanguageModelChatMessage {
    return new LanguageModelChatMessage(LanguageModelChatMessageRole.User, typeof content === 'string' ? [new LanguageModelTextPart(content)] : (content as never), name);
  }
  static Assistant(content: string | unknown[], name?: string): LanguageModelChatMessage {
    return new LanguageModelChatMessage(LanguageModelChatMessageRole.Assistant, typeof content === 'string' ? [new LanguageModelTextPart(content)] : (content as never), name);
  }
}
export class LanguageModelError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
  static NoPermissions(m?: string): LanguageModelError {
    return new LanguageModelError(m ?? 'no permissions', 'NoPermissions');
  }
  static Blocked(m?: string): LanguageModelError {
    return new LanguageModelError(m ?? 'blocked', 'Blocked');
  }
  static NotFound(m?: string): LanguageModelError {
    return new LanguageModelError(m ?? 'not found', 'NotFound');
  }
}

// ------------------------------------------------------------------ l10n

export const l10n = {
  t(message: string | { message: string; args?: unknown[] }, ...args: unknown[]): string {
    const msg = typeof message === 'string' ? message : message.message;
    const a = typeof message === 'string' ? args : (message.args ?? []);
    return msg.replace(/\{(\d+)\}/g, (_, i) => String(a[Number(i)]));
  },
};

// ------------------------------------------------------------------ test-controlled state

type Layer = 'default' | 'global' | 'workspace';
interface UiCall {
  kind: 'info' | 'warning' | 'error' | 'quickPick' | 'inputBox' | 'saveDialog' | 'openDialog';
  message?: string;
  items?: unknown[];
  options?: unknown;
}
type UiAnswer = (call: UiCall) => unknown;

export class TestTextDocument {
  isClosed = false;
  constructor(
    readonly uri: Uri,
    public text: string,
    readonly languageId = 'typescript',
  ) {}
  getText(range?: Range): string {
    if (!range) return this.text;
    const lines = this.text.split('\n');
    return lines.slice(range.start.line, range.end.line + 1).join('\n');
  }
}

const state = {
  trusted: true,
  folders: [] as { uri: Uri; name: string; index: number }[],
  config: new Map<string, Partial<Record<Layer, unknown>>>(),
  documents: [] as TestTextDocument[],
  diagnostics: new Map<string, { uri: Uri; list: Diagnostic[] }>(),
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  participants: [] as ChatParticipantImpl[],
  lmProviders: new Map<string, unknown>(),
  lmModels: [] as unknown[],
  /** vscode.lm.registerTool: name -> tool. */
  lmTools: new Map<string, { prepareInvocation?: (o: unknown, t: CancellationToken) => unknown; invoke: (o: unknown, t: CancellationToken) => unknown }>(),
  /** What each lm.invokeTool call's prepareInvocation returned (confirmations the user saw). */
  toolInvocations: [] as { name: string; input: unknown; prepared: any; confirmed?: boolean }[],
  mcpProviders: new Map<string, any>(),
  clipboard: '',
  webviewProviders: new Map<string, unknown>(),
  statusBarItems: [] as Record<string, unknown>[],
  logs: [] as string[],
  ui: [] as UiCall[],
  answers: [] as UiAnswer[],
  shownDocuments: [] as TestTextDocument[],
  executed: [] as { command: string; args: unknown[] }[],
  /** workspace.registerTextDocumentContentProvider: scheme -> provider (virtual documents such as a diff's preview). */
  /** Where showTextDocument put the cursor (a memory's source file at its line). */
  shownSelections: [] as { uri: string; line: number }[],
  contentProviders: new Map<string, { provideTextDocumentContent(uri: Uri): string | undefined }>(),
  progress: [] as ProgressRecord[],
  /** Called on every progress report (a test can cancel there). */
  onProgressReport: undefined as ((rec: ProgressRecord) => void) | undefined,
};

const emitters = {
  config: new EventEmitter<{ affectsConfiguration(s: string): boolean }>(),
  trust: new EventEmitter<void>(),
  open: new EventEmitter<TestTextDocument>(),
  close: new EventEmitter<TestTextDocument>(),
  save: new EventEmitter<TestTextDocument>(),
  rename: new EventEmitter<{ files: readonly { oldUri: Uri; newUri: Uri }[] }>(),
  deleteFiles: new EventEmitter<{ files: readonly Uri[] }>(),
  createFiles: new EventEmitter<{ files: readonly Uri[] }>(),
  diagnostics: new EventEmitter<{ uris: readonly Uri[] }>(),
  termStart: new EventEmitter<unknown>(),
  termEnd: new EventEmitter<unknown>(),
  watchers: [] as { pattern: RelativePattern; change: EventEmitter<Uri>; create: EventEmitter<Uri> }[],
};

function nextAnswer(call: UiCall): unknown {
  state.ui.push(call);
  const a = state.answers.shift();
  return a ? a(call) : undefined;
}

/** Handle for tests. */
export const testing = {
  state,
  reset(): void {
    state.trusted = true;
    state.folders = [];
    state.config.clear();
    state.documents = [];
    state.diagnostics.clear();
    state.commands.clear();
    state.participants = [];
    state.lmProviders.clear();
    state.lmModels = [];
    state.lmTools.clear();
    state.toolInvocations = [];
    state.mcpProviders.clear();
    state.clipboard = '';
    state.webviewProviders.clear();
    state.statusBarItems = [];
    state.logs = [];
    state.ui = [];
    state.answers = [];
    state.shownDocuments = [];
    state.shownSelections = [];
    state.executed = [];
    state.progress = [];
    state.onProgressReport = undefined;
    emitters.watchers = [];
  },
  setWorkspaceFolder(dir: string): void {
    state.folders = [{ uri: Uri.file(dir), name: nodePath.basename(dir), index: 0 }];
  },
  setTrusted(trusted: boolean): void {
    const was = state.trusted;
    state.trusted = trusted;
    if (trusted && !was) emitters.trust.fire();
  },
  setConfig(key: string, value: unknown, layer: Layer = 'global'): void {
    const entry = state.config.get(key) ?? {};
    entry[layer] = value;
    state.config.set(key, entry);
    emitters.config.fire({ affectsConfiguration: (s) => key === s || key.startsWith(s + '.') });
  },
  /** Scripts the next UI prompt's answer (message button, quick pick item, input text, dialog result). */
  answer(fn: UiAnswer): void {
    state.answers.push(fn);
  },
  openDocument(file: string, text: string, languageId = 'typescript'): TestTextDocument {
    const doc = new TestTextDocument(Uri.file(file), text, languageId);
    state.documents.push(doc);
    emitters.open.fire(doc);
    return doc;
  },
  saveDocument(doc: TestTextDocument, text: string): void {
    doc.text = text;
    fs.writeFileSync(doc.uri.fsPath, text);
    emitters.save.fire(doc);
  },
  setDiagnostics(uri: Uri, list: Diagnostic[]): void {
    state.diagnostics.set(uri.toString(), { uri, list });
    emitters.diagnostics.fire({ uris: [uri] });
  },
  endTerminalCommand(commandLine: string, exitCode: number | undefined, cwd: Uri | undefined, output = ''): void {
    const execution = {
      commandLine: { value: commandLine, isTrusted: true, confidence: 2 },
      cwd,
      read: async function* () {
        if (output) yield output;
      },
    };
    emitters.termStart.fire({ execution });
    setTimeout(() => emitters.termEnd.fire({ execution, exitCode }), 5);
  },
  /** Renames a file on disk and tells listeners, as the explorer's rename does. */
  renameFile(from: Uri, to: Uri): void {
    fs.mkdirSync(nodePath.dirname(to.fsPath), { recursive: true });
    fs.renameSync(from.fsPath, to.fsPath);
    emitters.rename.fire({ files: [{ oldUri: from, newUri: to }] });
  },
  deleteFile(uri: Uri): void {
    fs.rmSync(uri.fsPath, { force: true });
    emitters.deleteFiles.fire({ files: [uri] });
  },
  fireWatchers(pathSuffix: string): void {
    for (const w of emitters.watchers) if (w.pattern.pattern.startsWith(pathSuffix)) w.change.fire(Uri.file(pathSuffix));
  },
  registerChatModel(model: unknown): void {
    state.lmModels.push(model);
  },
};

// ------------------------------------------------------------------ workspace

function configGet(key: string): Partial<Record<Layer, unknown>> {
  return state.config.get(key) ?? {};
}

export const workspace = {
  get isTrusted(): boolean {
    return state.trusted;
  },
  get workspaceFolders() {
    return state.folders.length ? state.folders : undefined;
  },
  get textDocuments(): TestTextDocument[] {
    return state.documents.filter((d) => !d.isClosed);
  },
  registerTextDocumentContentProvider(scheme: string, provider: { provideTextDocumentContent(uri: Uri): string | undefined }) {
    state.contentProviders.set(scheme, provider);
    return new Disposable(() => state.contentProviders.delete(scheme));
  },
  getWorkspaceFolder(uri: Uri) {
    return state.folders.find((f) => uri.path === f.uri.path || uri.path.startsWith(f.uri.path + '/'));
  },
  asRelativePath(target: Uri | string): string {
    const p = typeof target === 'string' ? target : target.path;
    const f = state.folders.find((x) => p.startsWith(x.uri.path + '/'));
    return f ? p.slice(f.uri.path.length + 1) : p;
  },
  getConfiguration(section?: string) {
    const full = (k: string) => (section ? `${section}.${k}` : k);
    return {
      get<T>(key: string, fallback?: T): T {
        const v = configGet(full(key));
        const val = state.trusted ? (v.workspace ?? v.global ?? v.default) : (v.global ?? v.default ?? v.workspace);
        return (val ?? fallback) as T;
      },
      inspect<T>(key: string) {
        const v = configGet(full(key));
        return { key: full(key), defaultValue: v.default as T, globalValue: v.global as T, workspaceValue: v.workspace as T, workspaceFolderValue: undefined as T | undefined };
      },
      has(key: string): boolean {
        return state.config.has(full(key));
      },
      async update(key: string, value: unknown, target?: ConfigurationTarget | boolean): Promise<void> {
        testing.setConfig(full(key), value, target === ConfigurationTarget.Workspace || target === false ? 'workspace' : 'global');
      },
    };
  },
  onDidChangeConfiguration: emitters.config.event,
  onDidGrantWorkspaceTrust: emitters.trust.event,
  onDidOpenTextDocument: emitters.open.event,
  onDidCloseTextDocument: emitters.close.event,
  onDidSaveTextDocument: emitters.save.event,
  onDidRenameFiles: emitters.rename.event,
  onDidDeleteFiles: emitters.deleteFiles.event,
  onDidCreateFiles: emitters.createFiles.event,
  createFileSystemWatcher(pattern: RelativePattern) {
    const w = { pattern, change: new EventEmitter<Uri>(), create: new EventEmitter<Uri>() };
    emitters.watchers.push(w);
    return { onDidChange: w.change.event, onDidCreate: w.create.event, onDidDelete: new EventEmitter<Uri>().event, dispose() {} };
  },
  async openTextDocument(arg: { content?: string; language?: string } | Uri): Promise<TestTextDocument> {
    if (arg instanceof Uri) {
      // A virtual document (a preview, a memory's source) comes from its scheme's content provider.
      const provider = state.contentProviders.get(arg.scheme);
      if (provider) return new TestTextDocument(arg, provider.provideTextDocumentContent(arg) ?? '');
      return new TestTextDocument(arg, fs.readFileSync(arg.fsPath, 'utf8'));
    }
    return new TestTextDocument(Uri.parse('untitled:Untitled-1'), arg.content ?? '', arg.language ?? 'plaintext');
  },
  fs: {
    async writeFile(uri: Uri, content: Uint8Array): Promise<void> {
      fs.mkdirSync(nodePath.dirname(uri.fsPath), { recursive: true });
      fs.writeFileSync(uri.fsPath, content);
    },
    async readFile(uri: Uri): Promise<Uint8Array> {
      return fs.readFileSync(uri.fsPath);
    },
    async stat(uri: Uri): Promise<{ type: number; size: number }> {
      const st = fs.statSync(uri.fsPath);
      return { type: st.isDirectory() ? 2 : 1, size: st.size };
    },
  },
};

// ------------------------------------------------------------------ window

function outputChannel(name: string) {
  const line = (level: string) => (msg: string) => state.logs.push(`[${level}] ${name}: ${msg}`);
  return { name, trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), appendLine: line('info'), append: line('info'), show() {}, hide() {}, clear() {}, dispose() {}, logLevel: 2, onDidChangeLogLevel: new EventEmitter<number>().event };
}

function message(kind: 'info' | 'warning' | 'error') {
  return async (msg: string, ...rest: unknown[]) => {
    const items = rest.filter((r) => typeof r === 'string' || (typeof r === 'object' && r !== null && 'title' in r));
    const options = rest.find((r) => typeof r === 'object' && r !== null && !('title' in r));
    return nextAnswer({ kind, message: msg, items, options });
  };
}

export const window = {
  activeTextEditor: undefined as undefined | { document: TestTextDocument; selection: Selection },
  createOutputChannel: (name: string, _opts?: unknown) => outputChannel(name),
  createStatusBarItem(_id?: string, _align?: StatusBarAlignment, _prio?: number) {
    const item: Record<string, unknown> = { text: '', tooltip: '', visible: false, show() { item.visible = true; }, hide() { item.visible = false; }, dispose() {} };
    state.statusBarItems.push(item);
    return item;
  },
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  async showQuickPick(items: unknown[] | Promise<unknown[]>, options?: unknown) {
    return nextAnswer({ kind: 'quickPick', items: await items, options });
  },
  async showInputBox(options?: { validateInput?: (v: string) => unknown }) {
    const v = nextAnswer({ kind: 'inputBox', options });
    if (typeof v === 'string' && options?.validateInput) {
      const err = await options.validateInput(v);
      if (err) throw new Error(`shim: input "${v}" failed validation: ${String(err)}`);
    }
    return v;
  },
  async showSaveDialog(options?: unknown) {
    return nextAnswer({ kind: 'saveDialog', options });
  },
  async showOpenDialog(options?: unknown) {
    return nextAnswer({ kind: 'openDialog', options });
  },
  async showTextDocument(target: TestTextDocument | Uri, options?: { selection?: Range }) {
    const doc = target instanceof Uri ? await workspace.openTextDocument(target) : target;
    state.shownDocuments.push(doc);
    if (options?.selection) state.shownSelections.push({ uri: doc.uri.toString(), line: options.selection.start.line });
    return { document: doc };
  },
  async withProgress<R>(opts: ProgressRecord['options'], task: (p: { report(v: ProgressRecord['reports'][number]): void }, token: CancellationToken) => Promise<R>): Promise<R> {
    const source = new CancellationTokenSource();
    const rec: ProgressRecord = { options: opts, reports: [], cancel: () => source.cancel() };
    state.progress.push(rec);
    return task(
      {
        report(v) {
          rec.reports.push(v);
          state.onProgressReport?.(rec);
        },
      },
      source.token,
    );
  },
  registerWebviewViewProvider(id: string, provider: unknown) {
    state.webviewProviders.set(id, provider);
    return new Disposable(() => state.webviewProviders.delete(id));
  },
  onDidStartTerminalShellExecution: emitters.termStart.event,
  onDidEndTerminalShellExecution: emitters.termEnd.event,
};

// ------------------------------------------------------------------ commands, chat, lm, languages

export const commands = {
  registerCommand(id: string, fn: (...args: unknown[]) => unknown) {
    if (state.commands.has(id)) throw new Error(`command ${id} already registered`);
    state.commands.set(id, fn);
    return new Disposable(() => state.commands.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]) {
    state.executed.push({ command: id, args });
    const fn = state.commands.get(id);
    return fn ? fn(...args) : undefined;
  },
};

export class ChatParticipantImpl {
  iconPath: unknown;
  followupProvider: { provideFollowups(result: unknown, ctx: unknown, token: CancellationToken): unknown } | undefined;
  readonly feedback = new EventEmitter<unknown>();
  readonly onDidReceiveFeedback = this.feedback.event;
  constructor(
    readonly id: string,
    readonly handler: (...a: unknown[]) => unknown,
  ) {}
  dispose(): void {
    state.participants = state.participants.filter((p) => p !== this);
  }
}

export const chat = {
  createChatParticipant(id: string, handler: (...a: unknown[]) => unknown) {
    const p = new ChatParticipantImpl(id, handler);
    state.participants.push(p);
    return p;
  },
};

/**
 * A `when` clause as VS Code evaluates it, for the keys the extension's tools use: `config.<setting>`
 * (its default from package.json unless set), `isWorkspaceTrusted`, `true`/`false`, `!`, `&&`, `||`.
 */
export function evaluateWhen(clause: string | undefined): boolean {
  if (!clause) return true;
  const value = (key: string): boolean => {
    if (key === 'true') return true;
    if (key === 'false') return false;
    if (key === 'isWorkspaceTrusted') return state.trusted;
    if (key.startsWith('config.')) {
      const name = key.slice(7);
      const v = configGet(name);
      const set = state.trusted ? (v.workspace ?? v.global ?? v.default) : (v.global ?? v.default);
      return !!(set ?? manifest().contributes?.configuration?.properties?.[name]?.default);
    }
    throw new Error(`shim: unsupported when-clause key "${key}"`);
  };
  return clause.split('||').some((alt) =>
    alt.split('&&').every((term) => {
      const t = term.trim();
      return t.startsWith('!') ? !value(t.slice(1).trim()) : value(t);
    }),
  );
}

let manifestCache: any;
function manifest(): any {
  manifestCache ??= JSON.parse(fs.readFileSync(nodePath.join(process.cwd(), 'package.json'), 'utf8'));
  return manifestCache;
}

export const lm = {
  async selectChatModels() {
    return state.lmModels;
  },
  registerLanguageModelChatProvider(vendor: string, provider: unknown) {
    state.lmProviders.set(vendor, provider);
    return new Disposable(() => state.lmProviders.delete(vendor));
  },
  registerTool(name: string, tool: { invoke: (o: unknown, t: CancellationToken) => unknown }) {
    if (!manifest().contributes?.languageModelTools?.some((t: { name: string }) => t.name === name)) throw new Error(`shim: tool ${name} is not declared in package.json`);
    if (state.lmTools.has(name)) throw new Error(`tool ${name} already registered`);
    state.lmTools.set(name, tool);
    return new Disposable(() => state.lmTools.delete(name));
  },
  /** Registered tools whose package.json `when` clause holds, as VS Code lists them. */
  get tools() {
    return (manifest().contributes?.languageModelTools ?? [])
      .filter((t: { name: string; when?: string }) => state.lmTools.has(t.name) && evaluateWhen(t.when))
      .map((t: { name: string; modelDescription: string; inputSchema: object; tags?: string[] }) => ({ name: t.name, description: t.modelDescription, inputSchema: t.inputSchema, tags: t.tags ?? [] }));
  },
  /**
   * As VS Code runs a tool: prepareInvocation, then (when it asks) the user's confirmation, scripted
   * with `testing.answer` ('Continue' runs it; anything else cancels), then invoke.
   */
  async invokeTool(name: string, options: { input: unknown; toolInvocationToken?: unknown }, token?: CancellationToken) {
    const tool = state.lmTools.get(name);
    if (!tool) throw new Error(`Tool ${name} is not registered`);
    const info = (manifest().contributes?.languageModelTools ?? []).find((t: { name: string }) => t.name === name);
    if (info && !evaluateWhen(info.when)) throw new Error(`Tool ${name} is not available (its when clause is false)`);
    const tk = token ?? new CancellationTokenSource().token;
    const prepared = (await tool.prepareInvocation?.({ input: options.input }, tk)) as any;
    const rec: (typeof state.toolInvocations)[number] = { name, input: options.input, prepared };
    state.toolInvocations.push(rec);
    if (prepared?.confirmationMessages) {
      rec.confirmed = nextAnswer({ kind: 'info', message: String(prepared.confirmationMessages.title), items: ['Continue', 'Cancel'], options: { detail: prepared.confirmationMessages.message } }) === 'Continue';
      if (!rec.confirmed) throw new CancellationError();
    }
    return tool.invoke({ input: options.input, toolInvocationToken: options.toolInvocationToken }, tk);
  },
  registerMcpServerDefinitionProvider(id: string, provider: unknown) {
    if (!manifest().contributes?.mcpServerDefinitionProviders?.some((p: { id: string }) => p.id === id)) throw new Error(`shim: MCP provider ${id} is not declared in package.json`);
    state.mcpProviders.set(id, provider);
    return new Disposable(() => state.mcpProviders.delete(id));
  },
};

export const languages = {
  getDiagnostics(uri?: Uri): never {
    if (uri) return (state.diagnostics.get(uri.toString())?.list ?? []) as never;
    return [...state.diagnostics.values()].map((d) => [d.uri, d.list]) as never;
  },
  onDidChangeDiagnostics: emitters.diagnostics.event,
};

export const extensions = {
  getExtension(_id: string) {
    return undefined;
  },
};

export const env = {
  language: 'en',
  appName: 'vscode-shim',
  clipboard: {
    async writeText(v: string) {
      state.clipboard = v;
    },
    async readText() {
      return state.clipboard;
    },
  },
};

/** A recording `ChatResponseStream`. */
export class TestChatResponseStream {
  parts: { kind: string; value: unknown; title?: string; trusted?: MarkdownString['isTrusted'] }[] = [];
  markdown(v: string | MarkdownString): void {
    this.parts.push(typeof v === 'string' ? { kind: 'markdown', value: v } : { kind: 'markdown', value: v.value, trusted: v.isTrusted });
  }
  progress(v: string): void {
    this.parts.push({ kind: 'progress', value: v });
  }
  anchor(v: Uri, title?: string): void {
    this.parts.push({ kind: 'anchor', value: v, title });
  }
  reference(v: Uri): void {
    this.parts.push({ kind: 'reference', value: v });
  }
  button(cmd: { title: string; command: string; arguments?: unknown[] }): void {
    this.parts.push({ kind: 'button', value: cmd, title: cmd.title });
  }
  /** The markdown text as the user would read it. */
  get text(): string {
    return this.parts.map((p) => (p.kind === 'markdown' ? p.value : p.kind === 'anchor' ? `[${p.title}]` : '')).join('');
  }
}

/** A minimal `ExtensionContext` over real folders. */
export function createExtensionContext(root: string, extensionPath = process.cwd()) {
  const store = (file: string) => {
    const data = new Map<string, unknown>(fs.existsSync(file) ? Object.entries(JSON.parse(fs.readFileSync(file, 'utf8'))) : []);
    return {
      get<T>(key: string, fallback?: T): T {
        return (data.has(key) ? data.get(key) : fallback) as T;
      },
      async update(key: string, value: unknown): Promise<void> {
        if (value === undefined) data.delete(key);
        else data.set(key, value);
        fs.mkdirSync(nodePath.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify(Object.fromEntries(data)));
      },
      keys: () => [...data.keys()],
    };
  };
  const secrets = new Map<string, string>();
  const secretsChanged = new EventEmitter<{ key: string }>();
  return {
    subscriptions: [] as { dispose(): unknown }[],
    extensionUri: Uri.file(extensionPath),
    extensionPath,
    storageUri: Uri.file(nodePath.join(root, 'workspaceStorage')),
    globalStorageUri: Uri.file(nodePath.join(root, 'globalStorage')),
    logUri: Uri.file(nodePath.join(root, 'logs')),
    workspaceState: store(nodePath.join(root, 'workspaceState.json')),
    globalState: Object.assign(store(nodePath.join(root, 'globalState.json')), { setKeysForSync() {} }),
    secrets: {
      async get(k: string) {
        return secrets.get(k);
      },
      async store(k: string, v: string) {
        secrets.set(k, v);
        secretsChanged.fire({ key: k });
      },
      async delete(k: string) {
        secrets.delete(k);
        secretsChanged.fire({ key: k });
      },
      onDidChange: secretsChanged.event,
    },
  };
}
