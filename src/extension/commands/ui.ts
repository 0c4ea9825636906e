import * as vscode from 'vscode';
import type { Memory } from '../../core/types';
import { showError } from '../errors';
import { clipLine } from '../../core/util/text';
import type { ProjectMemory } from '../projectMemory';
import type { CaptureService } from '../capture/captureService';
import type { FreshnessService } from '../freshness/freshnessService';
import type { InstructionsService } from '../instructions/instructionsService';
import type { SourceDocuments } from '../sources/sourceDocuments';

export interface CommandDeps {
  pm: ProjectMemory;
  capture: CaptureService;
  freshness: FreshnessService;
  instructions: InstructionsService;
  /** Opens where a memory came from (its file, or the kept event). */
  sources: SourceDocuments;
  revealMemory(id?: string): Promise<void>;
}

/** Registers `projectMemory.<id>`, its body guarded (errors shown with their fix-it actions). */
export type Register = <A extends unknown[]>(id: string, title: string, fn: (...args: A) => Promise<unknown>) => vscode.Disposable;

export function short(text: string, max = 90): string {
  return clipLine(text, max);
}

/** Runs a command body and shows any error with its fix-it actions. */
export function guarded<A extends unknown[]>(deps: CommandDeps, title: string, fn: (...args: A) => Promise<unknown>): (...args: A) => Promise<unknown> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      await showError(deps.pm.log, title, err);
      return undefined;
    }
  };
}

export async function pickMemory(deps: CommandDeps, placeHolder: string, includeInactive = false): Promise<Memory | undefined> {
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
