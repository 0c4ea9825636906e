import * as vscode from 'vscode';
import * as path from 'node:path';
import * as os from 'node:os';
import * as fs from 'node:fs';
import type { MemoryBank } from '../core/bank/memoryBank';
import type { EndpointConfig, MemoryR1Config } from '../core/config';
import type { MemoryEngine, EngineModels } from '../core/engine';
import type { Embedder } from '../core/embeddings/embedder';
import { ActionableError, errorMessage } from './errors';
import { BankError } from '../core/errors';
import {
  ensureEndpointConsent,
  getApiKey,
  hasEndpointConsent,
  readAnswerContextTokens,
  readAnswerTopK,
  readManagerProtocol,
  readEndpointSettings,
  readStorageSettings,
  SECTION,
  withDatabasePassword,
} from './settings';
import { defaultBankId } from '../core/bank/bankId';
import { sharedBankStorage, type StorageOption } from '../core/bank/storage';
import { USE_BUILT_IN_COMMAND, type LocalModelService } from './localModel/localModelService';
import { withAbortSignal } from './ui';

const OFFER_DISMISSED_KEY = 'projectMemory.localModel.offerDismissed';

export interface ResolvedEndpoint {
  url: string;
  apiKey?: string;
  /** The built-in local model: the one model it serves answers every role. */
  builtInModel?: string;
  /** The built-in server's manager model, when it serves the trained adapter. */
  builtInManager?: string;
}

/**
 * The extension's shared state: the lazily opened bank, model resolution, trust and consent.
 * Heavy engine modules are imported on first use so activation stays cheap.
 */
export class ProjectMemory implements vscode.Disposable {
  private bankPromise: Promise<MemoryBank> | undefined;
  private openedBank: MemoryBank | undefined;
  /** The window's engine (see getEngine). */
  private engine: MemoryEngine | undefined;
  /** Model clients by what they were built from: the same endpoint and names give the same clients. */
  private modelClients = new Map<string, EngineModels>();
  private endpointModelCache: { url: string; models: string[] } | undefined;
  private readonly endpointChanged = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires when the endpoint, its models or its key change (the LM provider refreshes). */
  readonly onDidChangeEndpoint = this.endpointChanged.event;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly localModel?: LocalModelService,
  ) {
    this.disposables.push(
      this.endpointChanged,
      ...(localModel ? [localModel.onDidChange(() => this.endpointChanged.fire())] : []),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.endpoint`) || e.affectsConfiguration(`${SECTION}.models`)) {
          this.endpointModelCache = undefined;
          this.modelClients.clear();
          this.endpointChanged.fire();
        }
        if (e.affectsConfiguration(`${SECTION}.storage`) || e.affectsConfiguration(`${SECTION}.embeddings`) || (e.affectsConfiguration(`${SECTION}.endpoint`) && readEndpointSettings().embeddingsProvider === 'endpoint')) {
          void this.reopenBank().catch((err) => this.log.error(`Reopening the memory bank failed: ${String(err)}`));
        }
      }),
      context.secrets.onDidChange(() => this.endpointChanged.fire()),
    );
  }

  /** Per-workspace bank folder (created on first use); a window without a folder gets a shared one. */
  get bankFolder(): string {
    const base = this.context.storageUri ?? vscode.Uri.joinPath(this.context.globalStorageUri, 'no-workspace');
    return path.join(base.fsPath, 'bank');
  }

  /** No bank was ever written in this workspace's storage (a shared postgres bank always counts as there). */
  bankFolderIsEmpty(): boolean {
    if (readStorageSettings().postgresUrl) return false;
    return !fs.existsSync(path.join(this.bankFolder, 'history.jsonl'));
  }

  get isTrusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  getBank(): Promise<MemoryBank> {
    if (!this.bankPromise) {
      this.bankPromise = this.openBank();
      this.bankPromise.catch(() => (this.bankPromise = undefined));
    }
    return this.bankPromise;
  }

  /** The open bank, or undefined when nothing has opened it yet (no side effects). */
  async peekBank(): Promise<MemoryBank | undefined> {
    return this.bankPromise?.catch(() => undefined);
  }

  /** The bank if it is already open. */
  peekBankSync(): MemoryBank | undefined {
    return this.openedBank;
  }

  async closeBank(): Promise<void> {
    const old = this.bankPromise;
    this.bankPromise = undefined;
    this.openedBank = undefined;
    this.engine = undefined;
    if (old) await (await old.catch(() => undefined))?.close();
  }

  async reopenBank(): Promise<MemoryBank> {
    await this.closeBank();
    return this.getBank();
  }

  /**
   * The configuration the core builds the bank and engine from (core/config.ts), resolved from the
   * settings and secrets. The embedder and models are built here instead: consent, downloads with
   * progress and VS Code's own language models are the extension's business.
   */
  async config(): Promise<MemoryR1Config> {
    const storage = await this.storageOption();
    return {
      bank: { folder: this.bankFolder, ...(storage === 'file' ? {} : { postgres: storage }) },
      actor: currentUser(),
      engine: engineSettings(),
    };
  }

  private async openBank(): Promise<MemoryBank> {
    const { openBank } = await import('../core/config');
    const embedder = await this.createEmbedder();
    const cfg = await this.config();
    // A large bank takes seconds to load (it never blocks the extension host): show it in the status bar.
    let bank: MemoryBank;
    try {
      bank = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Opening the memory bank') }, () =>
        openBank(cfg, { embedder }),
      );
    } catch (err) {
      if (err instanceof BankError && err.code === 'AUTH') {
        throw new ActionableError(`${err.message} ${vscode.l10n.t('Set the password with "Project Memory: Set Database Password" (or in ~/.pgpass).')}`, [
          { title: vscode.l10n.t('Set Database Password'), command: 'projectMemory.setDatabasePassword' },
        ]);
      }
      throw err;
    }
    this.openedBank = bank;
    for (const m of bank.recovery.messages) this.log.warn(`Memory bank recovery: ${m}`);
    this.log.info(`Memory bank opened: ${bank.storageInfo.kind === 'file' ? bank.folder : bank.storageInfo.location} (${bank.size} memories, embedder ${embedder.id}).`);
    return bank;
  }

  /** Files in the workspace storage, or the shared postgres bank of this repository. */
  async storageOption(): Promise<StorageOption> {
    const s = readStorageSettings();
    if (!s.postgresUrl) return 'file';
    if (/^[^:]+:\/\/[^/@]*:[^/@]+@/.test(s.postgresUrl)) {
      this.log.warn('projectMemory.storage.postgresUrl holds a password, which settings keep in plain text: use "Project Memory: Set Database Password", ~/.pgpass or PGPASSWORD instead.');
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const bankId = s.bankId || (folder ? defaultBankId(folder) : 'no-workspace');
    // The password comes from secret storage (Set Database Password), ~/.pgpass or PGPASSWORD.
    return sharedBankStorage(await withDatabasePassword(this.context.secrets, s.postgresUrl), bankId);
  }

  private async createEmbedder(): Promise<Embedder> {
    const s = readEndpointSettings();
    if (s.embeddingsProvider === 'endpoint') {
      const ep = this.isTrusted && s.url && hasEndpointConsent(this.context.globalState, s.url) ? await this.endpointIfAllowed(false) : undefined;
      if (ep && s.embeddingsModel) {
        const { OpenAIEmbedder } = await import('../core/embeddings/openaiEmbedder');
        return new OpenAIEmbedder({ baseURL: ep.url, apiKey: ep.apiKey, model: s.embeddingsModel });
      }
      this.log.warn('Endpoint embeddings are configured but the endpoint, its model or consent is missing (or the workspace is untrusted): using the local hashing embedder.');
    }
    if (s.embeddingsProvider === 'auto') {
      // The default: MiniLM when it is already installed (related-memory retrieval decides what the manager
      // sees, and lexical hashing misses paraphrases); the hashing embedder otherwise, with nothing downloaded.
      const installed = await this.installedLocalEmbedder();
      if (installed) {
        try {
          return await this.createLocalNeuralEmbedder();
        } catch (err) {
          this.log.warn(`The installed local embedding model could not start (${errorMessage(err)}); using the lexical embedder.`);
        }
      }
    }
    if (s.embeddingsProvider === 'local') {
      try {
        return await this.createLocalNeuralEmbedder();
      } catch (err) {
        const msg = vscode.l10n.t('The local embedding model is unavailable ({0}); Project Memory uses its lexical embedder instead.', errorMessage(err));
        this.log.warn(msg);
        void vscode.window.showWarningMessage(msg);
      }
    }
    const { HashingEmbedder } = await import('../core/embeddings/hashingEmbedder');
    return new HashingEmbedder();
  }

  /** Where an installed all-MiniLM-L6-v2 is (the extension's download folder, the user's models folder), if anywhere. */
  private async installedLocalEmbedder(): Promise<string | undefined> {
    const { findInstalledModel, userModelsDir } = await import('../core/models/modelStore');
    const { DEFAULT_EMBEDDING_MODEL } = await import('../core/models/catalog');
    const dirs = [path.join(this.context.globalStorageUri.fsPath, 'models'), ...(process.env.MODELS_DIR ? [path.resolve(process.env.MODELS_DIR)] : []), userModelsDir()];
    return findInstalledModel(DEFAULT_EMBEDDING_MODEL, dirs);
  }

  /** all-MiniLM-L6-v2 in process through ONNX Runtime; downloaded once into global storage, with progress. */
  private async createLocalNeuralEmbedder(): Promise<Embedder> {
    const { ensureModel, modelSearchDirs } = await import('../core/models/modelStore');
    const { DEFAULT_EMBEDDING_MODEL } = await import('../core/models/catalog');
    const downloadDir = path.join(this.context.globalStorageUri.fsPath, 'models');
    const file = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Project Memory: preparing the local embedding model'), cancellable: true },
      (progress, token) =>
        withAbortSignal(token, (signal) =>
          ensureModel(DEFAULT_EMBEDDING_MODEL, {
            searchDirs: [downloadDir, ...modelSearchDirs()],
            downloadDir,
            onProgress: (message) => progress.report({ message }),
            signal,
          }),
        ),
    );
    const { createOnnxEmbedder } = await import('../core/embeddings/onnxEmbedder');
    // The .vsix carries no native binaries: onnxruntime-web's WebAssembly from dist/ort runs the model.
    const embedder = await createOnnxEmbedder(path.dirname(file), { wasmDir: path.join(this.context.extensionPath, 'dist', 'ort') });
    this.log.info(`Local embedding model ${embedder.id} runs on ONNX Runtime (${embedder.runtime}).`);
    return embedder;
  }

  /** Model calls are off in an untrusted workspace. */
  requireTrust(): void {
    if (!this.isTrusted) {
      throw new ActionableError(vscode.l10n.t('Project Memory makes no model calls and captures nothing in an untrusted workspace. Trust the workspace to use it.'), [
        { title: vscode.l10n.t('Manage Workspace Trust'), command: 'workbench.trust.manage' },
      ]);
    }
  }

  /**
   * The configured endpoint with its key, if one is configured, the workspace is trusted and the user
   * allowed it. `interactive` may show the one-time consent prompt.
   */
  async endpointIfAllowed(interactive: boolean): Promise<ResolvedEndpoint | undefined> {
    const s = readEndpointSettings();
    if (!this.isTrusted) return undefined;
    if (!s.url) {
      // No endpoint URL: the built-in local model, when the user chose it (loopback: no consent needed).
      const local = await this.localModel?.endpoint();
      return local ? { url: local.url, builtInModel: local.model, builtInManager: local.managerModel } : undefined;
    }
    const allowed = interactive ? await ensureEndpointConsent(this.context.globalState, s.url) : hasEndpointConsent(this.context.globalState, s.url);
    if (!allowed) return undefined;
    return { url: s.url, apiKey: await getApiKey(this.context.secrets, s.url) };
  }

  /**
   * Models for the engine: the configured endpoint when there is one, otherwise VS Code's language
   * models (the chat request's model when called from chat).
   */
  async getModels(requestModel?: vscode.LanguageModelChat, interactive = true): Promise<EngineModels> {
    this.requireTrust();
    const s = readEndpointSettings();
    if (!s.url && this.localModel?.enabled) {
      const ep = await this.endpointIfAllowed(interactive);
      if (!ep?.builtInModel) throw this.localModel.unavailableError();
      // One CPU model serves requests in turn: a question may wait behind captured events' calls.
      const m = ep.builtInModel;
      return this.clientsFor({ baseURL: ep.url, models: { extractor: m, manager: ep.builtInManager ?? m, answer: m }, timeoutMs: 300_000 });
    }
    if (s.url) {
      const ep = await this.endpointIfAllowed(interactive);
      if (!ep) {
        throw new ActionableError(vscode.l10n.t('Sending data to {0} was not allowed.', s.url), [
          { title: vscode.l10n.t('Configure Endpoint'), command: 'projectMemory.configureEndpoint' },
        ]);
      }
      const answer = s.answerModel || (await this.firstEndpointModel(ep));
      // Roles naming the same model share one client (createModels).
      return this.clientsFor({ baseURL: ep.url, apiKey: ep.apiKey, models: { answer, manager: s.managerModel || answer, extractor: s.extractorModel || answer } });
    }
    const { VsCodeLmChatModel } = await import('./models/vscodeLmChatModel');
    let model = requestModel && requestModel.vendor !== 'project-memory' ? requestModel : undefined;
    if (!model) {
      const available = (await vscode.lm.selectChatModels()).filter((m) => m.vendor !== 'project-memory');
      model = available[0];
    }
    if (!model) {
      if (interactive && this.localModel && (await this.offerBuiltInModel())) return this.getModels(undefined, false);
      throw new ActionableError(
        vscode.l10n.t('No language model is available. Use the built-in local model, configure an OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, LM Studio, OpenAI) or install a chat model provider.'),
        [
          { title: vscode.l10n.t('Use Built-in Local Model'), command: USE_BUILT_IN_COMMAND },
          { title: vscode.l10n.t('Configure Endpoint'), command: 'projectMemory.configureEndpoint' },
        ],
      );
    }
    const key = `vscode-lm:${model.vendor}:${model.id}`;
    let chat = this.modelClients.get(key);
    if (!chat) {
      const one = new VsCodeLmChatModel(model);
      this.modelClients.set(key, (chat = { answerer: one, manager: one, extractor: one }));
    }
    return chat;
  }

  /** The OpenAI-compatible clients for this endpoint and these model names, built once and kept. */
  private async clientsFor(cfg: EndpointConfig): Promise<EngineModels> {
    const key = JSON.stringify([cfg.baseURL, cfg.apiKey ?? '', cfg.models, cfg.timeoutMs ?? 0]);
    const known = this.modelClients.get(key);
    if (known) return known;
    const { createModels } = await import('../core/config');
    const made = createModels(cfg);
    this.modelClients.set(key, made);
    return made;
  }

  /**
   * First use without any model: offer the built-in local model (once per machine unless the user
   * accepts). True when it is now running.
   */
  private async offerBuiltInModel(): Promise<boolean> {
    const state = this.context.globalState;
    if (state.get<boolean>(OFFER_DISMISSED_KEY)) return false;
    const model = this.localModel!.catalogModel;
    const size = Math.round(model.files.reduce((n, f) => n + (f.size ?? 0), 0) / 1e6);
    const use = vscode.l10n.t('Use Built-in Local Model');
    const configure = vscode.l10n.t('Configure Endpoint');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('Project Memory needs a language model, and none is set up.'),
      {
        modal: true,
        detail: vscode.l10n.t(
          'It can download {0} ({1} MB, once) and run it on this machine: nothing leaves your computer. Or configure an OpenAI-compatible endpoint such as Ollama or vLLM.',
          model.id,
          size,
        ),
      },
      use,
      configure,
    );
    if (choice === configure) {
      await vscode.commands.executeCommand('projectMemory.configureEndpoint');
      return !!readEndpointSettings().url || !!this.localModel?.enabled;
    }
    if (choice !== use) {
      await state.update(OFFER_DISMISSED_KEY, true);
      return false;
    }
    return !!(await vscode.commands.executeCommand(USE_BUILT_IN_COMMAND));
  }

  private async firstEndpointModel(ep: ResolvedEndpoint): Promise<string> {
    if (this.endpointModelCache?.url === ep.url && this.endpointModelCache.models.length) return this.endpointModelCache.models[0];
    const { testConnection } = await import('../core/llm/openaiChatModel');
    const res = await testConnection(ep.url, ep.apiKey);
    if (!res.ok) throw new ActionableError(res.error, [{ title: vscode.l10n.t('Configure Endpoint'), command: 'projectMemory.configureEndpoint' }]);
    if (!res.models.length) {
      throw new ActionableError(vscode.l10n.t('The endpoint {0} lists no models. Set projectMemory.models.answer.', ep.url), [
        { title: vscode.l10n.t('Configure Endpoint'), command: 'projectMemory.configureEndpoint' },
      ]);
    }
    this.endpointModelCache = { url: ep.url, models: res.models };
    return res.models[0];
  }

  /**
   * The window's one engine, built once from the composition root on the open bank; a change of models
   * (settings, the chat's own model) reaches it through `setModels`, a change of settings through
   * `configure`, so what its clients learned (a server without `json_schema`) is kept.
   */
  async getEngine(requestModel?: vscode.LanguageModelChat, interactive = true): Promise<MemoryEngine> {
    const models = await this.getModels(requestModel, interactive);
    const bank = await this.getBank();
    if (this.engine?.bank === bank) {
      this.engine.setModels(models);
      this.engine.configure(engineSettings() ?? {});
      return this.engine;
    }
    const { openEngine } = await import('../core/config');
    this.engine = await openEngine({ bank: { folder: bank.folder }, engine: engineSettings() }, { bank, models });
    return this.engine;
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables) d.dispose();
    const bank = await this.peekBank();
    this.bankPromise = undefined;
    this.openedBank = undefined;
    await bank?.close();
  }
}

/** The engine's settings (read on every engine, so a change applies to the next question). */
function engineSettings(): MemoryR1Config['engine'] {
  return { answerTopK: readAnswerTopK(), answerContextTokens: readAnswerContextTokens(), managerProtocol: readManagerProtocol() };
}

/** The OS user name that history records name as their actor; none where the OS cannot tell. */
export function currentUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}
