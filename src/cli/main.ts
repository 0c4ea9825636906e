import { parseArgs, UsageError } from './args';
import type { CliIo } from './command';
import { COMMANDS } from './commands';
import { BankError, LlmError } from '../core/errors';
import { redactSecrets } from '../core/privacy/redact';

const io: CliIo = {
  // Every printed line passes the redactor: a line can quote a model's output or a stored text.
  out: (l) => process.stdout.write(redactSecrets(l).text + '\n'),
  // Error text can quote a server's reply or a file's content: it passes the redactor like everything else.
  err: (l) => process.stderr.write(redactSecrets(l).text + '\n'),
};

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'memory-r1 — the Project Memory engine (Memory-R1) from the command line',
    '',
    'Usage: memory-r1 <command> [options]   (memory-r1 <command> --help for details)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`memory-r1: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (!cmd.ownsArguments && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(cmd.ownsArguments ? { positionals: [], flags: new Map() } : parseArgs(rest, new Set([...(cmd.switches ?? []), 'no-redaction'])), io, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`memory-r1 ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof BankError || err instanceof LlmError) {
      io.err(`memory-r1 ${name}: ${err.message}`);
      return 1;
    }
    io.err(`memory-r1 ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  // `memory-r1 list | head`: the reader closed the pipe; that ends the output, it is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(String(err) + '\n');
      process.exitCode = 1;
    },
  );
}
