import type { CliCommand } from '../command';
import { type ParsedArgs, flag } from '../args';
import { COMMON_FLAGS_HELP, cliConfig, openCliBank, openCliEngine } from '../context';
import type { MemoryEngine } from '../../core/engine';
import { LlmError } from '../../core/errors';
import type { ToolBackend } from '../../core/tools/memoryTools';
import type { RetirementBudget } from '../../core/agents/retirements';
import { createMemoryMcpServer } from '../../mcp/server';
import { FramedStdioTransport } from '../../mcp/framedStdio';
import { version } from '../../../package.json';


/**
 * The bank and engine the MCP server runs on, from the composition root like every other command
 * (the same bank folder or shared database, lock and Memory Manager).
 */
export async function openToolBackend(args: ParsedArgs): Promise<ToolBackend & { close(): Promise<void> }> {
  const base = cliConfig(args);
  // Polls for other writers (the extension, another agent), so searches see their memories.
  const cfg = { ...base, bank: { ...base.bank, watchIntervalMs: 1000 } };
  const engine: MemoryEngine | undefined = cfg.endpoint ? await openCliEngine(cfg) : undefined;
  const bank = engine?.bank ?? (await openCliBank(cfg));
  let run: RetirementBudget | undefined;
  return {
    bank,
    // One session is one run: its remembers share one retirement cap, and `memory-r1 undo` reverts the session.
    run: (e) => (run ??= e.startRun()),
    async engine() {
      if (!engine) throw new LlmError('UNREACHABLE', 'memory_remember needs a model for the Memory Manager: start `memory-r1 mcp` with --endpoint <url> or MEMORY_R1_BASE_URL. memory_search, memory_forget, memory_update and memory_undo work without one.', false);
      return engine;
    },
    close: () => bank.close(),
  };
}

export const mcpCommand: CliCommand = {
  name: 'mcp',
  summary: 'Serve the memory tools to agents over MCP (stdio): Claude Code, Cursor, Cline, VS Code',
  usage: `memory-r1 mcp [--bank <dir> | --postgres <url>] [--endpoint <url> --model <name>] [--agent <name>] [--allow-agent-approval]

Runs a Model Context Protocol server on stdin/stdout with the tools memory_search, memory_remember,
memory_forget, memory_update, memory_undo, memory_pending and memory_pending_resolve, and the memories as resources (memory-r1://memory/<id>).
It opens the bank like every other command (same folder or shared database, same lock, same Memory
Manager), so several agents and the VS Code extension can write one bank at once. memory_remember
needs an endpoint; the other tools work without one. Writes are recorded with the client's name
(or --agent) as their source. Log lines go to stderr; stdout carries only the protocol. A malformed,
oversized (over 10 MiB) or batched message gets a JSON-RPC error reply and the session goes on.

Held operations (over the retirement caps) are listed by memory_pending; memory_pending_resolve applies or
drops one after the user confirms it in the client (MCP elicitation). A client that cannot ask the user
is refused, unless the server runs with --allow-agent-approval.

${COMMON_FLAGS_HELP}`,
  switches: ['allow-agent-approval'],
  async run(args, io) {
    const agent = flag(args, 'agent');
    const backend = await openToolBackend(args);
    const log = (line: string) => io.err(`memory-r1 mcp: ${line}`);
    const server = createMemoryMcpServer(backend, { agent, version, log, allowAgentApproval: args.flags.has('allow-agent-approval') });
    const transport = new FramedStdioTransport(log);
    let done!: () => void;
    const closed = new Promise<void>((r) => (done = r));
    let closing = false;
    const shutdown = async () => {
      if (closing) return;
      closing = true;
      await server.close().catch(() => undefined);
      await backend.close().catch(() => undefined);
      done();
    };
    const onclose = server.onclose;
    server.onclose = () => {
      onclose?.();
      void shutdown();
    };
    process.stdin.on('end', () => void shutdown());
    process.once('SIGINT', () => void shutdown());
    process.once('SIGTERM', () => void shutdown());
    await server.connect(transport);
    const where = backend.bank.storageInfo;
    log(`serving ${where.kind === 'file' ? backend.bank.folder : where.location} (${backend.bank.size} memories)${agent ? ` as ${agent}` : ''}`);
    await closed;
    return 0;
  },
};
