// What evidence is checked against: the files of a workspace, read through one small interface so the
// engine never imports `vscode` and the freshness benchmark can read a git tree at any commit.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Files above this size are cited by existence only (their text is never read for checks). */
export const MAX_EVIDENCE_FILE_BYTES = 1024 * 1024;

export interface WorkspaceReader {
  /** A short name for reports (the folder, or "repo@commit"). */
  readonly label: string;
  /** 'file', 'dir', or undefined when the path does not exist. Paths are relative, with '/'. */
  kind(relPath: string): 'file' | 'dir' | undefined;
  /** A file's text (undefined when missing, a folder, or over MAX_EVIDENCE_FILE_BYTES). */
  read(relPath: string): string | undefined;
  /** Whether a commit is in the checked-out history; undefined when that cannot be told (no git). */
  hasCommit?(sha: string): boolean | undefined;
}

/** Normalises a path as memories write it ("./src/a.ts", "src\\a.ts") to the workspace's relative form. */
export function normalisePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
}

function inside(root: string, rel: string): string | undefined {
  const full = path.resolve(root, rel);
  const back = path.relative(root, full);
  return back.startsWith('..') || path.isAbsolute(back) ? undefined : full;
}

/** A workspace folder on disk. Reads are synchronous and small: a check reads a few manifests and cited files. */
export class FolderWorkspace implements WorkspaceReader {
  readonly label: string;
  private gitKnown: boolean | undefined;

  constructor(readonly root: string) {
    this.label = path.basename(root);
  }

  kind(relPath: string): 'file' | 'dir' | undefined {
    const full = inside(this.root, normalisePath(relPath));
    if (!full) return undefined;
    try {
      const st = fs.statSync(full);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
    } catch {
      return undefined;
    }
  }

  read(relPath: string): string | undefined {
    const full = inside(this.root, normalisePath(relPath));
    if (!full) return undefined;
    try {
      const st = fs.statSync(full);
      if (!st.isFile() || st.size > MAX_EVIDENCE_FILE_BYTES) return undefined;
      return fs.readFileSync(full, 'utf8');
    } catch {
      return undefined;
    }
  }

  hasCommit(sha: string): boolean | undefined {
    if (this.gitKnown === false || !/^[0-9a-f]{7,40}$/i.test(sha)) return undefined;
    try {
      execFileSync('git', ['-C', this.root, 'merge-base', '--is-ancestor', sha, 'HEAD'], { stdio: 'ignore', timeout: 5000 });
      this.gitKnown = true;
      return true;
    } catch (err) {
      // Exit 1: not an ancestor of HEAD (another branch, or rewritten away). Anything else: no git here.
      const status = (err as { status?: number }).status;
      if (status === 1) return false;
      if (this.gitKnown === undefined) this.gitKnown = fs.existsSync(path.join(this.root, '.git')) ? undefined : false;
      return undefined;
    }
  }
}

/** A workspace held in memory: path -> text (a git tree read by the benchmark, or a test's files). */
export class MapWorkspace implements WorkspaceReader {
  private readonly dirs = new Set<string>();

  constructor(
    readonly label: string,
    private readonly files: ReadonlyMap<string, string>,
    private readonly commits?: ReadonlySet<string>,
  ) {
    for (const p of files.keys()) {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) this.dirs.add(parts.slice(0, i).join('/'));
    }
  }

  kind(relPath: string): 'file' | 'dir' | undefined {
    const p = normalisePath(relPath);
    return this.files.has(p) ? 'file' : this.dirs.has(p) ? 'dir' : undefined;
  }

  read(relPath: string): string | undefined {
    const text = this.files.get(normalisePath(relPath));
    return text !== undefined && text.length <= MAX_EVIDENCE_FILE_BYTES ? text : undefined;
  }

  hasCommit(sha: string): boolean | undefined {
    if (!this.commits) return undefined;
    for (const c of this.commits) if (c.startsWith(sha.toLowerCase())) return true;
    return false;
  }
}
