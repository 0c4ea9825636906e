import * as vscode from 'vscode';
import { errorMessage, showError } from '../errors';
import { formatRecord } from '../chat/memoryParticipant';
import { type CommandDeps, type Register, pickMemory, short } from './ui';
import { MEMORY_KINDS, parseKind, type MemoryKind } from '../../core/kinds';

/** The kind of a memory added by hand: undefined for "no kind", null when the user cancelled. */
async function pickKind(): Promise<MemoryKind | undefined | null> {
  const items: (vscode.QuickPickItem & { memoryKind?: MemoryKind })[] = [
    ...MEMORY_KINDS.map((k) => ({ label: k.label, detail: k.hint, memoryKind: k.id })),
    { label: vscode.l10n.t('No kind'), detail: vscode.l10n.t('Leave it unlabelled') },
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('What kind of memory is this?'), matchOnDetail: true });
  return picked ? picked.memoryKind : null;
}

/** Add, search, forget, show history, undo, reveal: one memory at a time. */
export function memoryCommands(deps: CommandDeps, reg: Register): vscode.Disposable[] {
  const { pm } = deps;
  return [
    reg('addMemory', vscode.l10n.t('Add memory failed'), async (text?: string, kindArg?: string) => {
      const editor = vscode.window.activeTextEditor;
      const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
      // A caller that passes the text (a link, another extension) is not asked anything, the kind included.
      const given = typeof text === 'string' && text.trim() ? text : undefined;
      const value =
        given ??
        (await vscode.window.showInputBox({
          prompt: vscode.l10n.t('What should Project Memory remember?'),
          value: selection.trim(),
          validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Enter the fact to remember.')),
        }));
      if (!value?.trim()) return undefined;
      // The kind decides where the memory shows (filters, the instruction files); Escape cancels the add.
      const kind = given ? parseKind(kindArg) : await pickKind();
      if (kind === null) return undefined;
      const bank = await pm.getBank();
      const rec = await bank.addManual(value.trim(), { source: { kind: 'manual', ref: editor && selection ? vscode.workspace.asRelativePath(editor.document.uri) : undefined }, ...(kind ? { kind } : {}) });
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
      const group = bank.lastUndoableGroup();
      if (!group) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Nothing to undo.'));
        return undefined;
      }
      const last = group.record;
      // What one captured event (or one manager batch, "clear", an import) did is undone together.
      const { operations: undone, skipped } = await bank.undoBatch(group.key);
      for (const k of skipped) pm.log.warn(`Undo skipped ${k.memoryId}: ${k.reason}`);
      const what = undone > 1 ? vscode.l10n.t('{0} operations', undone) : short((last.after ?? last.before)?.text ?? '');
      void vscode.window.showInformationMessage(vscode.l10n.t('Undid {0}: {1}', last.action, what));
      return undone;
    }),

    reg('revealMemory', vscode.l10n.t('Reveal memory failed'), async (id?: string) => deps.revealMemory(typeof id === 'string' ? id : undefined)),

    reg('openMemorySource', vscode.l10n.t('Open memory source failed'), async (id?: string) => {
      const memory = typeof id === 'string' ? (await pm.getBank()).get(id) : await pickMemory(deps, vscode.l10n.t('Whose source should open?'), true);
      return memory ? deps.sources.open(memory.id) : false;
    }),
  ];
}
