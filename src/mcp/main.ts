// dist/mcp.js: `memory-r1 mcp` as its own bundle for the packaged extension, which ships no
// node_modules for it (pg and the SDK are bundled in). VS Code starts it through the
// mcpServerDefinitionProviders contribution; the CLI's `memory-r1 mcp` runs the same command.
import { parseArgs, UsageError } from '../cli/args';
import { mcpCommand } from '../cli/commands/mcp';
import { BankError, LlmError } from '../core/errors';
import { redactSecrets } from '../core/privacy/redact';

const err = (l: string) => process.stderr.write(redactSecrets(l).text + '\n');

async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write(mcpCommand.usage + '\n');
    return 0;
  }
  try {
    // stdout carries the protocol: everything else goes to stderr.
    return await mcpCommand.run(parseArgs(argv, new Set(['no-redaction', 'allow-agent-approval'])), { out: err, err });
  } catch (e) {
    err(`memory-r1 mcp: ${e instanceof UsageError || e instanceof BankError || e instanceof LlmError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    err(String(e));
    process.exit(1);
  },
);
