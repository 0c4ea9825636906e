// Operations held for approval (the retirement caps, the destructive-batch guard), as the CLI and the MCP
// server show them. Approving or rejecting is the user's decision: surfaces ask the user before they call
// `bank.resolvePending` (the MCP server through elicitation, the CLI by the user typing the command).
import type { MemoryBank, PendingBatch } from '../bank/memoryBank';

export const PENDING_TOOLS = [
  {
    name: 'memory_pending',
    title: 'List held memory operations',
    description:
      'List the memory operations held for the user\'s approval (an event or session that would retire more existing memories than allowed, ' +
      'or one change to many memories at once), with the reason and what each would do. Read-only.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    readOnly: true,
  },
  {
    name: 'memory_pending_resolve',
    title: 'Approve or reject held memory operations',
    description:
      'Approve (apply) or reject (drop) one held batch by its id from memory_pending. The user is asked to confirm first; ' +
      'without a client that can ask the user, the call is refused and the user approves in VS Code or with `memory-r1 pending`.',
    inputSchema: {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'The held batch id (or a unique prefix of at least 8 characters).' },
        approve: { type: 'boolean', description: 'true applies the held operations; false drops them.' },
      },
      required: ['id', 'approve'],
      additionalProperties: false,
    },
    readOnly: false,
  },
] as const;

/** A held batch as lines of text: why it is held, the fact, each operation with the memory it touches. */
export function describeHeldBatch(bank: MemoryBank, b: PendingBatch): string[] {
  const p = (s: string) => bank.privacy.text(s);
  const lines = [`${b.id}  ${b.time.slice(0, 16).replace('T', ' ')}  held: ${p(b.reason)}`];
  if (b.ctx.fact) lines.push(`  fact: "${p(b.ctx.fact)}"`);
  for (const o of b.ops) {
    const before = o.memoryId ? (bank.get(o.memoryId)?.text ?? b.ctx.candidates?.find((c) => c.memoryId === o.memoryId)?.text) : undefined;
    lines.push(`  ${o.type}${o.memoryId ? ` ${o.memoryId.slice(0, 8)}` : ''}${before !== undefined ? ` "${p(before)}"` : ''}${o.text !== undefined && o.type !== 'DELETE' ? ` -> "${p(o.text)}"` : ''}`);
  }
  return lines;
}

/** The held batch an id (or a unique prefix) names; an error message otherwise. */
export function findHeldBatch(bank: MemoryBank, idOrPrefix: string): PendingBatch | string {
  const matches = bank.side.pendingBatches().filter((b) => b.id.startsWith(idOrPrefix.trim()));
  if (matches.length === 1) return matches[0];
  return matches.length ? `"${idOrPrefix}" matches ${matches.length} held batches; give more of the id.` : `No held batch "${idOrPrefix}" (list them with memory_pending or \`memory-r1 pending\`).`;
}
