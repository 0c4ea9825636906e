// Which shared bank a repository uses on a team store (postgres): one id per repository, the same
// on every clone, so teammates share memories without configuring anything.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * "github.com/org/repo" from a git remote URL in any of its spellings (https with credentials,
 * scp-like ssh, ssh://, a local path); undefined when nothing usable is left. Credentials, the
 * scheme, a port and ".git" are dropped, so no secret ends up in the id.
 */
export function bankIdFromRemote(remote: string): string | undefined {
  let r = remote.trim();
  if (!r) return undefined;
  let host = '';
  let rest = r;
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:]+)(?::\d+)?(\/.*)?$/i.exec(r);
  const scp = /^(?:[^@/]+@)?([^/:]+):(?!\/\/)(.*)$/.exec(r);
  if (url) {
    host = url[1];
    rest = url[2] ?? '';
  } else if (scp && !/^[a-z]:[\\/]/i.test(r)) {
    host = scp[1];
    rest = scp[2];
  }
  r = rest.replace(/\\/g, '/').replace(/\.git\/?$/i, '').replace(/\/+$/, '').replace(/^\/+/, '');
  const id = [host.toLowerCase(), r].filter(Boolean).join('/');
  return id || undefined;
}

/** The bank id for a working folder: its origin remote, else the folder's name. */
export function defaultBankId(folder: string): string {
  try {
    const remote = execFileSync('git', ['config', '--get', 'remote.origin.url'], { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const id = bankIdFromRemote(remote);
    if (id) return id;
  } catch {
    // not a git repository, no origin, or no git: fall back to the folder name
  }
  return path.basename(path.resolve(folder));
}
