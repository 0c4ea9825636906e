import * as fs from 'node:fs';
import * as os from 'node:os';
import { BankError } from '../errors';
import { processAlive } from '../util/processAlive';

interface LockInfo {
  pid: number;
  host: string;
  time: number;
}

/**
 * A cross-process lock: a file created with O_EXCL. A lock whose process is gone, or that is older
 * than `staleMs`, is taken over, so a crashed VS Code window never blocks the other one for long.
 */
export class FileLock {
  constructor(
    readonly path: string,
    private readonly staleMs = 30_000,
    private readonly timeoutMs = 15_000,
  ) {}

  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Set when our last acquire had to wait: another process wants the lock too. */
  private contended = false;

  private async acquire(): Promise<void> {
    // Fairness: after a contended hold, step aside briefly so a waiting process gets its turn
    // instead of this one re-taking the lock in a tight loop.
    if (this.contended) await new Promise((r) => setTimeout(r, 6));
    this.contended = false;
    const deadline = Date.now() + this.timeoutMs;
    let delay = 1;
    for (;;) {
      try {
        const fd = fs.openSync(this.path, 'wx');
        const info: LockInfo = { pid: process.pid, host: os.hostname(), time: Date.now() };
        fs.writeSync(fd, JSON.stringify(info));
        fs.closeSync(fd);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const stale = this.staleContent();
      if (stale !== undefined) {
        // Move it aside, then check that what moved is the lock judged stale: another process may
        // have taken the stale lock over in between, and its fresh lock must go back in place.
        const grave = `${this.path}.stale-${process.pid}-${Date.now()}`;
        try {
          fs.renameSync(this.path, grave);
          if (fs.readFileSync(grave, 'utf8') !== stale) {
            try {
              fs.linkSync(grave, this.path);
            } catch {
              /* a newer lock is already in place */
            }
          } else {
            this.tookOverStale = true;
          }
          fs.rmSync(grave, { force: true });
        } catch {
          /* another process took it over first */
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new BankError('LOCKED', `The memory bank is locked by another process (${this.path}). Try again in a moment.`);
      }
      this.contended = true;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 4);
    }
  }

  /** The lock file's content when its holder is gone, else undefined. */
  private staleContent(): string | undefined {
    let raw: string;
    let info: LockInfo;
    try {
      raw = fs.readFileSync(this.path, 'utf8');
      info = JSON.parse(raw) as LockInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // Empty or half-written lock file: stale only once it is old enough.
      try {
        const content = fs.readFileSync(this.path, 'utf8');
        return Date.now() - fs.statSync(this.path).mtimeMs > 2_000 ? content : undefined;
      } catch {
        return undefined;
      }
    }
    // On this machine a live holder keeps its lock however long it takes; elsewhere (a shared
    // folder) only age can tell.
    if (info.host === os.hostname()) return info.pid !== process.pid && !processAlive(info.pid) ? raw : undefined;
    return Date.now() - info.time > this.staleMs ? raw : undefined;
  }

  /** True once a lock left by a crashed process was taken over (reported by the bank). */
  tookOverStale = false;

  private release(): void {
    try {
      const info = JSON.parse(fs.readFileSync(this.path, 'utf8')) as LockInfo;
      if (info.pid === process.pid) fs.rmSync(this.path, { force: true });
    } catch {
      /* already gone */
    }
  }
}
