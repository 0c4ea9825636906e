import * as vscode from 'vscode';
import type { CommandDeps, Register } from './ui';

/** Pause, resume and retry capture. */
export function captureCommands(deps: CommandDeps, reg: Register): vscode.Disposable[] {
  const { capture } = deps;
  return [
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
  ];
}
