import { execFile } from 'node:child_process';
import type { CommitInfo } from '../../core/capture/eventFormat';

function git(cwd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (err, stdout) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: String(stdout ?? '') });
    });
  });
}

export async function gitHead(cwd: string): Promise<string | undefined> {
  const r = await git(cwd, ['rev-parse', '--verify', '-q', 'HEAD']);
  return r.code === 0 ? r.stdout.trim() || undefined : undefined;
}

/** Paths (relative to `cwd` or absolute) that git ignores; empty when git or the repo is missing. */
export async function gitIgnored(cwd: string, paths: string[]): Promise<Set<string>> {
  if (!paths.length) return new Set();
  // Exit 1 means "none ignored"; 128 means not a repository.
  const r = await git(cwd, ['check-ignore', '--', ...paths]);
  return new Set(r.code === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : []);
}

const FIELD = '\x1f';
const RECORD = '\x1e';

/**
 * Commits reachable from HEAD but not from `since`, committed after `notBefore` (so switching to a
 * branch with older commits does not count them as new), oldest first.
 */
export async function newCommits(cwd: string, since: string | undefined, notBefore: Date, max = 20): Promise<CommitInfo[]> {
  const range = since ? [`${since}..HEAD`] : ['-1', 'HEAD'];
  const r = await git(cwd, ['log', `--max-count=${max}`, `--format=%H${FIELD}%an${FIELD}%ct${FIELD}%s${FIELD}%b${RECORD}`, ...range]);
  if (r.code !== 0) return [];
  const branch = (await git(cwd, ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim();
  const out: CommitInfo[] = [];
  for (const rec of r.stdout.split(RECORD)) {
    const [sha, author, ct, subject, body] = rec.replace(/^\n/, '').split(FIELD);
    if (!sha || !/^[0-9a-f]{7,64}$/.test(sha.trim())) continue;
    if (Number(ct) * 1000 < notBefore.getTime()) continue;
    const stat = await git(cwd, ['show', '--stat=120', '--format=', sha.trim()]);
    const files = stat.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes('|'));
    out.push({ sha: sha.trim(), author, subject: subject ?? '', body: body ?? '', files, branch: branch && branch !== 'HEAD' ? branch : undefined });
  }
  return out.reverse();
}
