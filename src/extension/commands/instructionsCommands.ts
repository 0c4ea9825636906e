import * as vscode from 'vscode';
import { INSTRUCTION_TARGETS } from '../../core/conventions/instructions';
import { SECTION } from '../settings';
import { readInstructionsSettings, type SyncOutcome } from '../instructions/instructionsService';
import type { CommandDeps, Register } from './ui';

/** Instruction-file sync: choose the files, sync now. */
export function instructionsCommands(deps: CommandDeps, reg: Register): vscode.Disposable[] {
  const { pm, instructions } = deps;
  const report = (out: SyncOutcome[]) => {
    const failed = out.filter((o) => o.result === 'error' || o.result === 'unsaved edits');
    const done = out.filter((o) => o.result === 'written' || o.result === 'created').map((o) => o.file);
    const same = out.filter((o) => o.result === 'up to date').map((o) => o.file);
    for (const f of failed) {
      void vscode.window.showWarningMessage(
        f.result === 'unsaved edits' ? vscode.l10n.t('{0} has unsaved edits: save or revert it, then sync again.', f.file) : vscode.l10n.t('Could not sync {0}: {1}', f.file, f.error ?? ''),
      );
    }
    if (done.length || same.length) {
      void vscode.window.showInformationMessage(
        [done.length ? vscode.l10n.t('Wrote the conventions section into {0}.', done.join(', ')) : '', same.length ? vscode.l10n.t('{0} already up to date.', same.join(', ')) : ''].filter(Boolean).join(' '),
      );
    }
  };
  return [
    reg('syncInstructions', vscode.l10n.t('Syncing instruction files failed'), async () => {
      pm.requireTrust();
      if (!instructions.root) throw new Error(vscode.l10n.t('Open a folder first: the instruction files live in it.'));
      if (!readInstructionsSettings().files.length) {
        await vscode.commands.executeCommand('projectMemory.chooseInstructionFiles');
        return;
      }
      report(await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Syncing instruction files') }, () => instructions.sync({ interactive: true })));
    }),
    reg('chooseInstructionFiles', vscode.l10n.t('Choosing instruction files failed'), async () => {
      pm.requireTrust();
      if (!instructions.root) throw new Error(vscode.l10n.t('Open a folder first: the instruction files live in it.'));
      const current = readInstructionsSettings().files;
      const known = INSTRUCTION_TARGETS.map((t) => ({ label: t.path, description: t.label, picked: current.includes(t.path) }));
      const custom = current.filter((f) => !INSTRUCTION_TARGETS.some((t) => t.path === f)).map((f) => ({ label: f, description: vscode.l10n.t('from your settings'), picked: true }));
      const picked = await vscode.window.showQuickPick([...known, ...custom], {
        canPickMany: true,
        title: vscode.l10n.t('Project Memory: keep the project conventions in these instruction files'),
        placeHolder: vscode.l10n.t('Agents read these files on every request. Nothing outside the generated section is changed.'),
      });
      if (!picked) return;
      const files = picked.map((p) => p.label);
      const dropped = current.filter((f) => !files.includes(f));
      await vscode.workspace.getConfiguration(SECTION).update('instructions.files', files, vscode.ConfigurationTarget.Workspace);
      if (dropped.length) {
        const remove = vscode.l10n.t('Remove');
        const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Remove the generated section from {0}?', dropped.join(', ')), remove, vscode.l10n.t('Keep'));
        if (choice === remove) {
          const removed = await instructions.remove(dropped);
          if (removed.length) void vscode.window.showInformationMessage(vscode.l10n.t('Removed the section from {0}.', removed.join(', ')));
        }
      }
      if (files.length) report(await instructions.sync({ interactive: true, files }));
    }),
  ];
}
