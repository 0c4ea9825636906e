// The MCP server's stdio transport. The SDK's own drops what it cannot parse without a reply (the client
// waits forever) and ends the session on one oversized message; here every bad line gets a JSON-RPC 2.0
// error reply, is logged to stderr, and the session goes on.
import process from 'node:process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  JSONRPCMessageSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';

/** The largest message (one line) read; a longer one is skipped to its end and answered with an error. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** Requests whose params are checked here, so a wrong type gets -32602 (invalid params) with a short reason. */
const PARAM_SCHEMAS = {
  initialize: InitializeRequestSchema,
  'tools/list': ListToolsRequestSchema,
  'tools/call': CallToolRequestSchema,
  'resources/list': ListResourcesRequestSchema,
  'resources/templates/list': ListResourceTemplatesRequestSchema,
  'resources/read': ReadResourceRequestSchema,
} as const;

type Id = string | number | null;

export class FramedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes of an oversized line still to skip, up to its newline. */
  private skipping = false;
  private closed = false;

  constructor(
    private readonly log: (line: string) => void,
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
    private readonly maxBytes = MAX_MESSAGE_BYTES,
  ) {}

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStreamError);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStreamError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.chunks = [];
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(JSON.stringify(message) + '\n')) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  private readonly onStreamError = (err: Error): void => {
    this.onerror?.(err);
  };

  private readonly onData = (chunk: Buffer): void => {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) {
        this.keep(chunk.subarray(from));
        return;
      }
      this.keep(chunk.subarray(from, nl));
      from = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.reject(null, ErrorCode.InvalidRequest, `Message too large: the limit is ${this.maxBytes / 1024 / 1024} MiB per message; it was skipped.`);
        continue;
      }
      const line = Buffer.concat(this.chunks).toString('utf8').replace(/\r$/, '');
      this.chunks = [];
      this.buffered = 0;
      if (line.trim()) this.handleLine(line);
    }
  };

  private keep(part: Buffer): void {
    if (this.skipping || !part.length) return;
    if (this.buffered + part.length > this.maxBytes) {
      this.skipping = true;
      this.chunks = [];
      this.buffered = 0;
      return;
    }
    this.chunks.push(part);
    this.buffered += part.length;
  }

  private handleLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      return this.reject(null, ErrorCode.ParseError, `Parse error: the message is not JSON (${(err as Error).message}).`);
    }
    if (Array.isArray(raw)) {
      return this.reject(null, ErrorCode.InvalidRequest, 'Invalid Request: batch arrays are not supported (MCP 2025-06-18 removed JSON-RPC batching); send one message per line.');
    }
    if (typeof raw !== 'object' || raw === null) return this.reject(null, ErrorCode.InvalidRequest, 'Invalid Request: a message must be a JSON object.');
    const o = raw as Record<string, unknown>;
    const id: Id = typeof o.id === 'string' || typeof o.id === 'number' ? o.id : null;
    if (o.jsonrpc !== '2.0') return this.reject(id, ErrorCode.InvalidRequest, `Invalid Request: "jsonrpc" must be "2.0", not ${JSON.stringify(o.jsonrpc ?? null)}.`);
    const parsed = JSONRPCMessageSchema.safeParse(raw);
    if (!parsed.success) return this.reject(id, ErrorCode.InvalidRequest, `Invalid Request: ${describeIssue(parsed.error)}.`);
    const method = typeof o.method === 'string' ? o.method : undefined;
    const schema = method && o.id !== undefined ? PARAM_SCHEMAS[method as keyof typeof PARAM_SCHEMAS] : undefined;
    if (schema) {
      const check = schema.safeParse(raw);
      if (!check.success) return this.reject(id, ErrorCode.InvalidParams, `Invalid params for ${method}: ${describeIssue(check.error)}.`);
    }
    this.onmessage?.(parsed.data);
  }

  private reject(id: Id, code: number, message: string): void {
    this.log(`rejected a message: ${message}`);
    // A notification (no id) gets no reply, as JSON-RPC 2.0 says; anything that may be a request does.
    void this.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage);
  }
}

/** The first problem zod found, as `params.arguments: expected object, received string`. */
function describeIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  if (!issue) return 'malformed';
  const where = issue.path.length ? issue.path.map(String).join('.') : 'message';
  return `${where}: ${issue.message}`.slice(0, 300);
}
