import * as vscode from 'vscode';
import type { ProjectMemory } from '../projectMemory';
import { registerMemoryLanguageModelTools } from './languageModelTools';
import { registerCopyMcpConfigCommand, registerMcpServerProvider } from './mcpServerProvider';

/** The memory tools for agents: language-model tools, the MCP server definition, and the copy-config command. */
export function registerAgentTools(pm: ProjectMemory): vscode.Disposable[] {
  const lm = vscode.lm as Partial<typeof vscode.lm> | undefined;
  // A host without these APIs (older than 1.101) gets the rest of the extension.
  return [
    registerCopyMcpConfigCommand(pm),
    ...(lm?.registerTool ? registerMemoryLanguageModelTools(pm) : []),
    ...(lm?.registerMcpServerDefinitionProvider ? registerMcpServerProvider(pm) : []),
  ];
}
