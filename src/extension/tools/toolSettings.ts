import * as vscode from 'vscode';
import { SECTION } from '../settings';

/** `projectMemory.tools.enabled`: the memory tools and the MCP server definition are offered at all. */
export function readToolsEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('tools.enabled', true) !== false;
}

/** Tools are offered only in a trusted workspace with the setting on (the same as their `when` clause). */
export function toolsAvailable(): boolean {
  return vscode.workspace.isTrusted && readToolsEnabled();
}

/** The error a call gets when the tools are off (a caller that ignores the `when` clause, or a stale tool list). */
export function toolsOffMessage(): string {
  return vscode.workspace.isTrusted
    ? vscode.l10n.t('Project Memory tools are turned off (projectMemory.tools.enabled).')
    : vscode.l10n.t('Project Memory tools are off in an untrusted workspace.');
}
