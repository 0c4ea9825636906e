import type { CliCommand } from '../command';

/** `memory-r1 serve`: the local OpenAI-compatible model server (node-llama-cpp, loaded lazily). */
export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve a local GGUF model over the OpenAI protocol on 127.0.0.1',
  usage: 'memory-r1 serve --help for the options',
  ownsArguments: true,
  async run(_args, io, argv) {
    const { runServeCommand } = await import('../../server/serveCommand');
    // The server parses its own flags (strictly), so hand it the raw arguments.
    return runServeCommand(argv ?? [], { out: io.out, err: io.err });
  },
};
