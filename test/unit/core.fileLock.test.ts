import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { FileLock } from '../../src/core/bank/fileLock';

function deadPid(): number {
  // A process that has exited: its pid is free (reuse within the test is vanishingly unlikely).
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

describe('FileLock', () => {
  it('takes over a lock left by a dead process and reports it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-lock-'));
    const file = path.join(dir, 'bank.lock');
    fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), host: os.hostname(), time: Date.now() }));
    const lock = new FileLock(file, 30_000, 2_000);
    expect(await lock.withLock(() => 'held')).toBe('held');
    expect(lock.tookOverStale).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('never takes a lock from a live process on this machine, however old', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-lock-'));
    const file = path.join(dir, 'bank.lock');
    const content = JSON.stringify({ pid: process.ppid, host: os.hostname(), time: Date.now() - 3_600_000 });
    fs.writeFileSync(file, content);
    const lock = new FileLock(file, 1_000, 300);
    await expect(lock.withLock(() => 'held')).rejects.toMatchObject({ code: 'LOCKED' });
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
  });

  it('serialises holders in one process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-lock-'));
    const a = new FileLock(path.join(dir, 'bank.lock'));
    const b = new FileLock(path.join(dir, 'bank.lock'));
    const order: string[] = [];
    await Promise.all([
      a.withLock(async () => {
        order.push('a+');
        await new Promise((r) => setTimeout(r, 50));
        order.push('a-');
      }),
      b.withLock(async () => {
        order.push('b+');
        order.push('b-');
      }),
    ]);
    expect(order.join(' ')).toMatch(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/);
  });
});
