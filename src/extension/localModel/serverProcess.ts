// Runs the built-in model server as a child process and keeps it alive: no vscode import, so the
// supervision (start, health check, one restart after a crash, stop) is tested with real processes.
import { spawn, type ChildProcess } from 'node:child_process';

export type LocalServerErrorCode = 'PORT_IN_USE' | 'START_FAILED' | 'CRASHED' | 'UNHEALTHY';

export class LocalServerError extends Error {
  constructor(
    readonly code: LocalServerErrorCode,
    message: string,
    /** The server's last lines of output, for the log. */
    readonly output: string = '',
  ) {
    super(message);
    this.name = 'LocalServerError';
  }
}

export type ServerState =
  | { kind: 'stopped' }
  | { kind: 'starting'; restart: boolean }
  | { kind: 'ready'; url: string; model: string; adapters: string[]; pid: number }
  | { kind: 'failed'; error: LocalServerError };

export interface ServerProcessOptions {
  /** The Node that runs the entry: `process.execPath` (Electron runs as Node with ELECTRON_RUN_AS_NODE=1). */
  nodePath: string;
  /** The server's script (dist/server.js). */
  entry: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Loading a model takes a while on a busy CPU: how long start-up may take before it counts as failed. */
  startTimeoutMs?: number;
  /** Restarts after a crash before giving up. Default 1. */
  maxRestarts?: number;
  log?: (line: string) => void;
  onState?: (state: ServerState) => void;
}

interface Listening {
  type: 'listening';
  url: string;
  model: string;
  adapters?: string[];
}

const OUTPUT_LINES = 30;

/**
 * One supervised server child. `start()` resolves once the child reported its port over IPC and
 * answered GET /health; a crash of a ready server restarts it once (`maxRestarts`), a second crash
 * leaves it `failed`. A port already taken is not retried. `stop()` ends it (SIGTERM, then SIGKILL).
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private crashes = 0;
  private output: string[] = [];
  private current: ServerState = { kind: 'stopped' };
  private startPromise: Promise<{ url: string; model: string; adapters: string[] }> | undefined;

  constructor(private readonly opts: ServerProcessOptions) {}

  get state(): ServerState {
    return this.current;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server (or returns the start in progress / the running server). */
  start(): Promise<{ url: string; model: string; adapters: string[] }> {
    if (this.current.kind === 'ready') return Promise.resolve({ url: this.current.url, model: this.current.model, adapters: this.current.adapters });
    if (this.startPromise) return this.startPromise;
    this.stopping = false;
    this.crashes = 0;
    this.startPromise = this.launch(false).finally(() => (this.startPromise = undefined));
    return this.startPromise;
  }

  private setState(s: ServerState): void {
    this.current = s;
    this.opts.onState?.(s);
  }

  private record(chunk: Buffer | string): void {
    for (const line of String(chunk).split(/\r?\n/)) {
      if (!line.trim()) continue;
      this.output.push(line);
      if (this.output.length > OUTPUT_LINES) this.output.shift();
      this.opts.log?.(line);
    }
  }

  private async launch(restart: boolean): Promise<{ url: string; model: string; adapters: string[] }> {
    this.setState({ kind: 'starting', restart });
    this.output = [];
    try {
      const { url, model, adapters = [] } = await this.spawnOnce();
      if (this.stopping) throw new LocalServerError('START_FAILED', 'The built-in model server was stopped while it started.');
      this.setState({ kind: 'ready', url, model, adapters, pid: this.child!.pid! });
      return { url, model, adapters };
    } catch (err) {
      const error = err instanceof LocalServerError ? err : new LocalServerError('START_FAILED', String(err), this.output.join('\n'));
      if (this.stopping) {
        this.setState({ kind: 'stopped' });
        throw error;
      }
      // A crash while loading is a crash too; a taken port or a health check that never passes is not retried.
      if (error.code === 'CRASHED' && this.crashes++ < (this.opts.maxRestarts ?? 1)) {
        this.opts.log?.(`The built-in model server exited while starting; restarting it once.`);
        return this.launch(true);
      }
      this.setState({ kind: 'failed', error: this.crashes > 1 ? crashedTwice(error) : error });
      throw (this.current as { error: LocalServerError }).error;
    }
  }

  private spawnOnce(): Promise<Listening> {
    const child = spawn(this.opts.nodePath, [this.opts.entry, ...this.opts.args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...this.opts.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => this.record(d));
    child.stderr?.on('data', (d: Buffer) => this.record(d));
    return new Promise<Listening>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        fail(new LocalServerError('UNHEALTHY', `The built-in model server did not start within ${Math.round((this.opts.startTimeoutMs ?? 300_000) / 1000)} s.`, this.output.join('\n')));
        child.kill('SIGKILL');
      }, this.opts.startTimeoutMs ?? 300_000);
      const fail = (e: LocalServerError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      };
      child.on('error', (e) => fail(new LocalServerError('START_FAILED', `Cannot run ${this.opts.nodePath}: ${e.message}`)));
      child.on('message', (m: unknown) => {
        const msg = m as Partial<Listening>;
        if (msg?.type !== 'listening' || typeof msg.url !== 'string' || settled) return;
        void checkHealth(msg.url).then(
          () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ type: 'listening', url: msg.url!, model: String(msg.model ?? ''), adapters: Array.isArray(msg.adapters) ? msg.adapters.map(String) : [] });
          },
          (e: Error) => {
            fail(new LocalServerError('UNHEALTHY', `The built-in model server at ${msg.url} failed its health check: ${e.message}`, this.output.join('\n')));
            child.kill('SIGKILL');
          },
        );
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        const out = this.output.join('\n');
        if (!settled) {
          if (/EADDRINUSE|address already in use/i.test(out)) {
            const port = /EADDRINUSE[^\n]*?:(\d+)/.exec(out)?.[1];
            fail(new LocalServerError('PORT_IN_USE', `${port ? `Port ${port}` : 'The port'} is already in use by another program. Set projectMemory.localModel.port to 0 (any free port) or to a free port.`, out));
          } else if (code === 2) {
            fail(new LocalServerError('START_FAILED', `The built-in model server refused its arguments: ${lastLine(out)}`, out));
          } else {
            fail(new LocalServerError('CRASHED', `The built-in model server exited while starting (${describeExit(code, signal)}): ${lastLine(out)}`, out));
          }
          return;
        }
        if (this.stopping || this.current.kind !== 'ready') return;
        // A crash of a running server: restart it once, then give up.
        const error = new LocalServerError('CRASHED', `The built-in model server crashed (${describeExit(code, signal)}): ${lastLine(out)}`, out);
        this.opts.log?.(error.message);
        if (this.crashes++ < (this.opts.maxRestarts ?? 1)) {
          this.opts.log?.('Restarting the built-in model server once.');
          this.startPromise = this.launch(true).finally(() => (this.startPromise = undefined));
          this.startPromise.catch(() => undefined);
        } else {
          this.setState({ kind: 'failed', error: crashedTwice(error) });
        }
      });
    });
  }

  /** Waits for the server to be ready if it is starting or restarting. */
  async whenReady(): Promise<{ url: string; model: string; adapters: string[] } | undefined> {
    if (this.startPromise) return this.startPromise.catch(() => undefined);
    return this.current.kind === 'ready' ? { url: this.current.url, model: this.current.model, adapters: this.current.adapters } : undefined;
  }

  /** Stops the child: SIGTERM lets it close its model, SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await this.startPromise?.catch(() => undefined);
    this.child = undefined;
    this.setState({ kind: 'stopped' });
  }
}

function crashedTwice(last: LocalServerError): LocalServerError {
  return new LocalServerError('CRASHED', `The built-in model server crashed twice and was not restarted again. ${last.message}`, last.output);
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

function lastLine(out: string): string {
  const lines = out.split('\n').filter((l) => l.trim());
  return lines.at(-1) ?? 'no output';
}

/** GET /health on the server's origin; resolves on HTTP 200. */
export async function checkHealth(baseUrl: string, timeoutMs = 10_000): Promise<void> {
  const origin = new URL(baseUrl).origin;
  const res = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
}
