// The small part of the `vscode` API the memory side panel host uses, plus a fake WebviewView
// that records what the host posts and lets a test (or a real browser page) send page messages.
// Used by test/unit/sidePanel*.test.ts (via vi.mock('vscode')) and test/webview (via alias).
import * as path from 'node:path';

type Listener<T> = (e: T) => unknown;

export interface Disposable {
  dispose(): void;
}

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', '', path.resolve(p));
  }
  static parse(s: string): Uri {
    const u = new URL(s);
    return new Uri(u.protocol.replace(/:$/, ''), u.host, decodeURIComponent(u.pathname));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === 'file' ? `file://${this.path}` : `${this.scheme}://${this.authority}${this.path}`;
  }
}

/** Answers given to `showWarningMessage`, in order; when empty the dialog counts as dismissed. */
export const warningAnswers: (string | undefined)[] = [];
export const warningsShown: { message: string; options: unknown; items: string[] }[] = [];
export const executedCommands: { command: string; args: unknown[] }[] = [];

export const window = {
  async showWarningMessage(message: string, ...rest: unknown[]): Promise<string | undefined> {
    const options = typeof rest[0] === 'object' && rest[0] !== null ? rest.shift() : undefined;
    warningsShown.push({ message, options, items: rest as string[] });
    return warningAnswers.shift();
  },
  async showErrorMessage(): Promise<undefined> {
    return undefined;
  },
  async showInformationMessage(): Promise<undefined> {
    return undefined;
  },
};

export const commands = {
  async executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    executedCommands.push({ command, args });
    return undefined;
  },
};

/** Like vscode.l10n: `bundle` is the loaded translation (undefined in English); tests may set it. */
export const l10n = {
  bundle: undefined as Record<string, string> | undefined,
  t(message: string, ...args: unknown[]): string {
    const text = l10n.bundle?.[message] ?? message;
    return text.replace(/\{(\d+)\}/g, (m, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : m));
  },
};

export const env = { language: 'en' };

export class CancellationError extends Error {}

/** A LogOutputChannel that keeps its lines for assertions. */
export class FakeLog {
  readonly lines: { level: string; text: string }[] = [];
  readonly name = 'Project Memory';
  readonly logLevel = 2;
  private push(level: string, text: unknown): void {
    this.lines.push({ level, text: String(text) });
  }
  trace(t: string): void { this.push('trace', t); }
  debug(t: string): void { this.push('debug', t); }
  info(t: string): void { this.push('info', t); }
  warn(t: string): void { this.push('warn', t); }
  error(t: string | Error): void { this.push('error', t); }
  append(t: string): void { this.push('info', t); }
  appendLine(t: string): void { this.push('info', t); }
  replace(t: string): void { this.push('info', t); }
  clear(): void {}
  show(): void {}
  hide(): void {}
  dispose(): void {}
  onDidChangeLogLevel = new EventEmitter<number>().event;
}

/**
 * A WebviewView whose page is either the test itself (`fromPage`, `posted`) or a real browser page
 * connected through `onPost` and `fromPage`.
 */
export class FakeWebviewView {
  readonly viewType = 'projectMemory.panel';
  visible = true;
  title?: string;
  description?: string;
  readonly posted: unknown[] = [];
  shownCount = 0;
  onPost: ((msg: unknown) => void | Promise<void>) | undefined;
  private readonly received = new EventEmitter<unknown>();
  private readonly disposed = new EventEmitter<void>();
  private readonly visibility = new EventEmitter<void>();

  readonly webview = {
    options: {} as { enableScripts?: boolean; localResourceRoots?: Uri[] },
    html: '',
    cspSource: '',
    asWebviewUri: (uri: Uri): Uri => this.mapUri(uri),
    postMessage: async (msg: unknown): Promise<boolean> => {
      // Same as the real webview: messages travel as JSON.
      const copy = JSON.parse(JSON.stringify(msg));
      this.posted.push(copy);
      await this.onPost?.(copy);
      return true;
    },
    onDidReceiveMessage: this.received.event,
  };
  readonly onDidDispose = this.disposed.event;
  readonly onDidChangeVisibility = this.visibility.event;

  /** `origin` plays the webview resource origin: resources map to `${origin}${path}`. */
  constructor(private readonly origin = 'https://webview.test') {
    this.webview.cspSource = origin;
  }

  private mapUri(uri: Uri): Uri {
    return Uri.parse(`${this.origin}${uri.path}`);
  }

  show(): void {
    this.shownCount++;
  }

  /** Delivers a message as if the page had posted it (JSON round trip like VS Code). */
  fromPage(msg: unknown): void {
    this.received.fire(msg === undefined ? undefined : JSON.parse(JSON.stringify(msg)));
  }

  setVisible(v: boolean): void {
    this.visible = v;
    this.visibility.fire();
  }

  dispose(): void {
    this.disposed.fire();
  }
}
