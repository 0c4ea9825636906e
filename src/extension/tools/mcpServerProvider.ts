// Lists `memory-r1 mcp` (dist/mcp.js) in VS Code's MCP servers, on this workspace's bank, and copies
// the same launch as configuration for other agents (Claude Code, Cursor, Cline).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ProjectMemory } from '../projectMemory';
import { readEndpointSettings, readManagerProtocol, readStorageSettings, SECTION, withDatabasePassword } from '../settings';
import { defaultBankId } from '../../core/bank/bankId';
import { toolsAvailable } from './toolSettings';

export const MCP_PROVIDER_ID = 'project-memory.mcp';
export const COPY_MCP_CONFIG_COMMAND = 'projectMemory.copyMcpConfig';

export interface McpLaunch {
  command: string;
  args: string[];
  /** Only what is not secret (secrets are added when VS Code starts the server). */
  env: Record<string, string>;
}

/** How to start the MCP server on this workspace's bank (files or the shared database). */
export function mcpLaunch(pm: ProjectMemory, nodeCommand = process.execPath): McpLaunch {
  const args = [path.join(pm.context.extensionPath, 'dist', 'mcp.js')];
  const env: Record<string, string> = {};
  const storage = readStorageSettings();
  if (storage.postgresUrl) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    // The URL without a password; the password goes only into the started process's environment (resolve).
    env.MEMORY_R1_POSTGRES_URL = withoutPassword(storage.postgresUrl);
    env.MEMORY_R1_BANK_ID = storage.bankId || (folder ? defaultBankId(folder) : 'no-workspace');
  } else args.push('--bank', pm.bankFolder);
  const s = readEndpointSettings();
  if (s.embeddingsProvider === 'endpoint' && s.embeddingsModel) args.push('--embedder', `openai:${s.embeddingsModel}`);
  // The extension host's Node is Electron in desktop VS Code: run it as Node.
  if (nodeCommand === process.execPath && process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  return { command: nodeCommand, args, env };
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** Environment for the started server: the endpoint the extension would use (after consent), its key, the database password. */
export async function mcpSecretsEnv(pm: ProjectMemory): Promise<Record<string, string>> {
  const env: Record<string, string> = { MEMORY_R1_MANAGER_PROTOCOL: readManagerProtocol() };
  const ep = await pm.endpointIfAllowed(true);
  if (ep) {
    const s = readEndpointSettings();
    env.MEMORY_R1_BASE_URL = ep.url;
    if (ep.apiKey) env.MEMORY_R1_API_KEY = ep.apiKey;
    const model = ep.builtInModel ?? s.answerModel;
    if (model) env.MEMORY_R1_MODEL = model;
    if (!ep.builtInModel && s.managerModel) env.MEMORY_R1_MANAGER_MODEL = s.managerModel;
  }
  const storage = readStorageSettings();
  if (storage.postgresUrl) env.MEMORY_R1_POSTGRES_URL = await withDatabasePassword(pm.context.secrets, storage.postgresUrl);
  return env;
}

export function registerMcpServerProvider(pm: ProjectMemory): vscode.Disposable[] {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition> = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions() {
      // Off means off: no server is listed in an untrusted workspace or with the tools turned off.
      if (!toolsAvailable()) return [];
      const l = mcpLaunch(pm);
      const def = new vscode.McpStdioServerDefinition(vscode.l10n.t('Project Memory'), l.command, l.args, l.env, String(pm.context.extension?.packageJSON?.version ?? '0'));
      def.cwd = vscode.workspace.workspaceFolders?.[0]?.uri;
      return [def];
    },
    async resolveMcpServerDefinition(server) {
      if (!toolsAvailable()) return undefined;
      server.env = { ...server.env, ...(await mcpSecretsEnv(pm)) };
      return server;
    },
  };
  return [
    changed,
    vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.tools`) || e.affectsConfiguration(`${SECTION}.storage`) || e.affectsConfiguration(`${SECTION}.embeddings`)) changed.fire();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
  ];
}

/** `mcpServers` JSON for Claude Code, Cursor and Cline, on this workspace's bank (no secrets: they stay in VS Code). */
export function mcpConfigSnippet(pm: ProjectMemory): string {
  const l = mcpLaunch(pm, 'node');
  const endpoint = readEndpointSettings().url;
  const model = readEndpointSettings().answerModel;
  const env: Record<string, string> = { ...l.env, ...(endpoint ? { MEMORY_R1_BASE_URL: endpoint, ...(model ? { MEMORY_R1_MODEL: model } : {}) } : {}) };
  return JSON.stringify({ mcpServers: { 'project-memory': { command: l.command, args: l.args, ...(Object.keys(env).length ? { env } : {}) } } }, null, 2);
}

export function registerCopyMcpConfigCommand(pm: ProjectMemory): vscode.Disposable {
  return vscode.commands.registerCommand(COPY_MCP_CONFIG_COMMAND, async () => {
    const text = mcpConfigSnippet(pm);
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Copied the MCP server configuration for this workspace\'s memory bank. Paste it into Claude Code (.mcp.json), Cursor (.cursor/mcp.json) or Cline (cline_mcp_settings.json); an API key goes into its "env" as MEMORY_R1_API_KEY.'),
    );
    return text;
  });
}
