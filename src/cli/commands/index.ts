import type { CliCommand } from '../command';
import {
  addCommand,
  askCommand,
  exportCommand,
  historyCommand,
  importCommand,
  ingestCommand,
  listCommand,
  pendingCommand,
  rememberCommand,
  scrubCommand,
  searchCommand,
  undoCommand,
} from './bankCommands';
import { evalCommand } from './eval';
import { checkCommand, consolidateCommand } from './freshness';
import { instructionsCommand } from './instructions';
import { demoCommand } from './demo';
import { serveCommand } from './serve';
import { mcpCommand } from './mcp';
import { buildTrainingDataCommand, exportTrainingCommand, rewardCommand } from './training';

/** Every `memory-r1` sub-command. Add new ones here. */
export const COMMANDS: CliCommand[] = [
  ingestCommand,
  rememberCommand,
  askCommand,
  addCommand,
  searchCommand,
  listCommand,
  historyCommand,
  undoCommand,
  pendingCommand,
  checkCommand,
  consolidateCommand,
  instructionsCommand,
  exportCommand,
  importCommand,
  scrubCommand,
  evalCommand,
  exportTrainingCommand,
  buildTrainingDataCommand,
  rewardCommand,
  serveCommand,
  mcpCommand,
  demoCommand,
];
