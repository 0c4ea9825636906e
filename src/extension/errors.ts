import * as vscode from 'vscode';
import { BankError, LlmError, isAbortError } from '../core/errors';

export interface ErrorAction {
  title: string;
  command: string;
  args?: unknown[];
}

/** An error the user can fix, with the commands that fix it. */
export class ActionableError extends Error {
  constructor(
    message: string,
    readonly actions: ErrorAction[] = [],
  ) {
    super(message);
    this.name = 'ActionableError';
  }
}

export function isCancellation(err: unknown): boolean {
  return isAbortError(err) || (err instanceof LlmError && err.code === 'CANCELLED') || err instanceof vscode.CancellationError;
}

/** The actions that help with an error: model errors lead to the endpoint setup. */
export function actionsFor(err: unknown): ErrorAction[] {
  if (err instanceof ActionableError) return err.actions;
  const configure = { title: vscode.l10n.t('Configure Endpoint'), command: 'projectMemory.configureEndpoint' };
  const showLog = { title: vscode.l10n.t('Show Log'), command: 'projectMemory.showLog' };
  if (err instanceof LlmError) {
    if (err.status === 401 || err.status === 403) return [{ title: vscode.l10n.t('Set API Key'), command: 'projectMemory.setApiKey' }, configure];
    return [configure, showLog];
  }
  if (err instanceof BankError) return [showLog];
  return [showLog];
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Logs the error and shows it with its actions; a cancellation is silent. */
export async function showError(log: vscode.LogOutputChannel, prefix: string, err: unknown): Promise<void> {
  if (isCancellation(err)) return;
  log.error(`${prefix}: ${errorMessage(err)}`);
  const actions = actionsFor(err);
  const choice = await vscode.window.showErrorMessage(`${prefix}: ${errorMessage(err)}`, ...actions.map((a) => a.title));
  const action = actions.find((a) => a.title === choice);
  if (action) await vscode.commands.executeCommand(action.command, ...(action.args ?? []));
}
