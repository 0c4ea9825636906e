import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatScrubReport, scrubFileBank, scrubPostgresBank, type ScrubReport } from '../core/bank/scrub';
import { describeCounts } from '../core/privacy/boundary';
import type { Memory } from '../core/types';
import { currentUser, type ProjectMemory } from './projectMemory';
import type { CaptureService } from './capture/captureService';
import { errorMessage, showError } from './errors';
import { describeOperation, formatRecord } from './chat/memoryParticipant';
import { databaseLabel, readEndpointSettings, readLocalModelSettings, readStorageSettings, SECTION, storeApiKey, storeDatabasePassword, validateEndpointUrl } from './settings';

export interface CommandDeps {
  pm: ProjectMemory;
  capture: CaptureService;
  revealMemory(id?: string): Promise<void>;
}

export const ENDPOINT_PRESETS: { label: string; url: string }[] = [
  { label: 'Ollama', url: 'http://localhost:11434/v1' },
  { label: 'vLLM', url: 'http://localhost:8000/v1' },
  { label: 'llama.cpp server', url: 'http://localhost:8080/v1' },
  { label: 'LM Studio', url: 'http://localhost:1234/v1' },
  { label: 'OpenAI', url: 'https://api.openai.com/v1' },
];


function short(text: string, max = 90): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** Runs a command body and shows any error with its fix-it actions. */
function guarded<A extends unknown[]>(deps: CommandDeps, title: string, fn: (...args: A) => Promise<unknown>): (...args: A) => Promise<unknown> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      await showError(deps.pm.log, title, err);
      return undefined;
    }
  };
}

async function pickMemory(deps: CommandDeps, placeHolder: string, includeInactive = false): Promise<Memory | undefined> {
  const bank = await deps.pm.getBank();
  const list = bank.list({ status: includeInactive ? 'all' : 'active', limit: 5000 });
  if (!list.items.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('The memory bank is empty.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    list.items.map((m) => ({ label: short(m.text), description: m.status === 'active' ? m.source.kind : m.status, detail: m.updatedAt.slice(0, 16).replace('T', ' '), memory: m })),
    { placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.memory;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { pm, capture } = deps;
  const reg = <A extends unknown[]>(id: string, title: string, fn: (...args: A) => Promise<unknown>) =>
    vscode.commands.registerCommand(`projectMemory.${id}`, guarded(deps, title, fn));

  return [
    reg('addMemory', vscode.l10n.t('Add memory failed'), async (text?: string) => {
      const editor = vscode.window.activeTextEditor;
      const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
      const value =
        typeof text === 'string' && text.trim()
          ? text
          : await vscode.window.showInputBox({
              prompt: vscode.l10n.t('What should Project Memory remember?'),
              value: selection.trim(),
              validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Enter the fact to remember.')),
            });
      if (!value?.trim()) return undefined;
      const bank = await pm.getBank();
      const rec = await bank.addManual(value.trim(), { source: { kind: 'manual', ref: editor && selection ? vscode.workspace.asRelativePath(editor.document.uri) : undefined } });
      // Toasts are not awaited: their promise only settles when the user closes them.
      // What was stored (secrets redacted), not what was typed.
      void vscode.window.showInformationMessage(vscode.l10n.t('Remembered: {0}', short(rec.after?.text ?? value)), vscode.l10n.t('Show'), vscode.l10n.t('Undo')).then(async (choice) => {
        if (choice === vscode.l10n.t('Show')) await deps.revealMemory(rec.memoryId);
        if (choice === vscode.l10n.t('Undo')) await bank.undo(rec.opId).catch((err) => showError(pm.log, vscode.l10n.t('Undo failed'), err));
      });
      return rec.memoryId;
    }),

    reg('search', vscode.l10n.t('Search failed'), async (query?: string) => {
      const q = typeof query === 'string' ? query : await vscode.window.showInputBox({ prompt: vscode.l10n.t('Search project memories') });
      if (!q?.trim()) return undefined;
      const bank = await pm.getBank();
      const hits = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Searching memories…') },
        () => bank.search(q, { topK: 30 }),
      );
      if (!hits.length) {
        void vscode.window.showInformationMessage(vscode.l10n.t('No memory matches "{0}".', q));
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        hits.map((h) => ({ label: short(h.memory.text), description: h.memory.source.kind, detail: h.memory.updatedAt.slice(0, 10), id: h.memory.id })),
        { placeHolder: vscode.l10n.t('{0} memories match "{1}"', hits.length, q), matchOnDetail: true },
      );
      if (picked) await deps.revealMemory(picked.id);
      return picked?.id;
    }),

    reg('forget', vscode.l10n.t('Forget failed'), async (id?: string) => {
      const bank = await pm.getBank();
      const memory = typeof id === 'string' ? bank.get(id) : await pickMemory(deps, vscode.l10n.t('Pick the memory to forget'));
      if (!memory) return undefined;
      if (memory.status !== 'active') {
        void vscode.window.showInformationMessage(vscode.l10n.t('That memory is already {0}.', memory.status));
        return undefined;
      }
      const rec = await bank.delete(memory.id, 'forgotten by the user');
      void vscode.window.showInformationMessage(vscode.l10n.t('Forgot: {0}', short(memory.text)), vscode.l10n.t('Undo')).then(async (choice) => {
        if (choice === vscode.l10n.t('Undo')) await bank.undo(rec.opId).catch((err) => showError(pm.log, vscode.l10n.t('Undo failed'), err));
      });
      return memory.id;
    }),

    reg('showHistory', vscode.l10n.t('Show history failed'), async (id?: string) => {
      const bank = await pm.getBank();
      const memory = typeof id === 'string' ? bank.get(id) : await pickMemory(deps, vscode.l10n.t('Pick a memory to see its history'), true);
      if (!memory) return undefined;
      const content = `# ${vscode.l10n.t('History of a memory')}\n\n> ${memory.text}\n\n${vscode.l10n.t('Status')}: ${memory.status} · id \`${memory.id}\`\n\n${bank
        .history(memory.id)
        .map(formatRecord)
        .join('\n')}\n`;
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
      await vscode.window.showTextDocument(doc, { preview: true });
      return memory.id;
    }),

    reg('undo', vscode.l10n.t('Undo failed'), async () => {
      const bank = await pm.getBank();
      const last = bank.lastUndoable();
      if (!last) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Nothing to undo.'));
        return undefined;
      }
      // Operations applied together (a manager batch, "clear", an import) are undone together.
      const { operations: undone, skipped } = await bank.undoBatch(last.batchId);
      for (const k of skipped) pm.log.warn(`Undo skipped ${k.memoryId}: ${k.reason}`);
      const what = undone > 1 ? vscode.l10n.t('{0} operations', undone) : short((last.after ?? last.before)?.text ?? '');
      void vscode.window.showInformationMessage(vscode.l10n.t('Undid {0}: {1}', last.action, what));
      return undone;
    }),

    reg('export', vscode.l10n.t('Export failed'), async () => {
      const bank = await pm.getBank();
      const format = await vscode.window.showQuickPick(
        [
          { label: 'JSON', description: vscode.l10n.t('Complete bank with history; can be imported again'), ext: 'json' },
          { label: 'Markdown', description: vscode.l10n.t('Readable list of memories'), ext: 'md' },
        ],
        { placeHolder: vscode.l10n.t('Export format') },
      );
      if (!format) return undefined;
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const target = await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, `project-memory.${format.ext}`) : undefined,
        filters: format.ext === 'json' ? { JSON: ['json'] } : { Markdown: ['md'] },
      });
      if (!target) return undefined;
      const text = format.ext === 'json' ? JSON.stringify(bank.exportBundle(), null, 2) : bank.toMarkdown();
      await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
      void vscode.window.showInformationMessage(vscode.l10n.t('Exported {0} memories to {1}.', bank.size, target.fsPath));
      return target.fsPath;
    }),

    reg('import', vscode.l10n.t('Import failed'), async (file?: vscode.Uri) => {
      const uri =
        file ??
        (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { JSON: ['json'] }, openLabel: vscode.l10n.t('Import') }))?.[0];
      if (!uri) return undefined;
      let data: unknown;
      try {
        data = JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
      } catch (err) {
        throw new Error(vscode.l10n.t('{0} is not valid JSON: {1}', path.basename(uri.fsPath), errorMessage(err)));
      }
      const count = Array.isArray((data as { memories?: unknown[] })?.memories) ? (data as { memories: unknown[] }).memories.length : undefined;
      const mode = await vscode.window.showQuickPick(
        [
          { label: vscode.l10n.t('Merge'), description: vscode.l10n.t('Add the imported memories to this bank'), mode: 'merge' as const },
          { label: vscode.l10n.t('Replace'), description: vscode.l10n.t('Delete the current memories first (undoable)'), mode: 'replace' as const },
        ],
        { placeHolder: vscode.l10n.t('How should the import be applied?') },
      );
      if (!mode) return undefined;
      const go = vscode.l10n.t('Import');
      const confirm = await vscode.window.showWarningMessage(
        count === undefined ? vscode.l10n.t('Import {0}?', path.basename(uri.fsPath)) : vscode.l10n.t('Import {0} memories from {1}?', count, path.basename(uri.fsPath)),
        { modal: true, detail: mode.mode === 'replace' ? vscode.l10n.t('The current memories are deleted first; the history keeps them.') : undefined },
        go,
      );
      if (confirm !== go) return undefined;
      const bank = await pm.getBank();
      const res = await bank.importBundle(data, mode.mode);
      void vscode.window.showInformationMessage(vscode.l10n.t('Imported {0} memories.', res.imported));
      return res.imported;
    }),

    reg('clear', vscode.l10n.t('Clear failed'), async () => {
      const bank = await pm.getBank();
      const active = bank.list({ limit: 0 }).counts.active;
      if (!active) {
        void vscode.window.showInformationMessage(vscode.l10n.t('The memory bank is already empty.'));
        return 0;
      }
      const yes = vscode.l10n.t('Delete All');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('Delete all {0} memories of this workspace?', active),
        { modal: true, detail: vscode.l10n.t('The history is kept, and "Project Memory: Undo Last Operation" brings them back.') },
        yes,
      );
      if (choice !== yes) return undefined;
      const n = await bank.clear();
      void vscode.window.showInformationMessage(vscode.l10n.t('Deleted {0} memories.', n), vscode.l10n.t('Undo')).then(async (undo) => {
        if (undo === vscode.l10n.t('Undo')) await vscode.commands.executeCommand('projectMemory.undo');
      });
      return n;
    }),

    reg('rebuildIndex', vscode.l10n.t('Rebuilding the index failed'), async () => {
      return vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Rebuilding the memory index…'), cancellable: true },
        async (progress, token) => {
          const bank = await pm.getBank();
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let last = 0;
          try {
            const n = await bank.rebuildIndex({
              signal: abort.signal,
              onProgress: (done, total) => {
                const pct = total ? Math.round((done / total) * 100) : 100;
                progress.report({ increment: pct - last, message: vscode.l10n.t('{0} of {1} memories', done, total) });
                last = pct;
              },
            });
            void vscode.window.showInformationMessage(vscode.l10n.t('Rebuilt the index of {0} memories.', n));
            return n;
          } finally {
            sub.dispose();
          }
        },
      );
    }),

    reg('scrubSecrets', vscode.l10n.t('Scrubbing secrets failed'), () => scrubSecrets(deps)),

    reg('pauseCapture', vscode.l10n.t('Pause failed'), async () => {
      await capture.pause();
      void vscode.window.showInformationMessage(vscode.l10n.t('Project Memory capture paused.'));
    }),

    reg('resumeCapture', vscode.l10n.t('Resume failed'), async () => {
      await capture.resume();
      void vscode.window.showInformationMessage(vscode.l10n.t('Project Memory capture resumed.'));
    }),

    reg('captureMenu', vscode.l10n.t('Capture'), async () => {
      const s = capture.state;
      const items: { label: string; command: string }[] = [];
      if (s?.error) items.push({ label: vscode.l10n.t('$(refresh) Retry now'), command: 'projectMemory.retryCapture' });
      items.push(capture.paused ? { label: vscode.l10n.t('$(play) Resume capture'), command: 'projectMemory.resumeCapture' } : { label: vscode.l10n.t('$(debug-pause) Pause capture'), command: 'projectMemory.pauseCapture' });
      items.push({ label: vscode.l10n.t('$(output) Show log'), command: 'projectMemory.showLog' }, { label: vscode.l10n.t('$(gear) Configure endpoint'), command: 'projectMemory.configureEndpoint' });
      const picked = await vscode.window.showQuickPick(items, {
        placeHolder: s?.error ? vscode.l10n.t('Last error: {0}', s.error) : vscode.l10n.t('{0} captured event(s) queued', capture.pending),
      });
      if (picked) await vscode.commands.executeCommand(picked.command);
    }),

    reg('retryCapture', vscode.l10n.t('Retry failed'), async () => {
      await capture.retry();
    }),

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

    reg('revealMemory', vscode.l10n.t('Reveal memory failed'), async (id?: string) => deps.revealMemory(typeof id === 'string' ? id : undefined)),
  ];
}

/** Exports made by "Export" with its default name, in the workspace folders' roots. */
function workspaceExports(): string[] {
  const out: string[] = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(f.uri.fsPath);
    } catch {
      continue;
    }
    for (const n of names) if (/^project-memory.*\.(json|md)$/i.test(n)) out.push(path.join(f.uri.fsPath, n));
  }
  return out;
}

/**
 * Finds secrets stored by older versions (memories, history, trajectories, capture queue, exports in
 * the workspace), shows counts and locations, and rewrites only after confirmation.
 */
async function scrubSecrets(deps: CommandDeps): Promise<ScrubReport | undefined> {
  const { pm, capture } = deps;
  if (readStorageSettings().postgresUrl) return scrubSharedBank(deps);
  const folder = pm.bankFolder;
  if (!fs.existsSync(folder)) {
    void vscode.window.showInformationMessage(vscode.l10n.t('This workspace has no memory bank yet, so there is nothing to scrub.'));
    return undefined;
  }
  const exports = workspaceExports();
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Looking for stored secrets…') }, () =>
    scrubFileBank(folder, { exports, apply: false }),
  );
  if (!report.total && !report.vectorsDropped && !report.damagedVectorFiles.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No secrets found in the memory bank{0}.', exports.length ? vscode.l10n.t(' or its exports') : ''));
    return report;
  }
  const scrub = vscode.l10n.t('Scrub');
  const backupFirst = vscode.l10n.t('Back Up First…');
  const detail = [
    ...formatScrubReport(report).slice(1).map((l) => l.trim()),
    '',
    vscode.l10n.t('These files are rewritten with each secret replaced by [REDACTED:kind]; the history records the scrub. Nothing else changes.'),
  ].join('\n');
  let choice = await vscode.window.showWarningMessage(vscode.l10n.t('Found {0} in the memory bank. Scrub them?', describeCounts(report.kinds)), { modal: true, detail }, scrub, backupFirst);
  if (choice === backupFirst) {
    const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: vscode.l10n.t('Back Up Here') });
    if (!picked?.[0]) return undefined;
    const target = path.join(picked[0].fsPath, `project-memory-backup-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    fs.cpSync(folder, target, { recursive: true });
    for (const e of exports) fs.copyFileSync(e, path.join(target, path.basename(e)));
    pm.log.info(`Backup of the memory bank before scrubbing: ${target}`);
    choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('The backup in {0} still holds the {1} secrets. Keep it somewhere safe and delete it when you no longer need it. Scrub the bank now?', target, report.total),
      { modal: true },
      scrub,
    );
  }
  if (choice !== scrub) return undefined;
  const actor = currentUser();
  // The bank and the capture queue are closed while their files are replaced, then opened afresh.
  await pm.closeBank();
  let done: ScrubReport;
  try {
    done = await capture.withQueueReleased(() => scrubFileBank(folder, { exports, apply: true, actor }));
  } finally {
    await pm.getBank().catch((err) => pm.log.warn(`Reopening the memory bank failed: ${errorMessage(err)}`));
  }
  pm.log.info(formatScrubReport(done).join('\n'));
  void vscode.window.showInformationMessage(vscode.l10n.t('Scrubbed {0}. Other windows on this workspace reopen the bank when reloaded.', describeCounts(done.kinds)));
  return done;
}

/** Scrub Secrets on a shared PostgreSQL bank: one transaction; other clients see it once they reopen. */
async function scrubSharedBank(deps: CommandDeps): Promise<ScrubReport | undefined> {
  const { pm } = deps;
  const storage = await pm.storageOption();
  if (storage === 'file') return undefined;
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Looking for stored secrets…') }, () =>
    scrubPostgresBank(storage.url, storage.bankId),
  );
  if (!report.total) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No secrets found in the shared memory bank.'));
    return report;
  }
  const scrub = vscode.l10n.t('Scrub');
  const detail = [
    ...formatScrubReport(report).slice(1).map((l) => l.trim()),
    '',
    vscode.l10n.t('The shared bank is rewritten in one transaction; everyone using it sees the change once they reopen it. A backup (pg_dump) made first still holds the secrets.'),
  ].join('\n');
  const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Found {0} in the shared memory bank. Scrub them?', describeCounts(report.kinds)), { modal: true, detail }, scrub);
  if (choice !== scrub) return undefined;
  const actor = currentUser();
  const done = await scrubPostgresBank(storage.url, storage.bankId, { apply: true, actor });
  await pm.reopenBank().catch((err) => pm.log.warn(`Reopening the memory bank failed: ${errorMessage(err)}`));
  pm.log.info(formatScrubReport(done).join('\n'));
  void vscode.window.showInformationMessage(vscode.l10n.t('Scrubbed {0} in the shared memory bank.', describeCounts(done.kinds)));
  return done;
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
  const { getApiKey } = await import('./settings');
  let apiKey = await getApiKey(pm.context.secrets, url);
  const { testConnection } = await import('../core/llm/openaiChatModel');
  for (;;) {
    const res = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Testing {0}…', url), cancellable: true },
      (_p, token) => {
        const ctl = new AbortController();
        token.onCancellationRequested(() => ctl.abort());
        return testConnection(url, apiKey, ctl.signal);
      },
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

export { describeOperation };
