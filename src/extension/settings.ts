import * as vscode from 'vscode';

export const SECTION = 'projectMemory';

export interface EndpointSettings {
  /** OpenAI-compatible base URL ending in /v1; empty means "use VS Code's language models". */
  url: string;
  extractorModel: string;
  managerModel: string;
  answerModel: string;
  embeddingsProvider: 'auto' | 'hashing' | 'local' | 'endpoint';
  embeddingsModel: string;
}

export interface CaptureSettings {
  enabled: boolean;
  saves: boolean;
  commits: boolean;
  terminal: boolean;
  diagnostics: boolean;
  chat: boolean;
  exclude: string[];
}

/**
 * Settings that decide where data is sent. A workspace (folder) value is only honoured in a trusted
 * workspace, so a cloned repository cannot redirect your code and chats to its own server.
 */
function machineSetting<T>(key: string, fallback: T): T {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const i = cfg.inspect<T>(key);
  if (!i) return fallback;
  if (vscode.workspace.isTrusted) {
    const v = i.workspaceFolderValue ?? i.workspaceValue ?? i.globalValue ?? i.defaultValue;
    return v ?? fallback;
  }
  return i.globalValue ?? i.defaultValue ?? fallback;
}

export function readEndpointSettings(): EndpointSettings {
  const url = String(machineSetting('endpoint.url', '')).trim().replace(/\/+$/, '');
  const answerModel = String(machineSetting('models.answer', '')).trim();
  const provider = machineSetting<string>('embeddings.provider', 'auto');
  return {
    url,
    answerModel,
    managerModel: String(machineSetting('models.manager', '')).trim(),
    extractorModel: String(machineSetting('models.extractor', '')).trim(),
    embeddingsProvider: provider === 'endpoint' || provider === 'local' || provider === 'hashing' ? provider : 'auto',
    embeddingsModel: String(machineSetting('embeddings.model', '')).trim(),
  };
}

export interface StorageSettings {
  /** Empty: files in the workspace storage. */
  postgresUrl: string;
  /** Empty: derived from the repository (see core/bank/bankId). */
  bankId: string;
}

/** Where the bank lives. The database URL is read from user/machine settings only (scope "machine"). */
export function readStorageSettings(): StorageSettings {
  const i = vscode.workspace.getConfiguration(SECTION).inspect<string>('storage.postgresUrl');
  const postgresUrl = String(i?.globalValue ?? i?.defaultValue ?? '').trim();
  return { postgresUrl, bankId: String(machineSetting('storage.bankId', '')).trim() };
}

export function readCaptureSettings(): CaptureSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const exclude = cfg.get<unknown>('capture.exclude', []);
  return {
    enabled: cfg.get<boolean>('capture.enabled', true),
    saves: cfg.get<boolean>('capture.saves', true),
    commits: cfg.get<boolean>('capture.commits', true),
    terminal: cfg.get<boolean>('capture.terminal', true),
    diagnostics: cfg.get<boolean>('capture.diagnostics', true),
    chat: cfg.get<boolean>('capture.chat', true),
    exclude: Array.isArray(exclude) ? exclude.filter((g): g is string => typeof g === 'string' && g.trim() !== '') : [],
  };
}

/** The Memory Manager protocol (`projectMemory.manager.protocol`). */
export function readManagerProtocol(): 'per-fact' | 'paper' {
  return vscode.workspace.getConfiguration(SECTION).get<string>('manager.protocol', 'per-fact') === 'paper' ? 'paper' : 'per-fact';
}

export function readAnswerTopK(): number {
  const v = vscode.workspace.getConfiguration(SECTION).get<number>('answer.topK', 60);
  return Number.isFinite(v) && v >= 1 ? Math.min(200, Math.floor(v)) : 60;
}

/** Tokens of memories and source excerpts the answer model reads (projectMemory.answer.contextTokens). */
export function readAnswerContextTokens(): number {
  const v = vscode.workspace.getConfiguration(SECTION).get<number>('answer.contextTokens', 2500);
  return Number.isFinite(v) && v >= 500 ? Math.min(100_000, Math.floor(v)) : 2500;
}

/** Validates an endpoint URL typed by the user; returns an error message or undefined. */
export function validateEndpointUrl(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    return vscode.l10n.t('Enter a full URL such as http://localhost:11434/v1');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return vscode.l10n.t('The endpoint URL must start with http:// or https://');
  return undefined;
}

export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

function apiKeySecretName(url: string): string {
  let origin = url;
  try {
    origin = new URL(url).origin;
  } catch {
    /* keep the raw string */
  }
  return `projectMemory.apiKey:${origin}`;
}

export function getApiKey(secrets: vscode.SecretStorage, url: string): Thenable<string | undefined> {
  return secrets.get(apiKeySecretName(url));
}

export function storeApiKey(secrets: vscode.SecretStorage, url: string, key: string): Thenable<void> {
  return key ? secrets.store(apiKeySecretName(url), key) : secrets.delete(apiKeySecretName(url));
}

/** A shared-bank database as user@host:port/db: never its password. Undefined when the URL does not parse. */
export function databaseLabel(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.username ? decodeURIComponent(u.username) + '@' : ''}${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

/** The password of a shared-bank database is kept under its label (user, host, port, database). */
function databasePasswordSecretName(url: string): string {
  return `projectMemory.databasePassword:${databaseLabel(url) ?? url}`;
}

export function getDatabasePassword(secrets: vscode.SecretStorage, url: string): Thenable<string | undefined> {
  return secrets.get(databasePasswordSecretName(url));
}

export function storeDatabasePassword(secrets: vscode.SecretStorage, url: string, password: string): Thenable<void> {
  return password ? secrets.store(databasePasswordSecretName(url), password) : secrets.delete(databasePasswordSecretName(url));
}

/** The URL with the stored password filled in, unless the URL carries one itself. */
export async function withDatabasePassword(secrets: vscode.SecretStorage, url: string): Promise<string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // refused later, without echoing it
  }
  if (u.password) return url;
  const password = await getDatabasePassword(secrets, url);
  if (!password) return url;
  u.password = encodeURIComponent(password);
  return u.toString();
}

const CONSENT_KEY = 'projectMemory.endpointConsent';

/**
 * A remote (non-loopback) endpoint receives code and chat text: ask once per URL, naming what is sent.
 * Returns false when the user declines; never asks for localhost.
 */
export async function ensureEndpointConsent(globalState: vscode.Memento, url: string): Promise<boolean> {
  if (isLoopbackUrl(url)) return true;
  const granted = globalState.get<string[]>(CONSENT_KEY, []);
  if (granted.includes(url)) return true;
  const allow = vscode.l10n.t('Allow');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Project Memory will send data to {0}', url),
    {
      modal: true,
      detail: vscode.l10n.t(
        'This endpoint is not on this machine. Project Memory will send it your @memory questions and the memories retrieved for them, and, while capture is on, summaries of file edits, git commits, terminal commands and fixed errors (secrets are redacted first). Allow this endpoint?',
      ),
    },
    allow,
  );
  if (choice !== allow) return false;
  await globalState.update(CONSENT_KEY, [...granted, url]);
  return true;
}

export function hasEndpointConsent(globalState: vscode.Memento, url: string): boolean {
  return isLoopbackUrl(url) || globalState.get<string[]>(CONSENT_KEY, []).includes(url);
}

export interface LocalModelSettings {
  /** Run the built-in local model and use it when no endpoint URL is set. */
  enabled: boolean;
  /** Catalog id of the model the built-in server runs. */
  model: string;
  /** An extra folder searched for an installed model (the layout of scripts/setup-models.sh) before downloading. */
  modelsDir: string;
  /** Loopback port; 0 picks a free one. */
  port: number;
  /** Run the Memory Manager on the adapter this project trained (for the 0.5B model). */
  trainedManager: boolean;
}

/** The built-in model's settings: user / machine values only, so a workspace cannot start or redirect it. */
export function readLocalModelSettings(): LocalModelSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const user = <T>(key: string, fallback: T): T => {
    const i = cfg.inspect<T>(key);
    return (i?.globalValue ?? i?.defaultValue ?? fallback) as T;
  };
  const port = Number(user('localModel.port', 0));
  return {
    enabled: user<unknown>('localModel.enabled', false) === true,
    model: String(user('localModel.model', 'qwen2.5-coder-1.5b-instruct')).trim(),
    modelsDir: String(user('localModel.modelsDir', '')).trim(),
    port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : 0,
    trainedManager: user<unknown>('localModel.trainedManager', false) === true,
  };
}
