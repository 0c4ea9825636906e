import * as vscode from 'vscode';
import { bankCommands } from './bankCommands';
import { captureCommands } from './captureCommands';
import { memoryCommands } from './memoryCommands';
import { settingsCommands } from './settingsCommands';
import { freshnessCommands } from './freshnessCommands';
import { instructionsCommands } from './instructionsCommands';
import { type CommandDeps, type Register, guarded } from './ui';

export type { CommandDeps } from './ui';
export { ENDPOINT_PRESETS } from './settingsCommands';
export { describeOperation } from '../chat/memoryParticipant';

/** Every `projectMemory.*` command, one file per group. */
export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const reg: Register = (id, title, fn) => vscode.commands.registerCommand(`projectMemory.${id}`, guarded(deps, title, fn));
  return [...memoryCommands(deps, reg), ...bankCommands(deps, reg), ...captureCommands(deps, reg), ...settingsCommands(deps, reg), ...freshnessCommands(deps, reg), ...instructionsCommands(deps, reg)];
}
