// The MCP surface of the memory tools: the official SDK's low-level server, so the tools' JSON schemas
// are the same objects VS Code's language-model tools declare. Tools and their logic live in
// core/tools; this file maps them to MCP (tools, memories as resources, change notifications).
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ListPromptsRequestSchema,
  GetPromptRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { BankError, LlmError } from '../core/errors';
import { MEMORY_TOOLS, ToolInputError, runMemoryTool, toolMemory, toolSpec, type ToolBackend, type ToolMemory } from '../core/tools/memoryTools';
import { PENDING_TOOLS, describeHeldBatch, findHeldBatch } from '../core/tools/pendingTools';
import type { Memory } from '../core/types';
import { describeEvidence } from '../core/evidence/evidence';
import { freshnessFor } from '../core/evidence/freshness';
import { bankInstructionSection } from '../core/conventions/instructions';
import { INSTRUCTION_KINDS } from '../core/kinds';

export const MEMORY_URI_PREFIX = 'memory-r1://memory/';
/** The generated conventions section, for agents that do not read instruction files. */
export const CONVENTIONS_URI = 'memory-r1://conventions';
export const CONVENTIONS_PROMPT = 'project-conventions';
const PAGE = 100;

export interface McpServerOptions {
  /** Name recorded as the source of writes; default: the client's name from `initialize`. */
  agent?: string;
  version?: string;
  /** Called for each tool call (the CLI logs to stderr). */
  log?: (line: string) => void;
  /**
   * Let memory_pending_resolve approve or reject without asking the user (`--allow-agent-approval`). Off by
   * default: held operations are held for a person, and an agent can be steered by what it reads.
   */
  allowAgentApproval?: boolean;
}

export function memoryUri(id: string): string {
  return MEMORY_URI_PREFIX + id;
}

/** An MCP server over one bank (and its engine for memory_remember). Connect it to a transport. */
export function createMemoryMcpServer(backend: ToolBackend, opts: McpServerOptions = {}): Server {
  const server = new Server(
    { name: 'project-memory', title: 'Project Memory', version: opts.version ?? '0.0.0' },
    {
      capabilities: { tools: {}, resources: { listChanged: true }, prompts: {} },
      instructions:
        "Project Memory is this project's long-term memory, shared with the user's other agents and the Project Memory VS Code extension. " +
        'Search it (memory_search) before answering questions about the project; remember durable facts and decisions (memory_remember); ' +
        'fix or remove wrong ones by id (memory_update, memory_forget); every change is recorded and can be undone (memory_undo). ' +
        `Before writing code, read the project's conventions (memory_conventions, the ${CONVENTIONS_URI} resource or the ${CONVENTIONS_PROMPT} prompt) and follow them.`,
    },
  );
  const { bank } = backend;
  const agent = (): string => opts.agent ?? server.getClientVersion()?.name ?? 'mcp-client';

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      ...MEMORY_TOOLS.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: t.inputSchema as { type: 'object' },
        annotations: { title: t.title, readOnlyHint: t.readOnly, destructiveHint: t.destructive, idempotentHint: t.readOnly, openWorldHint: false },
      })),
      ...PENDING_TOOLS.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: t.inputSchema as unknown as { type: 'object' },
        annotations: { title: t.title, readOnlyHint: t.readOnly, destructiveHint: !t.readOnly, idempotentHint: t.readOnly, openWorldHint: false },
      })),
    ],
  }));

  /** The held batches, and approving or rejecting one after the user confirms (MCP elicitation). */
  const pendingTool = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => {
    const text = (t: string, isError = false): CallToolResult => ({ ...(isError ? { isError: true } : {}), content: [{ type: 'text', text: bank.privacy.text(t) }] });
    if (name === 'memory_pending') {
      const held = bank.side.pendingBatches();
      return text(held.length ? [`${held.length} batch(es) held for the user's approval:`, ...held.flatMap((b) => describeHeldBatch(bank, b))].join('\n') : 'No operations are held for approval.');
    }
    if (typeof args.id !== 'string' || typeof args.approve !== 'boolean') throw new McpError(ErrorCode.InvalidParams, 'memory_pending_resolve takes {"id": string, "approve": boolean}.');
    const found = findHeldBatch(bank, args.id);
    if (typeof found === 'string') return text(found, true);
    const verb = args.approve ? 'apply' : 'drop';
    if (!opts.allowAgentApproval) {
      if (!server.getClientCapabilities()?.elicitation) {
        return text(`Held operations are approved by the user, and this client cannot ask the user (it does not support elicitation). The user can ${verb} it in VS Code's Project Memory panel or with \`memory-r1 pending ${args.approve ? 'approve' : 'reject'} ${found.id.slice(0, 8)}\`.`, true);
      }
      const answer = await server.elicitInput({
        message: bank.privacy.text(`${agent()} asks to ${verb} these held memory operations:\n${describeHeldBatch(bank, found).join('\n')}`),
        requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: `${args.approve ? 'Apply' : 'Drop'} these operations?` } }, required: ['confirm'] },
      });
      if (answer.action !== 'accept' || answer.content?.confirm !== true) return text(`The user did not confirm; the held batch ${found.id} is unchanged.`, true);
    }
    const recs = await bank.side.resolvePending(found.id, args.approve);
    opts.log?.(`memory_pending_resolve by ${agent()}: ${args.approve ? `applied ${recs.length} record(s)` : 'rejected'} ${found.id}`);
    return text(args.approve ? `Applied held batch ${found.id}: ${recs.map((r) => `${r.action} memory:${r.memoryId} (operation ${r.opId})`).join(', ')}.` : `Rejected held batch ${found.id}; the bank is unchanged.`);
  };

  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const name = req.params.name;
    if (PENDING_TOOLS.some((t) => t.name === name)) {
      try {
        return await pendingTool(name, (req.params.arguments ?? {}) as Record<string, unknown>);
      } catch (err) {
        if (err instanceof BankError) return { isError: true, content: [{ type: 'text', text: bank.privacy.text(err.message) }] };
        throw err;
      }
    }
    if (!toolSpec(name)) throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${name}". Tools: ${[...MEMORY_TOOLS, ...PENDING_TOOLS].map((t) => t.name).join(', ')}.`);
    try {
      const out = await runMemoryTool(name, req.params.arguments ?? {}, backend, { agent: bank.privacy.text(agent()), surface: 'mcp' }, extra.signal);
      opts.log?.(`${name} by ${agent()}: ${out.operations.length ? out.operations.map((o) => `${o.type} ${o.memoryId?.slice(0, 8) ?? ''}`.trim()).join(', ') : `${out.memories.length} memories`}`);
      // What goes back to an agent passes the boundary, whatever field a model or a stored text put it in.
      return {
        content: [{ type: 'text', text: bank.privacy.text(out.text) }, ...out.memories.map((m) => resourceLink(m))],
        structuredContent: bank.privacy.deep(out.data),
      };
    } catch (err) {
      // Refusals and model failures are the tool's result (the model can react); anything else is a bug.
      if (err instanceof ToolInputError || err instanceof BankError || err instanceof LlmError) {
        opts.log?.(`${name} by ${agent()} refused: ${err.message}`);
        return { isError: true, content: [{ type: 'text', text: bank.privacy.text(err.message) }] };
      }
      throw err;
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async (req) => {
    const offset = req.params?.cursor ? Number.parseInt(req.params.cursor, 10) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new McpError(ErrorCode.InvalidParams, `Bad cursor "${req.params?.cursor}".`);
    const list = bank.list({ status: 'active', offset, limit: PAGE });
    return {
      resources: [...(offset === 0 ? [conventionsEntry()] : []), ...list.items.map((m) => resourceEntry(toolMemory(bank, m)))],
      ...(offset + PAGE < list.total ? { nextCursor: String(offset + PAGE) } : {}),
    };
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      { uriTemplate: `${MEMORY_URI_PREFIX}{id}`, name: 'memory', title: 'A project memory by id', description: 'One memory with its status, dates, source and history.', mimeType: 'text/markdown' },
    ],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    const uri = req.params.uri;
    if (uri === CONVENTIONS_URI) return { contents: [{ uri, mimeType: 'text/markdown', text: conventionsText(backend) }] };
    const id = uri.startsWith(MEMORY_URI_PREFIX) ? decodeURIComponent(uri.slice(MEMORY_URI_PREFIX.length)) : '';
    const m = id ? bank.get(id) : undefined;
    if (!m) throw new McpError(ErrorCode.InvalidParams, `No memory at ${uri}.`);
    return { contents: [{ uri, mimeType: 'text/markdown', text: memoryMarkdown(backend, m) }] };
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: [
      {
        name: CONVENTIONS_PROMPT,
        title: "The project's conventions",
        description: "The project's current conventions, decisions and workflows (newest rule only), with the ones most relevant to a task first.",
        arguments: [{ name: 'task', description: 'What you are about to write or change (optional).', required: false }],
      },
    ],
  }));

  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    if (req.params.name !== CONVENTIONS_PROMPT) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt "${req.params.name}". Prompts: ${CONVENTIONS_PROMPT}.`);
    const task = bank.privacy.text(String(req.params.arguments?.task ?? '').trim());
    const relevant = task ? (await bank.search(task, { topK: 8, kinds: [...INSTRUCTION_KINDS] })).map((h) => `- ${bank.privacy.text(h.memory.text)} [memory:${h.memory.id}]`) : [];
    const text = [
      conventionsText(backend).trim(),
      ...(relevant.length ? ['', `Most relevant to the task "${task}":`, ...relevant] : []),
      '',
      task ? `Task: ${task}\nFollow these conventions in the code you write.` : 'Follow these conventions in the code you write for this project.',
    ].join('\n');
    return { description: "The project's conventions", messages: [{ role: 'user', content: { type: 'text', text } }] };
  });

  // Another agent, the extension or the CLI changed the bank: clients that list resources refresh.
  const sub = bank.onDidChange(() => {
    void server.sendResourceListChanged().catch(() => undefined);
  });
  const prevClose = server.onclose;
  server.onclose = () => {
    sub.dispose();
    prevClose?.();
  };
  return server;
}

function conventionsEntry() {
  return { uri: CONVENTIONS_URI, name: 'conventions', title: "The project's conventions", description: 'Current conventions, decisions and workflows, newest first (the section Project Memory writes into instruction files).', mimeType: 'text/markdown' };
}

function conventionsText(backend: ToolBackend): string {
  return bankInstructionSection(backend.bank, { maxChars: 20_000 }).text;
}

function resourceLink(m: ToolMemory) {
  return { type: 'resource_link' as const, uri: memoryUri(m.id), name: `memory:${m.id}`, description: m.text, mimeType: 'text/markdown' };
}

function resourceEntry(m: ToolMemory) {
  return {
    uri: memoryUri(m.id),
    name: `memory:${m.id}`,
    title: m.text.length > 80 ? m.text.slice(0, 79) + '…' : m.text,
    description: `${m.date} · ${m.status}${m.needsReview ? ' · needs review' : ''} · ${m.sourceLabel}`,
    mimeType: 'text/markdown',
    annotations: { lastModified: m.updatedAt },
  };
}

function memoryMarkdown(backend: ToolBackend, raw: Memory): string {
  const { bank } = backend;
  const m = toolMemory(bank, raw);
  const p = (s: string | undefined) => bank.privacy.text(s ?? '');
  const lines = [
    `# memory:${m.id}`,
    '',
    m.text,
    '',
    `- status: ${m.status}${m.validTo ? ` (until ${m.validTo.slice(0, 10)})` : ''}`,
    `- date: ${m.date}; updated ${m.updatedAt}`,
    `- source: ${m.sourceLabel}`,
    ...(m.supersedes ? [`- replaces: memory:${m.supersedes}`] : []),
    ...(m.supersededBy ? [`- replaced by: memory:${m.supersededBy}`] : []),
    ...(m.tags?.length ? [`- tags: ${m.tags.join(', ')}`] : []),
    ...(m.needsReview ? [`- NEEDS REVIEW: its cited files changed: ${m.needsReview.join('; ')}`] : []),
    ...evidenceLines(bank, m.id),
    '',
    '## History',
    ...bank.history(m.id).map((r) => `- ${r.time.slice(0, 16).replace('T', ' ')} ${r.action} (operation ${r.opId})${r.source ? ` · ${r.source.kind}${r.source.actor ? ` by ${p(r.source.actor)}` : ''}` : ''}${r.reason ? ` · ${p(r.reason)}` : ''}`),
  ];
  return lines.join('\n');
}

/** What the memory cites in the workspace (the evidence ledger), one line each. */
function evidenceLines(bank: ToolBackend['bank'], id: string): string[] {
  const evidence = freshnessFor(bank).ledger.state(id)?.evidence ?? [];
  return evidence.length ? ['- evidence:', ...evidence.map((e) => `  - ${bank.privacy.text(describeEvidence(e))}`)] : [];
}
