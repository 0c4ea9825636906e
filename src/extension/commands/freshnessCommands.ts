import * as vscode from 'vscode';
import { freshnessFor } from '../../core/evidence/freshness';
import { FolderWorkspace } from '../../core/evidence/workspace';
import { readFreshnessSettings } from '../freshness/freshnessService';
import { withAbortSignal } from '../ui';
import { type CommandDeps, type Register, short } from './ui';

/** Memories checked against the workspace: check now, review what changed, retire what nobody uses. */
export function freshnessCommands(deps: CommandDeps, reg: Register): vscode.Disposable[] {
  const { pm } = deps;
  const workspace = () => {
    const root = deps.freshness.root;
    if (!root) throw new Error(vscode.l10n.t('Open a folder first: memories are checked against its files.'));
    return new FolderWorkspace(root);
  };
  return [
    reg('checkMemories', vscode.l10n.t('Checking memories failed'), async () => {
      pm.requireTrust();
      const bank = await pm.getBank();
      const checker = freshnessFor(bank);
      const ws = workspace();
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Checking memories against the workspace') }, () => checker.check(ws));
      deps.freshness.showStatus(checker);
      const flagged = checker.ledger.flagged().length;
      const review = vscode.l10n.t('Review');
      const msg = flagged
        ? vscode.l10n.t('Checked {0} memories that cite the workspace: {1} need review.', report.checked, flagged)
        : vscode.l10n.t('Checked {0} memories that cite the workspace: all still hold.', report.checked);
      const choice = await vscode.window.showInformationMessage(msg, ...(flagged ? [review] : []));
      if (choice === review) await vscode.commands.executeCommand('projectMemory.reviewFlagged');
    }),
    reg('reviewFlagged', vscode.l10n.t('Reviewing memories failed'), async (memoryId?: string) => {
      pm.requireTrust();
      const bank = await pm.getBank();
      const checker = freshnessFor(bank);
      checker.ledger.refresh();
      // From the panel: that memory only.
      const flagged = checker.ledger.flagged().filter((f) => typeof memoryId !== 'string' || f.memory.id === memoryId);
      if (!flagged.length) {
        void vscode.window.showInformationMessage(vscode.l10n.t('No memory needs review.'));
        return;
      }
      const engine = await pm.getEngine();
      const ws = workspace();
      const outcomes = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Project Memory: reviewing memories whose files changed'), cancellable: true },
        (progress, token) =>
          withAbortSignal(token, (signal) =>
            checker.review(engine, ws, {
              ids: flagged.map((f) => f.memory.id),
              signal,
              onProgress: (done, total, last) => progress.report({ increment: 100 / total, message: vscode.l10n.t('{0} of {1}: {2}', done, total, last ? short(bank.get(last.memoryId)?.text ?? '', 60) : '') }),
            }),
          ),
      );
      deps.freshness.showStatus(checker);
      const count = (d: string) => outcomes.filter((o) => o.decision === d).length;
      const summary = vscode.l10n.t('Reviewed {0}: {1} kept, {2} rewritten, {3} retired, {4} held for approval, {5} not reviewed.', outcomes.length, count('kept'), count('updated'), count('retired'), count('held'), count('failed'));
      for (const o of outcomes) pm.log.info(`Review of ${o.memoryId.slice(0, 8)} (${o.changes.join('; ')}): ${o.decision}${o.text ? ` -> "${o.text}"` : ''}${o.error ? `: ${o.error}` : ''}`);
      const undo = vscode.l10n.t('Undo');
      const changed = count('updated') + count('retired');
      const choice = await vscode.window.showInformationMessage(summary, ...(changed ? [undo] : []));
      if (choice === undo) {
        const group = bank.lastUndoableGroup();
        if (group) await bank.undoBatch(group.key);
      }
    }),
    reg('consolidate', vscode.l10n.t('Consolidation failed'), async () => {
      pm.requireTrust();
      const engine = await pm.getEngine();
      const { planConsolidation, applyConsolidation } = await import('../../core/consolidation');
      const plan = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Project Memory: consolidating (the Memory Manager reads each memory)'), cancellable: true },
        (progress, token) =>
          withAbortSignal(token, (signal) =>
            planConsolidation(engine, { signal, onProgress: (done, total) => progress.report({ increment: 100 / total, message: vscode.l10n.t('{0} of {1}', done, total) }) }),
          ),
      );
      if (!plan.steps.length) {
        void vscode.window.showInformationMessage(
          plan.cancelled ? vscode.l10n.t('Consolidation was cancelled; nothing changed.') : vscode.l10n.t('Consolidation found nothing to merge or retire in {0} memories.', plan.examined),
        );
        return;
      }
      const picked = await vscode.window.showQuickPick(
        plan.steps.map((s) => ({
          label: s.kind === 'duplicate' ? vscode.l10n.t('Retire duplicate: {0}', short(s.retire.text)) : vscode.l10n.t('Supersede: {0}', short(s.retire.text)),
          detail: s.kind === 'duplicate' ? vscode.l10n.t('The same as: {0}', short(s.keep.text)) : vscode.l10n.t('Replaced by: {0}', short(s.keep.text)),
          picked: true,
          step: s,
        })),
        {
          canPickMany: true,
          placeHolder: plan.cancelled
            ? vscode.l10n.t('Cancelled part way: {0} changes found so far. Uncheck any to leave it; nothing changes until you confirm.', plan.steps.length)
            : vscode.l10n.t('{0} changes found. Uncheck any to leave it; nothing changes until you confirm.', plan.steps.length),
        },
      );
      if (!picked?.length) return;
      const recs = await applyConsolidation(engine, picked.map((p) => p.step));
      const undo = vscode.l10n.t('Undo');
      const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Consolidation applied {0} changes (kept in the history).', picked.length), undo);
      if (choice === undo && recs.length) await engine.bank.undoBatch(recs[0].batchId);
    }),
    reg('markStillTrue', vscode.l10n.t('Marking the memory failed'), async (memoryId?: string) => {
      const bank = await pm.getBank();
      const checker = freshnessFor(bank);
      checker.ledger.refresh();
      const flagged = checker.ledger.flagged();
      let id = typeof memoryId === 'string' ? memoryId : undefined;
      if (!id) {
        if (!flagged.length) {
          void vscode.window.showInformationMessage(vscode.l10n.t('No memory needs review.'));
          return;
        }
        const picked = await vscode.window.showQuickPick(
          flagged.map((f) => ({ label: short(f.memory.text), detail: f.review.changes.join('; '), id: f.memory.id })),
          { placeHolder: vscode.l10n.t('Which memory is still true as written?') },
        );
        id = picked?.id;
      }
      if (!id) return;
      // What the workspace says now becomes the memory's evidence: the same change will not flag it again.
      await checker.keep(id, workspace(), 'kept by hand');
      deps.freshness.showStatus(checker);
    }),
    reg('retireUnused', vscode.l10n.t('Retiring unused memories failed'), async () => {
      const bank = await pm.getBank();
      const checker = freshnessFor(bank);
      const configured = readFreshnessSettings().expireAfterDays;
      const raw = await vscode.window.showInputBox({
        prompt: vscode.l10n.t('Retire active, unpinned memories neither changed, confirmed by a check nor used in an answer for this many days'),
        value: String(configured || 90),
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? undefined : vscode.l10n.t('A number of days, 1 or more.')),
      });
      if (!raw) return;
      const days = Number(raw.trim());
      const due = checker.expiring(days);
      if (!due.length) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Every memory was changed, confirmed or used in the last {0} days.', days));
        return;
      }
      const picked = await vscode.window.showQuickPick(
        due.map((m) => ({ label: short(m.text), description: m.updatedAt.slice(0, 10), picked: true, memory: m })),
        { canPickMany: true, placeHolder: vscode.l10n.t('{0} memories would be retired (kept in the history; one undo brings them back)', due.length) },
      );
      if (!picked?.length) return;
      const recs = await checker.expire(days, { only: new Set(picked.map((p) => p.memory.id)), reason: `retired by hand: unused for ${days} days` });
      if (!recs.length) return;
      const undo = vscode.l10n.t('Undo');
      const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Retired {0} memories.', recs.length), undo);
      if (choice === undo) await bank.undoBatch(recs[0].batchId);
    }),
  ];
}
