// A small loopback HTTP server the Python trainer calls with batches of completions.
//   POST /reward   {"items": [{"kind": "manager"|"answer", "id": "...", "completion": "..."}]}
//               -> {"rewards": [0, 1, ...], "results": [RewardResult, ...]}
//   GET  /health   -> {"ok": true, "manager": N, "answer": M, "decision": D, "served": K}
//   GET  /examples?kind=decision -> {"examples": [{"id", "category", "messages", "decisions", "ids"}]}
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LlmError } from '../errors';
import type { DecisionExample } from './decisionReward';
import { type RewardEngine, type RewardItem, RewardRequestError } from './reward';

export interface RewardServer {
  url: string;
  port: number;
  /** Completions scored so far. */
  served(): number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_ITEMS = 4096;

export interface RewardServerOptions {
  port?: number;
  host?: string;
  counts?: { manager: number; answer: number; decision?: number };
  /** The prompts of the decision examples, for the trainer's rollouts. */
  decisionExamples?: () => Promise<DecisionExample[]>;
  log?: (line: string) => void;
}

export async function startRewardServer(engine: RewardEngine, opts: RewardServerOptions = {}): Promise<RewardServer> {
  let served = 0;
  let decisionPrompts: Promise<DecisionExample[]> | undefined;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: String(err) }));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '').replace(/\?.*$/, '');
    if (req.method === 'GET' && url === '/health') {
      send(res, 200, { ok: true, ...(opts.counts ?? {}), served });
      return;
    }
    if (req.method === 'GET' && url === '/examples') {
      const kind = new URL(req.url ?? '', 'http://x').searchParams.get('kind');
      if (kind !== 'decision') return send(res, 400, { error: 'GET /examples?kind=decision (manager and answer examples are in the --data folder)' });
      if (!opts.decisionExamples) return send(res, 404, { error: 'this reward server has no decision cases: start it with --decisions <dev.jsonl>' });
      decisionPrompts ??= opts.decisionExamples();
      send(res, 200, { examples: await decisionPrompts });
      return;
    }
    if (url !== '/reward') return send(res, 404, { error: `no route ${req.method} ${url}; use POST /reward, GET /health or GET /examples?kind=decision` });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST /reward' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) return send(res, 413, { error: `request larger than ${MAX_BODY_BYTES} bytes; send smaller batches` });
      chunks.push(c as Buffer);
    }
    let body: { items?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      return send(res, 400, { error: `request body is not JSON: ${(err as Error).message}` });
    }
    const items = body?.items;
    if (!Array.isArray(items)) return send(res, 400, { error: 'request body must be {"items": [...]}' });
    if (items.length > MAX_ITEMS) return send(res, 413, { error: `at most ${MAX_ITEMS} items per batch` });
    const started = Date.now();
    try {
      const results = await engine.rewardBatch(items as RewardItem[]);
      served += results.length;
      opts.log?.(`scored ${results.length} completion(s) in ${Date.now() - started} ms, mean reward ${mean(results.map((r) => r.reward)).toFixed(3)}`);
      send(res, 200, { rewards: results.map((r) => r.reward), results });
    } catch (err) {
      if (err instanceof RewardRequestError) return send(res, 400, { error: err.message });
      // The answer model failed: a reward of 0 would silently teach the policy the wrong thing.
      if (err instanceof LlmError) return send(res, 502, { error: `answer model: ${err.message}` });
      throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    served: () => served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(res: http.ServerResponse, status: number, data: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(data));
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
