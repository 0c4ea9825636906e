import type { ParsedArgs } from './args';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Flags that take no value. */
  switches?: string[];
  /** The command parses its own arguments, `--help` included. */
  ownsArguments?: boolean;
  run(args: ParsedArgs, io: CliIo, argv?: string[]): Promise<number>;
}
