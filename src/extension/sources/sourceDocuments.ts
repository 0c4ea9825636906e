// Opens where a memory came from: a saved file or a diagnostic at its file (and line, when the event
// gave one), anything else (a commit, a chat turn, a terminal command) as a read-only document holding the
// event as the bank kept it (redacted). The bank's copy is shown even for a commit: the repository may
// have been rewritten since, and the event is what the memory was distilled from.
import * as vscode from 'vscode';
import { describeSource, type SourceEvent } from '../../core/provenance';
import type { ProjectMemory } from '../projectMemory';

export const SOURCE_SCHEME = 'project-memory-source';

/** "src/a.ts:12" or "src/a.ts" in a save's or a diagnostic's ref; the line from "line 12" in its text. */
function fileTarget(s: SourceEvent): { path: string; line?: number } | undefined {
  if ((s.kind !== 'save' && s.kind !== 'diagnostic') || !s.ref) return undefined;
  const m = /^(.*?)(?::(\d+))?$/.exec(s.ref)!;
  const line = m[2] ? Number(m[2]) : Number(/\bline (\d+)\b/i.exec(s.text)?.[1] ?? NaN);
  return { path: m[1]!, ...(Number.isFinite(line) && line > 0 ? { line } : {}) };
}

/** The document text of a kept event: what it was, when, and the event as captured. */
export function sourceDocumentText(memoryText: string, sources: SourceEvent[]): string {
  const parts = [`Memory: ${memoryText}`, ''];
  for (const s of sources) {
    parts.push(`── ${describeSource(s)}${s.actor ? ` · ${s.actor}` : ''}`, '', s.text, ...(s.clipped ? ['', `(${s.clipped} more characters were not kept)`] : []), '');
  }
  return parts.join('\n');
}

export class SourceDocuments implements vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly registration: vscode.Disposable;

  constructor(private readonly pm: ProjectMemory) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(SOURCE_SCHEME, {
      provideTextDocumentContent: (uri) => this.texts.get(uri.query) ?? vscode.l10n.t('This source is no longer open; open it again from the memory.'),
    });
  }

  /** Opens the memory's source; false when the bank keeps none for it (manual memories, events dropped by the cap). */
  async open(memoryId: string): Promise<boolean> {
    const bank = await this.pm.getBank();
    const memory = bank.get(memoryId);
    const sources = memory ? bank.sourcesOf(memoryId) : [];
    if (!memory || !sources.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The bank keeps no source event for this memory (added by hand, imported without one, or dropped by the cap on kept events).'));
      return false;
    }
    const file = fileTarget(sources[0]!);
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (file && folder) {
      const uri = vscode.Uri.joinPath(folder.uri, file.path);
      try {
        await vscode.workspace.fs.stat(uri);
        const pos = new vscode.Position(Math.max(0, (file.line ?? 1) - 1), 0);
        await vscode.window.showTextDocument(uri, { selection: new vscode.Range(pos, pos), preview: true });
        return true;
      } catch {
        // The file is gone: show the event as kept instead.
      }
    }
    const key = memoryId;
    this.texts.set(key, sourceDocumentText(memory.text, sources));
    const title = describeSource(sources[0]!).replace(/[\\/:*?"<>|]/g, '-');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: SOURCE_SCHEME, path: `/${title}.txt`, query: key }));
    await vscode.window.showTextDocument(doc, { preview: true });
    return true;
  }

  dispose(): void {
    this.registration.dispose();
  }
}
