import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { startPostgres, type PostgresServer } from '../support/postgres';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';
import { bundleMcpServer, callTool, connectMcp, textOf } from '../support/mcpSession';

// `memory-r1 mcp` on the shared team bank: the server and a second writer (another teammate's
// extension or CLI) write one PostgreSQL bank at once under its advisory lock; nothing is lost.
let pg: PostgresServer;
let fake: FakeOpenAIServer;
let script: string;
let cleanup: () => void;

beforeAll(async () => {
  [pg, fake, { script, cleanup }] = await Promise.all([
    startPostgres(),
    startFakeOpenAIServer({ reply: (req: any) => (req.response_format?.json_schema?.name === 'memory_decision' ? '{"decision": "NEW", "id": "none"}' : '{"facts": []}') }),
    bundleMcpServer(),
  ]);
}, 180_000);
afterAll(async () => {
  await Promise.all([pg?.stop(), fake?.close()]);
  cleanup?.();
});

describe('memory-r1 mcp on a shared PostgreSQL bank', () => {
  it('the MCP server and another writer on one database bank lose nothing', async () => {
    const bankId = `github.com/org/repo-${randomUUID().slice(0, 8)}`;
    const s = await connectMcp(script, ['--postgres', pg.url, '--bank-id', bankId, '--endpoint', fake.url, '--model', 'fake-model'], 'cline');
    const other = await MemoryBank.open(`pg:${bankId}`, { embedder: new HashingEmbedder(), watchIntervalMs: 50, actor: 'ana', storage: { kind: 'postgres', url: pg.url, bankId } });
    try {
      const N = 15;
      const fact = (who: string, i: number) => `${who} service number ${i} exposes metrics on port ${9100 + i} for team ${who.toLowerCase()}${i}.`;
      const [mcp] = await Promise.all([
        Promise.all(Array.from({ length: N }, (_, i) => callTool(s, 'memory_remember', { text: fact('Agent', i) }))),
        Promise.all(Array.from({ length: N }, (_, i) => other.addManual(fact('Teammate', i)))),
      ]);
      for (const r of mcp) expect(r.isError, textOf(r)).toBeFalsy();
      // The server sees the other writer's memories (it catches up before each write and polls the bank).
      let seen = 0;
      for (const end = Date.now() + 5000; seen < 2 * N && Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        seen = (await callTool(s, 'memory_search', { query: '', topK: 50 })).structuredContent.memories.length;
      }
      expect(seen).toBe(2 * N);
      await s.close();
      const fresh = await MemoryBank.open(`pg:${bankId}`, { embedder: new HashingEmbedder(), watchIntervalMs: 0, storage: { kind: 'postgres', url: pg.url, bankId } });
      try {
        expect(fresh.list().items.map((m) => m.text).sort()).toEqual(['Agent', 'Teammate'].flatMap((w) => Array.from({ length: N }, (_, i) => fact(w, i))).sort());
        const seqs = fresh.history().map((r) => r.seq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        expect(fresh.history().filter((r) => r.source?.kind === 'agent').map((r) => r.source?.actor)).toEqual(Array(N).fill('cline'));
      } finally {
        await fresh.close();
      }
    } finally {
      await s.close().catch(() => undefined);
      await other.close();
    }
  });
});
