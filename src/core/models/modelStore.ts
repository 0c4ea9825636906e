import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CatalogModel } from './catalog';
import { downloadFile, type DownloadProgress } from './download';

/** Where `scripts/setup-models.sh` puts models inside a checkout of this project. */
export function projectModelsDir(projectRoot: string = process.cwd()): string {
  return path.join(projectRoot, '.cache', 'models');
}

/**
 * The per-user models folder that downloads go to: `$PROJECT_MEMORY_MODELS_DIR`, else
 * `$XDG_CACHE_HOME/project-memory/models`, else `~/.cache/project-memory/models`
 * (`%LOCALAPPDATA%\project-memory\models` on Windows).
 */
export function userModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PROJECT_MEMORY_MODELS_DIR) return path.resolve(env.PROJECT_MEMORY_MODELS_DIR);
  if (process.platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'project-memory', 'models');
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'project-memory', 'models');
}

/**
 * The folders searched for an installed model, in order: `$MODELS_DIR` (where `scripts/setup-models.sh`
 * was told to install), the project's `.cache/models`, then the user folder.
 */
export function modelSearchDirs(projectRoot?: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [projectModelsDir(projectRoot), userModelsDir(env)];
  return env.MODELS_DIR ? [path.resolve(env.MODELS_DIR), ...dirs] : dirs;
}

/** Path of the model's main file if every file of it is present in one of `dirs`. */
export function findInstalledModel(model: CatalogModel, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const folder = path.join(dir, model.dir);
    const complete = model.files.every((f) => fs.existsSync(path.join(folder, f.name)));
    if (complete) return path.join(folder, model.main);
  }
  return undefined;
}

export interface EnsureModelOptions {
  /** Folders searched first; default: the project's `.cache/models`, then the user folder. */
  searchDirs?: string[];
  /** Folder a missing model is downloaded into; default: the user folder. */
  downloadDir?: string;
  onProgress?: (message: string) => void;
  /** Bytes of the file being downloaded so far and its size (for a progress bar). */
  onBytes?: (file: string, received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

/**
 * Returns the path of the model's main file, downloading (resumably, checksum-verified) whatever
 * files are missing into the user's models folder on first use.
 */
export async function ensureModel(model: CatalogModel, opts: EnsureModelOptions = {}): Promise<string> {
  const found = findInstalledModel(model, opts.searchDirs ?? modelSearchDirs());
  if (found) return found;
  const folder = path.join(opts.downloadDir ?? userModelsDir(), model.dir);
  for (const file of model.files) {
    const dest = path.join(folder, file.name);
    if (fs.existsSync(dest)) continue;
    opts.onProgress?.(`Downloading ${model.id}: ${file.name} into ${folder}`);
    let lastReported = -1;
    await downloadFile({
      url: file.url,
      dest,
      sha256: file.sha256,
      signal: opts.signal,
      onProgress: (p: DownloadProgress) => {
        const total = p.total ?? file.size;
        opts.onBytes?.(file.name, p.received, total);
        if (!total) return;
        const pct = Math.floor((100 * p.received) / total);
        if (pct >= lastReported + 10 || pct === 100) {
          lastReported = pct;
          opts.onProgress?.(`  ${file.name}: ${pct}% of ${(total / 1e6).toFixed(1)} MB`);
        }
      },
    });
  }
  return path.join(folder, model.main);
}
