import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCatalogModel, QWEN25_CODER_1_5B_INSTRUCT, TRAINED_MANAGER, type CatalogModel } from '../../core/models/catalog';
import { ActionableError, errorMessage, isCancellation, showError } from '../errors';
import { readEndpointSettings, readLocalModelSettings, SECTION } from '../settings';
import { LocalServerError, ServerProcess, type ServerState } from './serverProcess';
import { withAbortSignal } from '../ui';

export const USE_BUILT_IN_COMMAND = 'projectMemory.useBuiltInModel';
const MENU_COMMAND = 'projectMemory.localModelMenu';
const VERIFIED_KEY = 'projectMemory.localModel.verified';

/** Test hooks: another catalog entry (a small file served locally) or another server script. */
export interface LocalModelTestOptions {
  catalog?: CatalogModel;
  serverEntry?: string;
  startTimeoutMs?: number;
}

export interface LocalEndpoint {
  url: string;
  model: string;
  /** The model id that runs the Memory Manager when it is not `model` (the trained adapter). */
  managerModel?: string;
}

/**
 * The built-in local model: downloads the catalog model into global storage (progress, cancel,
 * SHA-256), runs `dist/server.js` (the `memory-r1 serve` server) as a child process on a loopback
 * port, shows its state in the status bar, and is the endpoint while no endpoint URL is set.
 */
export class LocalModelService implements vscode.Disposable {
  private server: ServerProcess | undefined;
  private serverKey = '';
  /** Created on first need, so a user who never turns the built-in model on never has the entry. */
  private item: vscode.StatusBarItem | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  private downloading: { pct?: number } | undefined;
  private missing = false;
  /** Calls waiting for a start; they report its failure themselves. */
  private waiters = 0;
  private inCommand = false;
  /** Fires when the built-in endpoint appears, moves or goes away. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly test: LocalModelTestOptions = {},
  ) {
    this.disposables.push(
      { dispose: () => this.item?.dispose() },
      this.changed,
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.startInBackground()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        // The command changes these settings itself and starts the server after.
        if (!e.affectsConfiguration(`${SECTION}.localModel`) || this.inCommand) return;
        const s = readLocalModelSettings();
        if (!s.enabled) void this.stopServer();
        else if (this.server && this.serverKey !== this.keyFor(s)) void this.restart();
        else if (!this.server) void this.startInBackground();
      }),
    );
    this.render();
  }

  /** Commands this service owns. */
  registerCommands(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand(USE_BUILT_IN_COMMAND, () => this.useBuiltIn()),
      vscode.commands.registerCommand(MENU_COMMAND, () => this.menu()),
    ];
  }

  get enabled(): boolean {
    return readLocalModelSettings().enabled;
  }

  get state(): ServerState {
    return this.server?.state ?? { kind: 'stopped' };
  }

  get catalogModel(): CatalogModel {
    if (this.test.catalog) return this.test.catalog;
    const m = findCatalogModel(readLocalModelSettings().model);
    return m && m.kind === 'chat' ? m : QWEN25_CODER_1_5B_INSTRUCT;
  }

  /** Global storage: where downloads go and where a model is looked for first. */
  get downloadDir(): string {
    return path.join(this.context.globalStorageUri.fsPath, 'models');
  }

  /** Folders holding installed models, in order: global storage, the setting, $PROJECT_MEMORY_MODELS_DIR or the user cache. */
  async searchDirs(): Promise<string[]> {
    const { userModelsDir } = await import('../../core/models/modelStore');
    const s = readLocalModelSettings();
    return [this.downloadDir, ...(s.modelsDir ? [s.modelsDir] : []), userModelsDir()];
  }

  /** Starts the server at activation when the user chose it earlier; never downloads without asking. */
  async startInBackground(): Promise<void> {
    // Model calls are off in an untrusted workspace: the server waits until the workspace is trusted.
    if (!this.enabled || !vscode.workspace.isTrusted || this.server) return;
    try {
      const { findInstalledModel } = await import('../../core/models/modelStore');
      const file = findInstalledModel(this.catalogModel, await this.searchDirs());
      if (!file) {
        this.missing = true;
        this.render();
        this.log.warn(`The built-in local model ${this.catalogModel.id} is not installed; run "Project Memory: Use Built-in Local Model" to download it.`);
        return;
      }
      await this.verify(file, undefined);
      await this.startServer(file);
    } catch (err) {
      await showError(this.log, vscode.l10n.t('The built-in local model did not start'), this.toUserError(err));
    }
  }

  /** The built-in endpoint once it is running (waits while it starts); undefined when off or failed. */
  async endpoint(): Promise<LocalEndpoint | undefined> {
    if (!this.enabled || !this.server) return undefined;
    const ready = await this.server.whenReady();
    if (!ready) return undefined;
    return { url: ready.url, model: ready.model, managerModel: ready.adapters.find((a) => a === TRAINED_MANAGER.id) };
  }

  /** Why the built-in model cannot answer now, as an error with the actions that help. */
  unavailableError(): ActionableError {
    const actions = [
      { title: vscode.l10n.t('Use Built-in Local Model'), command: USE_BUILT_IN_COMMAND },
      { title: vscode.l10n.t('Show Log'), command: 'projectMemory.showLog' },
      { title: vscode.l10n.t('Configure Endpoint'), command: 'projectMemory.configureEndpoint' },
    ];
    const s = this.state;
    if (s.kind === 'failed') return new ActionableError(describeServerError(s.error), actions);
    if (this.missing) return new ActionableError(vscode.l10n.t('The built-in local model {0} is not downloaded yet.', this.catalogModel.id), actions);
    return new ActionableError(vscode.l10n.t('The built-in local model is not running.'), actions);
  }

  /**
   * *Project Memory: Use Built-in Local Model*: download (if needed) and verify the model, start the
   * server, make it the endpoint. Returns the endpoint, or undefined when the user cancelled.
   */
  async useBuiltIn(): Promise<LocalEndpoint | undefined> {
    this.inCommand = true;
    try {
      const current = readEndpointSettings().url;
      if (current) {
        const use = vscode.l10n.t('Use Built-in Model');
        const choice = await vscode.window.showWarningMessage(
          vscode.l10n.t('Project Memory uses the endpoint {0}. Use the built-in local model instead?', current),
          { modal: true, detail: vscode.l10n.t('The endpoint setting is cleared; "Project Memory: Configure Endpoint" sets it again.') },
          use,
        );
        if (choice !== use) return undefined;
        await vscode.workspace.getConfiguration(SECTION).update('endpoint.url', undefined, vscode.ConfigurationTarget.Global);
      }
      const file = await this.ensureModelFile();
      if (!file) return undefined;
      const cfg = vscode.workspace.getConfiguration(SECTION);
      if (!readLocalModelSettings().enabled) await cfg.update('localModel.enabled', true, vscode.ConfigurationTarget.Global);
      const ep = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Starting the built-in local model…') },
        () => this.startServer(file),
      );
      void vscode.window.showInformationMessage(vscode.l10n.t('Project Memory now uses the built-in local model {0}, running on this machine.', ep.model));
      return ep;
    } catch (err) {
      if (isCancellation(err)) return undefined;
      await showError(this.log, vscode.l10n.t('The built-in local model is unavailable'), this.toUserError(err));
      return undefined;
    } finally {
      this.inCommand = false;
    }
  }

  /** The model file, verified: found in a models folder, or downloaded with progress and cancel. */
  private async ensureModelFile(): Promise<string | undefined> {
    const model = this.catalogModel;
    const { findInstalledModel, ensureModel } = await import('../../core/models/modelStore');
    const dirs = await this.searchDirs();
    const found = findInstalledModel(model, dirs);
    if (found) {
      this.log.info(`Built-in local model ${model.id} found at ${found}; no download needed.`);
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Checking the local model…') }, () => this.verify(found, undefined));
      this.missing = false;
      return found;
    }
    const size = model.files.reduce((n, f) => n + (f.size ?? 0), 0);
    this.log.info(`Downloading the built-in local model ${model.id} (${(size / 1e6).toFixed(0)} MB) into ${this.downloadDir}.`);
    const file = await Promise.resolve(vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Project Memory: downloading {0} ({1} MB)', model.id, Math.round(size / 1e6)),
        cancellable: true,
      },
      async (progress, token) => {
        let reported = 0;
        this.downloading = {};
        this.render();
        try {
          return await withAbortSignal(token, (signal) => ensureModel(model, {
            searchDirs: dirs,
            downloadDir: this.downloadDir,
            signal,
            onBytes: (_name, received, total) => {
              if (!total) return;
              const pct = Math.floor((100 * received) / total);
              if (pct <= reported && received < total) return;
              progress.report({ increment: pct - reported, message: vscode.l10n.t('{0} of {1} MB', Math.round(received / 1e6), Math.round(total / 1e6)) });
              reported = pct;
              this.downloading = { pct };
              this.render();
            },
          }));
        } finally {
          this.downloading = undefined;
          this.render();
        }
      },
    )).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'ABORTED') {
        void vscode.window.showInformationMessage(vscode.l10n.t('The download of the local model was cancelled. Run "Project Memory: Use Built-in Local Model" again to resume it.'));
        throw new vscode.CancellationError();
      }
      throw err;
    });
    // ensureModel verified the SHA-256 of what it downloaded.
    await this.rememberVerified(file);
    this.missing = false;
    return file;
  }

  /** Checks a model file found on disk against the catalog's SHA-256 once (remembered by size and time). */
  private async verify(file: string, _progress: unknown): Promise<void> {
    const entry = this.catalogModel.files.find((f) => f.name === path.basename(file));
    if (!entry) return;
    const st = fs.statSync(file);
    const seen = this.context.globalState.get<Record<string, string>>(VERIFIED_KEY, {});
    const stamp = `${st.size}:${st.mtimeMs}:${entry.sha256}`;
    if (seen[file] === stamp) return;
    const { hashFile } = await import('../../core/models/download');
    const sha = await hashFile(file);
    if (sha !== entry.sha256) {
      throw new ActionableError(
        vscode.l10n.t('The local model file {0} is damaged or not the expected model (SHA-256 {1}, expected {2}). Delete it and run the command again to download it.', file, sha, entry.sha256),
        [{ title: vscode.l10n.t('Show Log'), command: 'projectMemory.showLog' }],
      );
    }
    await this.context.globalState.update(VERIFIED_KEY, { ...seen, [file]: stamp });
  }

  private async rememberVerified(file: string): Promise<void> {
    const entry = this.catalogModel.files.find((f) => f.name === path.basename(file));
    if (!entry) return;
    const st = fs.statSync(file);
    const seen = this.context.globalState.get<Record<string, string>>(VERIFIED_KEY, {});
    await this.context.globalState.update(VERIFIED_KEY, { ...seen, [file]: `${st.size}:${st.mtimeMs}:${entry.sha256}` });
  }

  private keyFor(s = readLocalModelSettings()): string {
    return `${this.catalogModel.id}|${s.port}|${s.modelsDir}|${this.useTrainedManager(s)}`;
  }

  /** The trained manager adapter runs only on the base model it was trained for. */
  private useTrainedManager(s = readLocalModelSettings()): boolean {
    return s.trainedManager && this.catalogModel.id === TRAINED_MANAGER.base;
  }

  /** Starts (or reuses) the server child for `file`. `fresh`: a failed server is started again. */
  private async startServer(file: string): Promise<LocalEndpoint> {
    const key = this.keyFor();
    if (this.server && (this.serverKey !== key || this.server.state.kind === 'failed')) await this.stopServer();
    if (!this.server) {
      const entry = this.test.serverEntry ?? path.join(this.context.extensionPath, 'dist', 'server.js');
      const settings = readLocalModelSettings();
      const lora = this.useTrainedManager(settings) ? ['--lora', TRAINED_MANAGER.id] : [];
      if (settings.trainedManager && !lora.length) this.log.warn(`The trained Memory Manager is for ${TRAINED_MANAGER.base}; ${this.catalogModel.id} runs the manager itself.`);
      this.server = new ServerProcess({
        nodePath: process.execPath,
        entry,
        args: ['--model', file, '--host', '127.0.0.1', '--port', String(settings.port), '--embedding-model', 'none', '--cpu', ...lora],
        startTimeoutMs: this.test.startTimeoutMs,
        log: (line) => this.log.info(`[local model] ${line}`),
        onState: (s) => this.onServerState(s),
      });
      this.serverKey = key;
    }
    this.waiters++;
    try {
      return await this.server.start();
    } finally {
      this.waiters--;
    }
  }

  private onServerState(s: ServerState): void {
    if (s.kind === 'ready') this.log.info(`Built-in local model ready: ${s.model} at ${s.url} (pid ${s.pid}).`);
    if (s.kind === 'failed') {
      this.log.error(`Built-in local model failed: ${s.error.message}${s.error.output ? `\n${s.error.output}` : ''}`);
      // A crash after start-up has nobody waiting for it to report the error: say so here.
      if (!this.waiters) void showError(this.log, vscode.l10n.t('The built-in local model stopped'), this.toUserError(s.error));
    }
    this.render();
    this.changed.fire();
  }

  /** Restarts the server (after a failure or a settings change). */
  async restart(): Promise<void> {
    await this.stopServer();
    await this.startInBackground();
  }

  async stopServer(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await s.stop();
    this.render();
    this.changed.fire();
  }

  private async menu(): Promise<void> {
    const s = this.state;
    const items: { label: string; run: () => Thenable<unknown> | Promise<unknown> }[] = [];
    if (s.kind === 'failed' || this.missing || !this.server) items.push({ label: vscode.l10n.t('$(play) Start the built-in local model'), run: () => vscode.commands.executeCommand(USE_BUILT_IN_COMMAND) });
    else items.push({ label: vscode.l10n.t('$(refresh) Restart the built-in local model'), run: () => this.restart() });
    if (this.server) items.push({ label: vscode.l10n.t('$(debug-stop) Stop and use another endpoint'), run: () => vscode.commands.executeCommand('projectMemory.configureEndpoint') });
    items.push({ label: vscode.l10n.t('$(output) Show log'), run: () => vscode.commands.executeCommand('projectMemory.showLog') });
    const picked = await vscode.window.showQuickPick(items, { placeHolder: this.describe() });
    if (picked) await picked.run();
  }

  private describe(): string {
    const s = this.state;
    const model = this.catalogModel.id;
    if (this.downloading) return vscode.l10n.t('Downloading {0}…', model);
    switch (s.kind) {
      case 'starting':
        return s.restart ? vscode.l10n.t('Restarting {0} after a crash…', model) : vscode.l10n.t('Starting {0}…', model);
      case 'ready':
        return vscode.l10n.t('{0} is running at {1}', s.model, s.url);
      case 'failed':
        return describeServerError(s.error);
      default:
        return this.missing ? vscode.l10n.t('{0} is not downloaded yet', model) : vscode.l10n.t('The built-in local model is stopped');
    }
  }

  private render(): void {
    const s = this.state;
    const show = this.enabled || !!this.downloading || s.kind !== 'stopped';
    if (!show) {
      this.item?.hide();
      return;
    }
    if (!this.item) {
      this.item = vscode.window.createStatusBarItem('projectMemory.localModel', vscode.StatusBarAlignment.Right, 99);
      this.item.name = vscode.l10n.t('Project Memory Local Model');
      this.item.command = MENU_COMMAND;
    }
    let text: string;
    if (this.downloading) text = `$(cloud-download) ${vscode.l10n.t('Local model {0}%', this.downloading.pct ?? 0)}`;
    else if (s.kind === 'starting') text = `$(loading~spin) ${vscode.l10n.t('Local model: starting')}`;
    else if (s.kind === 'ready') text = `$(server-process) ${vscode.l10n.t('Local model')}`;
    else if (s.kind === 'failed' || this.missing) text = `$(error) ${vscode.l10n.t('Local model: failed')}`;
    else text = `$(circle-slash) ${vscode.l10n.t('Local model: stopped')}`;
    this.item.text = text;
    this.item.tooltip = this.describe();
    this.item.backgroundColor = s.kind === 'failed' || this.missing ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  /** Download and server errors as messages a user can act on. */
  private toUserError(err: unknown): unknown {
    const retry = { title: vscode.l10n.t('Retry'), command: USE_BUILT_IN_COMMAND };
    const showLog = { title: vscode.l10n.t('Show Log'), command: 'projectMemory.showLog' };
    if (err instanceof LocalServerError) return new ActionableError(describeServerError(err), [retry, showLog]);
    const code = (err as { code?: string }).code;
    if ((err as Error)?.name === 'DownloadError') {
      if (code === 'CHECKSUM' || code === 'SIZE') {
        return new ActionableError(vscode.l10n.t('The downloaded model did not match its published SHA-256 and was deleted: {0}', errorMessage(err)), [retry, showLog]);
      }
      if (code === 'BUSY') return new ActionableError(vscode.l10n.t('Another window is downloading the model: {0}', errorMessage(err)), [retry]);
      return new ActionableError(vscode.l10n.t('Downloading the model failed: {0} What was downloaded is kept; Retry resumes.', errorMessage(err)), [retry, showLog]);
    }
    return err;
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables) d.dispose();
    await this.stopServer();
  }
}

function describeServerError(err: LocalServerError): string {
  switch (err.code) {
    case 'PORT_IN_USE':
      return vscode.l10n.t('The built-in model server cannot listen: {0}', err.message);
    case 'CRASHED':
      return vscode.l10n.t('{0} See "Project Memory: Show Log" for its output.', err.message);
    default:
      return err.message;
  }
}
