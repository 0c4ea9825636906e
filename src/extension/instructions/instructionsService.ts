// Instruction-file sync (opt-in per workspace): the files named in projectMemory.instructions.files carry a
// generated section listing the active conventions, decisions and workflows, rewritten when the bank changes.
// The first write of each file is shown as a diff and waits for the user's yes; nothing outside the markers
// is ever changed, and a file with unsaved edits is left alone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MemoryBank } from '../../core/bank/memoryBank';
import { DEFAULT_MAX_CHARS, InstructionFileError, bankInstructionSection, mergeSection, removeSection, type RenderedSection, targetFor } from '../../core/conventions/instructions';
import { writeFileAtomic } from '../../core/util/atomicFile';
import { SECTION } from '../settings';
import type { ProjectMemory } from '../projectMemory';

/** Bank changes within this long are written together (an ingest run writes many records). */
const DEBOUNCE_MS = 1500;
const APPROVED_KEY = 'projectMemory.instructions.approved';
export const PREVIEW_SCHEME = 'project-memory-instructions';

export interface InstructionsSettings {
  files: string[];
  maxChars: number;
}

export function readInstructionsSettings(): InstructionsSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const files = cfg.get<unknown>('instructions.files', []);
  const max = Number(cfg.get('instructions.maxChars', DEFAULT_MAX_CHARS));
  return {
    files: Array.isArray(files) ? [...new Set(files.filter((f): f is string => typeof f === 'string' && !!f.trim()).map((f) => f.trim().replace(/\\/g, '/')))] : [],
    maxChars: Number.isFinite(max) && max >= 400 ? Math.floor(max) : DEFAULT_MAX_CHARS,
  };
}

export type SyncOutcome = { file: string; result: 'written' | 'created' | 'up to date' | 'waiting for approval' | 'declined' | 'unsaved edits' | 'error'; error?: string };

export class InstructionsService implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];
  private followed: MemoryBank | undefined;
  private bankSubscription: { dispose(): void } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private previews = new Map<string, string>();
  private readonly previewChanged = new vscode.EventEmitter<vscode.Uri>();
  /** Files whose first write was offered in this window (asked once, not on every bank change). */
  private offered = new Set<string>();
  private readonly synced = new vscode.EventEmitter<SyncOutcome[]>();
  /** Fires after each sync (tests follow it). */
  readonly onDidSync = this.synced.event;

  constructor(private readonly pm: ProjectMemory) {}

  get root(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  start(): void {
    if (this.disposables.length) return;
    const previews = this.previews;
    this.disposables.push(
      this.synced,
      this.previewChanged,
      vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, {
        onDidChange: this.previewChanged.event,
        provideTextDocumentContent: (uri) => previews.get(uri.path) ?? '',
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.instructions`)) this.schedule();
      }),
    );
    // The files may be behind the bank (another window or the CLI changed it while this one was closed).
    if (readInstructionsSettings().files.length) this.schedule();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.bankSubscription?.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.sync({ interactive: false })).catch((err) => this.pm.log.warn(`Syncing instruction files failed: ${String(err)}`));
    }, DEBOUNCE_MS);
  }

  /** Runs a pending sync now (tests). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = this.running.then(() => this.sync({ interactive: false }));
    }
    await this.running;
  }

  private follow(bank: MemoryBank): void {
    if (this.followed === bank) return;
    this.bankSubscription?.dispose();
    this.followed = bank;
    this.bankSubscription = bank.onDidChange((e) => {
      if (e.external || e.records.some((r) => r.action !== 'NOOP')) this.schedule();
    });
  }

  /** The section as it would be written now. */
  async section(): Promise<RenderedSection> {
    const bank = await this.pm.getBank();
    this.follow(bank);
    return bankInstructionSection(bank, { maxChars: readInstructionsSettings().maxChars });
  }

  /**
   * Writes the section into every configured file. Interactive (the command): a file not yet approved is shown
   * as a diff and written on the user's yes. In the background: approved files only; the others are offered once.
   */
  async sync(opts: { interactive: boolean; files?: string[] }): Promise<SyncOutcome[]> {
    const root = this.root;
    const files = opts.files ?? readInstructionsSettings().files;
    if (!root || !files.length || !this.pm.isTrusted) return [];
    // A workspace that never had a memory has nothing to deliver: its bank is not created for that.
    if (!opts.interactive && !this.pm.peekBankSync() && this.pm.bankFolderIsEmpty()) return [];
    const section = await this.section();
    const approved = new Set(this.pm.context.workspaceState.get<string[]>(APPROVED_KEY, []));
    const out: SyncOutcome[] = [];
    for (const rel of files) {
      const file = path.resolve(root, rel);
      if (path.relative(root, file).startsWith('..') || path.isAbsolute(path.relative(root, file))) {
        out.push({ file: rel, result: 'error', error: vscode.l10n.t('{0} is outside the workspace folder.', rel) });
        continue;
      }
      try {
        const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && path.resolve(d.uri.fsPath) === file);
        if (open?.isDirty) {
          out.push({ file: rel, result: 'unsaved edits' });
          continue;
        }
        const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
        const merged = mergeSection(before, section.text, { file: rel, preamble: targetFor(rel)?.preamble });
        if (!merged.changed) {
          out.push({ file: rel, result: 'up to date' });
          continue;
        }
        if (!approved.has(rel)) {
          if (!opts.interactive) {
            out.push({ file: rel, result: 'waiting for approval' });
            continue;
          }
          if (!(await this.confirmFirstWrite(rel, file, before, merged.text))) {
            out.push({ file: rel, result: 'declined' });
            continue;
          }
          approved.add(rel);
          await this.pm.context.workspaceState.update(APPROVED_KEY, [...approved]);
        }
        writeCreatingFolders(file, merged.text);
        out.push({ file: rel, result: before === undefined ? 'created' : 'written' });
        this.pm.log.info(`Wrote the conventions section into ${rel} (${section.listed.length} rules${section.omitted ? `, ${section.omitted} left out by the size budget` : ''}).`);
      } catch (err) {
        const msg = err instanceof InstructionFileError ? err.message : String((err as Error).message ?? err);
        out.push({ file: rel, result: 'error', error: msg });
        this.pm.log.warn(`Could not sync ${rel}: ${msg}`);
      }
    }
    this.offerPending(out, opts.interactive);
    this.synced.fire(out);
    return out;
  }

  /** The diff of the first write, then a modal question. */
  private async confirmFirstWrite(rel: string, file: string, before: string | undefined, after: string): Promise<boolean> {
    const preview = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${rel}` });
    this.previews.set(preview.path, after);
    this.previewChanged.fire(preview);
    const left = before === undefined ? vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/empty/${rel}` }) : vscode.Uri.file(file);
    await vscode.commands.executeCommand('vscode.diff', left, preview, vscode.l10n.t('{0}: the Project Memory section (preview)', rel), { preview: true });
    const write = vscode.l10n.t('Write');
    const choice = await vscode.window.showInformationMessage(
      before === undefined
        ? vscode.l10n.t('Create {0} with the project conventions section? It is rewritten when the memories change.', rel)
        : vscode.l10n.t('Write the project conventions section into {0}? Only the part between its markers is ever changed; it is rewritten when the memories change.', rel),
      { modal: true },
      write,
    );
    return choice === write;
  }

  /** Files waiting for their first write are offered once per window, from the background sync. */
  private offerPending(out: SyncOutcome[], interactive: boolean): void {
    if (interactive) return;
    const waiting = out.filter((o) => o.result === 'waiting for approval' && !this.offered.has(o.file)).map((o) => o.file);
    if (!waiting.length) return;
    for (const f of waiting) this.offered.add(f);
    const review = vscode.l10n.t('Review and Write');
    void vscode.window.showInformationMessage(vscode.l10n.t('Project Memory has a conventions section ready for {0}.', waiting.join(', ')), review).then((c) => {
      if (c === review) void vscode.commands.executeCommand('projectMemory.syncInstructions');
    });
  }

  /** Takes the section out of files no longer synced (the user unchecked them). */
  async remove(files: string[]): Promise<string[]> {
    const root = this.root;
    if (!root) return [];
    const removed: string[] = [];
    for (const rel of files) {
      const file = path.resolve(root, rel);
      if (!fs.existsSync(file)) continue;
      const text = removeSection(fs.readFileSync(file, 'utf8'), rel);
      if (text === undefined) continue;
      writeCreatingFolders(file, text);
      removed.push(rel);
    }
    const approved = this.pm.context.workspaceState.get<string[]>(APPROVED_KEY, []).filter((f) => !files.includes(f));
    await this.pm.context.workspaceState.update(APPROVED_KEY, approved);
    return removed;
  }
}

/** A new file's folder (.github/, .cursor/rules/) is created; the write itself is atomic. */
function writeCreatingFolders(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, text);
}
