import * as vscode from 'vscode';
import { errorMessage } from '../errors';
import { databaseLabel, readEndpointSettings, readLocalModelSettings, readStorageSettings, SECTION, storeApiKey, storeDatabasePassword, validateEndpointUrl } from '../settings';
import { withAbortSignal } from '../ui';
import type { CommandDeps, Register } from './ui';

export const ENDPOINT_PRESETS: { label: string; url: string }[] = [
  { label: 'Ollama', url: 'http://localhost:11434/v1' },
  { label: 'vLLM', url: 'http://localhost:8000/v1' },
  { label: 'llama.cpp server', url: 'http://localhost:8080/v1' },
  { label: 'LM Studio', url: 'http://localhost:1234/v1' },
  { label: 'OpenAI', url: 'https://api.openai.com/v1' },
];

/** The endpoint, its API key, the database password, the log. */
export function settingsCommands(deps: CommandDeps, reg: Register): vscode.Disposable[] {
  const { pm } = deps;
  return [
    reg('configureEndpoint', vscode.l10n.t('Configuring the endpoint failed'), () => configureEndpoint(deps)),

    reg('setApiKey', vscode.l10n.t('Setting the API key failed'), async () => {
      const url = readEndpointSettings().url;
      if (!url) {
        const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Configure an endpoint first.'), vscode.l10n.t('Configure Endpoint'));
        if (choice) await vscode.commands.executeCommand('projectMemory.configureEndpoint');
        return undefined;
      }
      const key = await vscode.window.showInputBox({ prompt: vscode.l10n.t('API key for {0} (stored in VS Code secret storage; leave empty to remove)', url), password: true, ignoreFocusOut: true });
      if (key === undefined) return undefined;
      await storeApiKey(pm.context.secrets, url, key.trim());
      void vscode.window.showInformationMessage(key.trim() ? vscode.l10n.t('API key saved for {0}.', url) : vscode.l10n.t('API key removed for {0}.', url));
      return true;
    }),

    reg('setDatabasePassword', vscode.l10n.t('Setting the database password failed'), async () => {
      const url = readStorageSettings().postgresUrl;
      if (!url) {
        void vscode.window.showWarningMessage(vscode.l10n.t('No shared bank is configured: set projectMemory.storage.postgresUrl in your user settings first.'));
        return undefined;
      }
      const where = databaseLabel(url) ?? vscode.l10n.t('the configured database');
      const password = await vscode.window.showInputBox({
        prompt: vscode.l10n.t('Password for {0} (stored in VS Code secret storage; leave empty to remove)', where),
        password: true,
        ignoreFocusOut: true,
      });
      if (password === undefined) return undefined;
      await storeDatabasePassword(pm.context.secrets, url, password);
      void vscode.window.showInformationMessage(password ? vscode.l10n.t('Database password saved for {0}.', where) : vscode.l10n.t('Database password removed for {0}.', where));
      await pm.reopenBank().catch((err) => pm.log.warn(`Reopening the memory bank failed: ${String(err)}`));
      return true;
    }),

    reg('showLog', vscode.l10n.t('Show log'), async () => pm.log.show()),
  ];
}

async function configureEndpoint(deps: CommandDeps): Promise<string | undefined> {
  const { pm } = deps;
  const current = readEndpointSettings().url;
  const picked = await vscode.window.showQuickPick(
    [
      { label: vscode.l10n.t('Built-in local model'), description: vscode.l10n.t('Runs on this machine; downloaded once'), url: 'builtin' },
      ...ENDPOINT_PRESETS.map((p) => ({ label: p.label, description: p.url, url: p.url })),
      { label: vscode.l10n.t('Custom URL…'), description: vscode.l10n.t('Any OpenAI-compatible server'), url: '' },
      { label: vscode.l10n.t("Use VS Code's language models"), description: vscode.l10n.t('No endpoint; uses the chat model you pick in VS Code'), url: '-' },
    ],
    {
      placeHolder: current
        ? vscode.l10n.t('Current endpoint: {0}', current)
        : readLocalModelSettings().enabled
          ? vscode.l10n.t('Current endpoint: the built-in local model')
          : vscode.l10n.t('Where should Project Memory send model requests?'),
    },
  );
  if (!picked) return undefined;
  const cfg = vscode.workspace.getConfiguration(SECTION);
  if (picked.url === 'builtin') return vscode.commands.executeCommand('projectMemory.useBuiltInModel');
  // Another endpoint replaces the built-in local model (its server stops).
  if (readLocalModelSettings().enabled) await cfg.update('localModel.enabled', undefined, vscode.ConfigurationTarget.Global);
  if (picked.url === '-') {
    await cfg.update('endpoint.url', undefined, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(vscode.l10n.t("Project Memory now uses VS Code's language models."));
    return '';
  }
  let url = picked.url;
  if (!url) {
    url = (await vscode.window.showInputBox({ prompt: vscode.l10n.t('OpenAI-compatible base URL (ending in /v1)'), value: current || 'http://localhost:8000/v1', validateInput: validateEndpointUrl })) ?? '';
    if (!url) return undefined;
  }
  url = url.trim().replace(/\/+$/, '');
  const { getApiKey } = await import('../settings');
  let apiKey = await getApiKey(pm.context.secrets, url);
  const { testConnection } = await import('../../core/llm/openaiChatModel');
  for (;;) {
    const res = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Testing {0}…', url), cancellable: true },
      (_p, token) => withAbortSignal(token, (signal) => testConnection(url, apiKey, signal)),
    );
    if (res.ok) {
      await cfg.update('endpoint.url', url, vscode.ConfigurationTarget.Global);
      await chooseModels(res.models);
      void vscode.window.showInformationMessage(vscode.l10n.t('Project Memory uses {0} ({1} models).', url, res.models.length));
      return url;
    }
    const retry = vscode.l10n.t('Retry');
    const setKey = vscode.l10n.t('Enter API Key');
    const saveAnyway = vscode.l10n.t('Save Anyway');
    const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Cannot use {0}: {1}', url, res.error), retry, setKey, saveAnyway);
    if (choice === setKey) {
      const key = await vscode.window.showInputBox({ prompt: vscode.l10n.t('API key for {0}', url), password: true, ignoreFocusOut: true });
      if (key === undefined) return undefined;
      apiKey = key.trim();
      await storeApiKey(pm.context.secrets, url, apiKey);
    } else if (choice === saveAnyway) {
      await cfg.update('endpoint.url', url, vscode.ConfigurationTarget.Global);
      return url;
    } else if (choice !== retry) {
      return undefined;
    }
  }
}

async function chooseModels(models: string[]): Promise<void> {
  if (!models.length) return;
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const answer = models.length === 1 ? { label: models[0] } : await vscode.window.showQuickPick(models.map((m) => ({ label: m })), { placeHolder: vscode.l10n.t('Model for answers (and, unless you pick others, for extraction and memory management)') });
  if (!answer) return;
  await cfg.update('models.answer', answer.label, vscode.ConfigurationTarget.Global);
  if (models.length === 1) return;
  const same = vscode.l10n.t('Same model for everything');
  const manager = await vscode.window.showQuickPick([{ label: same }, ...models.map((m) => ({ label: m }))], { placeHolder: vscode.l10n.t('Model for the memory manager and fact extraction') });
  const value = !manager || manager.label === same ? undefined : manager.label;
  await cfg.update('models.manager', value, vscode.ConfigurationTarget.Global);
  await cfg.update('models.extractor', value, vscode.ConfigurationTarget.Global);
}
