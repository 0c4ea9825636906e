// The Node side of bench/mem0_bridge.py: a child process running the real mem0ai package (pinned in
// scripts/mem0-requirements.lock, installed by scripts/setup-mem0.sh), spoken to in JSON lines over stdio,
// plus a loopback /v1/embeddings server so Mem0 embeds with exactly the embedder the other pipelines use.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Embedder } from '../embeddings/embedder';

/** The mem0ai version the lock pins; the bridge refuses another. */
export const MEM0_VERSION = '2.2.1';

export class Mem0BridgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mem0BridgeError';
  }
}

export interface Mem0Install {
  python: string;
  bridge: string;
}

/**
 * Where the venv's Python and the bridge script are: $MEMORY_R1_MEM0_VENV (or $MEM0_VENV), else
 * `.cache/mem0-venv` of the checkout this file belongs to (found by walking up to bench/mem0_bridge.py).
 * Throws a Mem0BridgeError naming the setup command when either is missing.
 */
export function findMem0Install(): Mem0Install {
  let root: string | undefined;
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, 'bench', 'mem0_bridge.py'))) {
        root = dir;
        break;
      }
      if (path.dirname(dir) === dir) break;
    }
    if (root) break;
  }
  if (!root) throw new Mem0BridgeError('bench/mem0_bridge.py not found: run from a checkout of this project');
  const venv = process.env.MEMORY_R1_MEM0_VENV || process.env.MEM0_VENV || path.join(root, '.cache', 'mem0-venv');
  const python = path.join(venv, 'bin', 'python');
  if (!fs.existsSync(python) || !fs.existsSync(path.join(venv, '.mem0-stamp'))) {
    throw new Mem0BridgeError(`the mem0 pipeline needs mem0ai ${MEM0_VERSION} in ${venv}: run bash scripts/setup-mem0.sh`);
  }
  return { python, bridge: path.join(root, 'bench', 'mem0_bridge.py') };
}

export interface Mem0AddResult {
  results: { id: string; memory: string; event: string }[];
  llm_calls: { ms: number; prompt_tokens: number; completion_tokens: number }[];
  /** The rows this add wrote to Mem0's SQLite history table. */
  history: Mem0HistoryRow[];
}

export interface Mem0HistoryRow {
  id: string;
  memory_id: string;
  old_memory: string | null;
  new_memory: string | null;
  event: string;
  created_at: string | null;
  updated_at: string | null;
  is_deleted: number;
}

export interface Mem0SearchHit {
  id: string;
  memory: string;
  score: number;
  created_at?: string;
}

/** One running bridge process. Requests are answered in order; a dead process fails every pending request. */
export class Mem0Bridge {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private stderrTail: string[] = [];
  private exited?: string;
  private embedServer?: http.Server;

  private constructor(
    private readonly child: ChildProcess,
    logFile?: string,
  ) {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      let msg: any;
      try {
        msg = JSON.parse(line);
      } catch {
        this.stderrTail.push(`(stdout) ${line}`);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg);
      else p.reject(new Mem0BridgeError(`mem0 bridge: ${msg.error}`));
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      // Mem0's own warnings (an unparseable extraction, a failed embed) are kept for reading after a run.
      if (logFile) fs.appendFile(logFile, chunk, () => undefined);
      for (const l of chunk.split('\n')) if (l.trim()) this.stderrTail.push(l);
      if (this.stderrTail.length > 40) this.stderrTail.splice(0, this.stderrTail.length - 40);
    });
    child.on('exit', (code, signal) => {
      this.exited = `exited with ${signal ?? `status ${code}`}`;
      const err = new Mem0BridgeError(`mem0 bridge ${this.exited}${this.stderrTail.length ? `: ${this.stderrTail.slice(-5).join(' | ')}` : ''}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
    child.on('error', (e) => {
      this.exited = `failed to start: ${e.message}`;
      for (const p of this.pending.values()) p.reject(new Mem0BridgeError(`mem0 bridge ${this.exited}`));
      this.pending.clear();
    });
  }

  /** Starts the bridge with telemetry off and MEM0_DIR inside `folder` (nothing written to the home folder); its stderr goes to `folder/bridge.log`. */
  static start(install: Mem0Install, folder: string): Mem0Bridge {
    const child = spawn(install.python, [install.bridge], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        MEM0_TELEMETRY: 'false',
        MEM0_DIR: path.join(folder, 'mem0-home'),
        // Mem0's clients must not pick another endpoint or key from the environment.
        OPENAI_API_KEY: '',
        OPENAI_BASE_URL: '',
        OPENROUTER_API_KEY: '',
        PYTHONUNBUFFERED: '1',
      },
    });
    return new Mem0Bridge(child, path.join(folder, 'bridge.log'));
  }

  request<T = any>(op: string, body: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Mem0BridgeError(`mem0 bridge ${this.exited}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(JSON.stringify({ id, op, ...body }) + '\n');
    });
  }

  /**
   * Serves POST /v1/embeddings on 127.0.0.1 from `embedder`, so Mem0 gets the same vectors as the other
   * pipelines whatever embedder the run uses (hashing, local ONNX or the endpoint's). Returns its base URL.
   */
  async serveEmbeddings(embedder: Embedder): Promise<string> {
    const server = http.createServer(async (req, res) => {
      try {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        if (req.method !== 'POST' || !(req.url ?? '').endsWith('/embeddings')) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no route' } }));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string | string[]; model?: string };
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        const vectors = await embedder.embed(inputs);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            model: embedder.id,
            data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })),
            usage: { prompt_tokens: 0, total_tokens: 0 },
          }),
        );
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(err) } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.embedServer = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  async close(): Promise<void> {
    if (!this.exited) {
      await Promise.race([this.request('close').catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
      if (!this.exited) this.child.kill();
    }
    await new Promise<void>((resolve) => (this.embedServer ? this.embedServer.close(() => resolve()) : resolve()));
  }
}
