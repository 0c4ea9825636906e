import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { roleOf, startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';
import { startHarness, waitFor, type Harness } from '../support/extensionHarness';
import { testing } from '../support/vscodeShim';
import { bundleMcpServer, callTool, connectMcp, textOf, type McpSession } from '../support/mcpSession';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { MEMORY_TOOLS } from '../../src/core/tools/memoryTools';

// The MCP server as the extension ships it (src/mcp/main.ts -> dist/mcp.js), driven over stdio by the
// SDK's own client, against a real bank on disk and the fake OpenAI server for the Memory Manager.
let script: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ script, cleanup } = await bundleMcpServer());
});
afterAll(() => cleanup());

type Session = McpSession;
const connect = (args: string[], name?: string) => connectMcp(script, args, name);
const call = callTool;

/** The per-fact manager: supersede the first memory shown, or add when none is shown. */
function manager(req: any): string {
  if (req.response_format?.json_schema?.name !== 'memory_decision') return '{"facts": []}';
  const ids: string[] = req.response_format.json_schema.schema.properties.id.enum;
  return JSON.stringify(ids.length > 1 ? { decision: 'REPLACES', id: ids[0] } : { decision: 'NEW', id: 'none' });
}

describe('memory-r1 mcp over stdio (SDK client)', () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let s: Session | undefined;
  beforeAll(async () => {
    server = await startFakeOpenAIServer({ reply: manager });
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(async () => {
    await s?.close();
    s = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('search, remember (the manager decides via the model), forget and undo; memories as resources; the agent is the source', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-mcp-bank-'));
    s = await connect(['--bank', dir, '--endpoint', server.url, '--model', 'fake-model']);
    const { tools } = await s.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...MEMORY_TOOLS.map((t) => t.name), 'memory_pending', 'memory_pending_resolve']);
    expect(tools[0]).toMatchObject({ inputSchema: MEMORY_TOOLS[0].inputSchema, annotations: { readOnlyHint: true, destructiveHint: false } });
    expect(tools.find((t) => t.name === 'memory_forget')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(s.client.getInstructions()).toMatch(/^Project Memory is this project's long-term memory/);

    expect(textOf(await call(s, 'memory_search', { query: 'payments' }))).toBe('No active memories for "payments". The project memory is empty.');
    // The fact's kind is asked in a short call of its own (answered by the fake server); the rest are the manager's.
    const chat = () => server.requests.filter((r) => r.path.endsWith('/chat/completions') && roleOf(r.body) !== 'kind');

    // Nothing related yet: the manager adds the fact without a model call.
    const first = await call(s, 'memory_remember', { text: 'Dana owns the payments webhook handler.' });
    expect(first.isError).toBeFalsy();
    const add = first.structuredContent.operations[0];
    expect(add).toMatchObject({ type: 'ADD', after: 'Dana owns the payments webhook handler.' });
    expect(chat()).toHaveLength(0);
    expect(first.structuredContent.memories[0].kind).toBe('other');

    let changed = 0;
    s.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void changed++);
    // A related memory: the model decides (REPLACES), and the decision comes back.
    const second = await call(s, 'memory_remember', { text: 'Sam now owns the payments webhook handler, taking over from Dana.' });
    expect(chat()).toHaveLength(1);
    expect(chat()[0].body.response_format.json_schema.name).toBe('memory_decision');
    const upd = second.structuredContent.operations[0];
    expect(upd).toMatchObject({ type: 'UPDATE', supersededId: add.memoryId, before: 'Dana owns the payments webhook handler.', after: 'Sam now owns the payments webhook handler, taking over from Dana.' });
    expect(textOf(second)).toContain(`- UPDATE memory:${upd.memoryId} (operation ${upd.operationId}): "Sam now owns`);
    expect(second.content.filter((c) => c.type === 'resource_link').map((c) => c.uri)).toEqual([`memory-r1://memory/${upd.memoryId}`, `memory-r1://memory/${add.memoryId}`]);

    const found = await call(s, 'memory_search', { query: 'who owns the payments webhook', topK: 5 });
    expect(found.structuredContent.memories.map((m: any) => [m.id, m.status])).toEqual([[upd.memoryId, 'active']]);
    expect(found.structuredContent.memories[0]).toMatchObject({ source: { kind: 'agent', ref: 'mcp:memory_remember', actor: 'test-agent' }, supersedes: add.memoryId });
    const before = await call(s, 'memory_search', { query: 'payments webhook', status: 'superseded' });
    expect(before.structuredContent.memories.map((m: any) => m.id)).toEqual([add.memoryId]);

    const { resources } = await s.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['memory-r1://conventions', `memory-r1://memory/${upd.memoryId}`]);
    const read = await s.client.readResource({ uri: resources[1].uri });
    const md = (read.contents[0] as { text: string }).text;
    expect(md).toContain('Sam now owns the payments webhook handler, taking over from Dana.');
    expect(md).toContain(`- replaces: memory:${add.memoryId}`);
    expect(md).toMatch(/UPDATE \(operation \S+\) · agent by test-agent/);

    const forgot = await call(s, 'memory_forget', { id: upd.memoryId.slice(0, 8), reason: 'wrong person' });
    const del = forgot.structuredContent.operations[0];
    expect(del).toMatchObject({ type: 'DELETE', memoryId: upd.memoryId });
    expect(textOf(await call(s, 'memory_search', { query: 'payments webhook' }))).toBe('No active memories for "payments webhook".');
    const undone = await call(s, 'memory_undo', { operationId: del.operationId });
    expect(textOf(undone)).toBe(`Undone: memory:${upd.memoryId} is active again ("Sam now owns the payments webhook handler, taking over from Dana.").`);
    expect(changed).toBeGreaterThan(0);

    // Refusals are tool errors the model can read; nothing is written.
    const missing = await call(s, 'memory_forget', { id: 'deadbeef-0000' });
    expect(missing).toMatchObject({ isError: true, content: [{ type: 'text', text: 'No memory with id "deadbeef-0000". Use memory_search to find ids.' }] });
    const twice = await call(s, 'memory_undo', { operationId: del.operationId });
    expect(twice).toMatchObject({ isError: true, content: [{ text: 'This operation was already undone.' }] });
    const extra = await call(s, 'memory_remember', { text: 'x', importance: 9 });
    expect(textOf(extra)).toBe('memory_remember: unknown input "importance"; it takes text, kind.');
    await s.close();
    s = undefined;

    // On disk: every write names the agent and the tool; secrets never reach the bank or the model.
    const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(), watchIntervalMs: 0 });
    try {
      const writes = bank.history().filter((r) => r.action !== 'SUPERSEDE');
      expect(writes.map((r) => [r.action, r.source?.kind, r.source?.ref, r.source?.actor])).toEqual([
        ['ADD', 'agent', 'mcp:memory_remember', 'test-agent'],
        ['UPDATE', 'agent', 'mcp:memory_remember', 'test-agent'],
        ['DELETE', 'agent', 'mcp:memory_forget', 'test-agent'],
        ['UNDO', 'agent', 'mcp:memory_undo', 'test-agent'],
      ]);
      expect(bank.get(upd.memoryId)?.status).toBe('active');
    } finally {
      await bank.close();
    }
  });

  it("the project's conventions for agents that read no instruction files: a tool by task and kind, a resource and a prompt", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-mcp-bank-'));
    const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(384), watchIntervalMs: 0 });
    await bank.addManual('API handler functions are named with a handle prefix (handleCreateUser).', { kind: 'convention' });
    await bank.addManual('API handlers validate their input with zod schemas.', { kind: 'convention' });
    await bank.addManual('`npm run check` runs the linters and the tests.', { kind: 'workflow' });
    await bank.addManual('Dana owns the API handlers.', { kind: 'ownership' });
    await bank.applyBatch([{ type: 'ADD', text: 'Refunds go through the payments queue.', kind: 'architecture' }], {
      source: { kind: 'commit', ref: '3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c', event: 'ev-1' },
      eventTime: '2026-04-11T09:30:00.000Z',
      origin: { text: 'Route refunds through the payments queue\n\nDirect calls timed out under load.', time: '2026-04-11T09:30:00.000Z' },
    });
    await bank.close();
    s = await connect(['--bank', dir, '--endpoint', server.url, '--model', 'fake-model']);
    expect(s.client.getInstructions()).toContain('memory_conventions');

    // Provenance: a memory comes with the event it was taken from, in the text and the structured result.
    const refunds = await call(s, 'memory_search', { query: 'refunds payments queue', topK: 1 });
    expect(refunds.structuredContent.memories[0].origin).toEqual({ from: 'commit 3f2a9c1, 2026-04-11', time: '2026-04-11T09:30:00.000Z', excerpt: 'Route refunds through the payments queue\n\nDirect calls timed out under load.' });
    expect(textOf(refunds)).toContain('\n    from commit 3f2a9c1, 2026-04-11: Route refunds through the payments queue Direct calls timed out under load.');

    const conv = await call(s, 'memory_conventions', { task: 'write a new API handler', topK: 2 });
    expect(conv.isError).toBeFalsy();
    expect(conv.structuredContent.memories.map((m: { kind: string }) => m.kind)).toEqual(['convention', 'convention']);
    expect(textOf(conv)).toMatch(/^The project's current convention, decision, workflow for "write a new API handler" \(newest version of each rule; follow them in the code you write\):\n- API handler/);
    expect(textOf(conv)).not.toContain('Dana');
    const owners = await call(s, 'memory_search', { query: 'API handlers', kinds: ['ownership'] });
    expect(owners.structuredContent.memories.map((m: { text: string }) => m.text)).toEqual(['Dana owns the API handlers.']);
    expect(textOf(await call(s, 'memory_conventions', { kinds: ['gossip'] }))).toContain('"kinds" must be a list of convention, decision, workflow');

    const res = await s.client.readResource({ uri: 'memory-r1://conventions' });
    const text = (res.contents[0] as { text: string }).text;
    expect(text).toContain('<!-- project-memory:start -->');
    expect(text).toContain('### Commands and workflows\n- `npm run check` runs the linters and the tests.');
    expect(text).not.toContain('Dana');

    const { prompts } = await s.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['project-conventions']);
    const prompt = await s.client.getPrompt({ name: 'project-conventions', arguments: { task: 'add an API handler for refunds' } });
    const body = (prompt.messages[0].content as { text: string }).text;
    expect(body).toContain('Most relevant to the task "add an API handler for refunds":\n- API handler');
    expect(body).toMatch(/Task: add an API handler for refunds\nFollow these conventions in the code you write\.$/);
  });

  it('redacts secrets in tool input before they are stored or sent; remember without an endpoint says what to do', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-mcp-bank-'));
    s = await connect(['--bank', dir, '--endpoint', server.url, '--model', 'fake-model'], 'cursor');
    await call(s, 'memory_remember', { text: 'Staging reads its database from postgres://app:Hunter2Hunter2x@db.internal:5432/app.' });
    const r = await call(s, 'memory_remember', { text: 'Staging database password is in postgres://app:Hunter2Hunter2x@db.internal:5432/app now.' });
    expect(textOf(r)).toContain('(Redacted 1 secret (postgres-url-password) before storing or sending.)');
    await s.close();
    s = undefined;
    expect(JSON.stringify(server.requests)).not.toContain('Hunter2Hunter2x');
    for (const f of fs.readdirSync(dir)) if (fs.statSync(path.join(dir, f)).isFile()) expect(fs.readFileSync(path.join(dir, f), 'latin1')).not.toContain('Hunter2Hunter2x');

    s = await connect(['--bank', dir]);
    const noModel = await call(s, 'memory_remember', { text: 'Builds use Node 22.' });
    expect(noModel.isError).toBe(true);
    expect(textOf(noModel)).toMatch(/^memory_remember needs a model for the Memory Manager: start `memory-r1 mcp` with --endpoint/);
    // The manager superseded the first fact by the second; what the agent gets back is redacted.
    expect(textOf(r)).toMatch(/^The Memory Manager decided for "Staging database password is in postgres:\/\/app:\[REDACTED:postgres-url-password\]@db\.internal:5432\/app now\.":\n- UPDATE memory:/);
    const all = (await call(s, 'memory_search', { query: '', status: 'all' })).structuredContent.memories;
    expect(all.map((m: any) => m.text).sort()).toEqual([
      'Staging database password is in postgres://app:[REDACTED:postgres-url-password]@db.internal:5432/app now.',
      'Staging reads its database from postgres://app:[REDACTED:postgres-url-password]@db.internal:5432/app.',
    ]);
  });
});

describe('MCP server and the extension on one bank', () => {
  let h: Harness | undefined;
  let s: Session | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
    await h?.dispose();
    h = undefined;
  });

  it('concurrent writes from the MCP server and the extension (its tools and its bank) lose nothing', async () => {
    // The manager adds every fact (related ones too), so every write must end up as its own memory.
    h = await startHarness({ reply: (req: any) => (req.response_format?.json_schema?.name === 'memory_decision' ? '{"decision": "NEW", "id": "none"}' : '{"facts": []}') });
    const bank = await h.api.pm.getBank();
    s = await connect(['--bank', h.api.pm.bankFolder, '--endpoint', h.server.url, '--model', 'fake-model'], 'claude-code');
    const N = 20;
    const words = ['amber', 'birch', 'cobalt', 'dune', 'ember', 'fjord', 'garnet', 'harbor', 'indigo', 'juniper', 'kelp', 'lichen', 'marble', 'nectar', 'onyx', 'pepper', 'quartz', 'raven', 'saffron', 'tundra'];
    const fact = (who: string, i: number) => `${who} module ${words[i]}${i} keeps its ${words[(i * 7) % N]} cache at port ${4000 + i}${who.length}.`;
    for (let i = 0; i < 2 * N; i++) testing.answer(() => 'Continue');
    const mcpOps = Array.from({ length: N }, (_, i) => call(s!, 'memory_remember', { text: fact('Agent', i) }));
    const toolOps = Array.from({ length: N }, (_, i) => vscode.lm.invokeTool('memory_remember', { input: { text: fact('Editor', i) }, toolInvocationToken: undefined }));
    const manualOps = Array.from({ length: N }, (_, i) => bank.addManual(fact('Manual', i)));
    const [mcp] = await Promise.all([Promise.all(mcpOps), Promise.all(toolOps), Promise.all(manualOps)]);
    for (const r of mcp) expect(r.isError, textOf(r)).toBeFalsy();
    const mcpIds = mcp.map((r) => r.structuredContent.operations[0].memoryId as string);
    expect(mcp.every((r) => r.structuredContent.operations[0].type === 'ADD')).toBe(true);

    // The extension's open bank sees the other process's writes by itself.
    await waitFor(() => mcpIds.every((id) => bank.get(id)?.status === 'active'), 10_000, "the MCP server's memories in the extension's bank");
    await s.close();
    s = undefined;
    const fresh = await MemoryBank.open(h.api.pm.bankFolder, { embedder: new HashingEmbedder(), watchIntervalMs: 0 });
    try {
      expect(fresh.list({ status: 'all' }).total).toBe(3 * N);
      const texts = fresh.list().items.map((m) => m.text).sort();
      const expected = ['Agent', 'Editor', 'Manual'].flatMap((w) => Array.from({ length: N }, (_, i) => fact(w, i))).sort();
      expect(texts).toEqual(expected);
      const seqs = fresh.history().map((r) => r.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      const bySource = (ref: string) => fresh.history().filter((r) => r.source?.ref === ref).length;
      expect([bySource('mcp:memory_remember'), bySource('vscode:memory_remember')]).toEqual([N, N]);
      // The two processes really interleaved under the shared lock.
      const proc = fresh.history().map((r) => (r.source?.ref?.startsWith('mcp:') ? 'mcp' : 'ext'));
      expect(proc.filter((p, i) => i > 0 && p !== proc[i - 1]).length).toBeGreaterThanOrEqual(2);
    } finally {
      await fresh.close();
    }
  });
});
