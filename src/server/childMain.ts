// `dist/server.js`: `memory-r1 serve` as a child process of the extension (built-in local model).
// It tells its parent where it listens over the IPC channel, and stops when the parent goes away.
import { runServeCommand } from './serveCommand';

/** The message the parent receives once the server answers on its port. */
export interface ChildListening {
  type: 'listening';
  url: string;
  model: string;
  /** Model ids of the LoRA adapters served beside it (the trained manager). */
  adapters?: string[];
}

const stop = new AbortController();
// The parent (the extension host) closed the channel: it stopped or crashed, so nobody needs the server.
process.on('disconnect', () => stop.abort());

void runServeCommand(process.argv.slice(2), {
  signal: stop.signal,
  onListening: (server) => {
    const msg: ChildListening = { type: 'listening', url: server.url, model: server.model, adapters: server.adapters };
    process.send?.(msg);
  },
}).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`memory-r1 serve: ${String(err)}\n`);
    process.exit(1);
  },
);
