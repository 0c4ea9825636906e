import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatScrubReport, type ScrubReport } from '../../core/bank/scrub';
import { describeCounts } from '../../core/privacy/boundary';
import { currentUser } from '../projectMemory';
import { errorMessage } from '../errors';
import { databaseLabel, readStorageSettings } from '../settings';
import { withAbortSignal } from '../ui';
import type { CommandDeps, Register } from './ui';

/** The bank as a whole: export, import, clear, rebuild the index, scrub secrets. */
export function bankCommands(deps: CommandDeps, reg: Register): vscode.Disposable[] {
  const { pm } = deps;
  return [
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
      void vscode.window.showInformationMessage(
        res.dropped.length
          ? vscode.l10n.t('Imported {0} memories. Left out {1} field(s) that are not part of the export format: {2}', res.imported, res.dropped.length, res.dropped.slice(0, 10).join(', '))
          : vscode.l10n.t('Imported {0} memories.', res.imported),
      );
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
          let last = 0;
          return withAbortSignal(token, async (signal) => {
            const n = await bank.rebuildIndex({
              signal,
              onProgress: (done, total) => {
                const pct = total ? Math.round((done / total) * 100) : 100;
                progress.report({ increment: pct - last, message: vscode.l10n.t('{0} of {1} memories', done, total) });
                last = pct;
              },
            });
            void vscode.window.showInformationMessage(vscode.l10n.t('Rebuilt the index of {0} memories.', n));
            return n;
          });
        },
      );
    }),

    reg('scrubSecrets', vscode.l10n.t('Scrubbing secrets failed'), () => scrubSecrets(deps)),
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
    import('../../core/config').then(async ({ scrubBank }) => scrubBank(await pm.config(), { exports, apply: false })),
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
    const cfg = await pm.config();
    const { scrubBank } = await import('../../core/config');
    done = await capture.withQueueReleased(() => scrubBank(cfg, { exports, apply: true, actor }));
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
  const cfg = await pm.config();
  if (!cfg.bank.postgres) return undefined;
  const { scrubBank } = await import('../../core/config');
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Looking for stored secrets…') }, () => scrubBank(cfg, {}));
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
  const done = await scrubBank(cfg, { apply: true, actor });
  await pm.reopenBank().catch((err) => pm.log.warn(`Reopening the memory bank failed: ${errorMessage(err)}`));
  pm.log.info(formatScrubReport(done).join('\n'));
  void vscode.window.showInformationMessage(vscode.l10n.t('Scrubbed {0} in the shared memory bank.', describeCounts(done.kinds)));
  return done;
}
