// The MCP server as the extension ships it (src/mcp/main.ts, bundled like dist/mcp.js), started over
// stdio by the official SDK client.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface McpSession {
  client: Client;
  stderr: () => string;
  close(): Promise<void>;
}

export type ToolResult = { content: { type: string; text?: string; uri?: string }[]; structuredContent?: any; isError?: boolean };

/** Bundles the server into a temp folder; returns the script and a cleanup. */
export async function bundleMcpServer(): Promise<{ script: string; cleanup(): void }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-mcp-'));
  const script = path.join(tmp, 'mcp.cjs');
  await build({
    entryPoints: [path.resolve('src/mcp/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'node-llama-cpp', 'onnxruntime-node', 'onnxruntime-web', 'pg-native'],
    outfile: script,
    logLevel: 'silent',
  });
  return { script, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

/**
 * Starts the server (without the caller's MEMORY_R1_* variables) and connects a client named `name`. With
 * `elicit`, the client can ask its user (MCP elicitation) and this function answers for the user.
 */
export async function connectMcp(script: string, args: string[], name = 'test-agent', elicit?: (message: string) => { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> }): Promise<McpSession> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MEMORY_R1_')) env[k] = v;
  const transport = new StdioClientTransport({ command: process.execPath, args: [script, ...args], env, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name, version: '1.0.0' }, elicit ? { capabilities: { elicitation: {} } } : undefined);
  if (elicit) client.setRequestHandler(ElicitRequestSchema, async (req) => elicit(req.params.message));
  await client.connect(transport);
  return { client, stderr: () => err, close: () => client.close() };
}

export const callTool = async (s: McpSession, name: string, args: Record<string, unknown>) => (await s.client.callTool({ name, arguments: args })) as ToolResult;
export const textOf = (r: ToolResult) => r.content.find((c) => c.type === 'text')!.text!;
