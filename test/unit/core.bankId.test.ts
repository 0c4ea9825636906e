import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bankIdFromRemote, defaultBankId } from '../../src/core/bank/bankId';

describe('shared bank ids', () => {
  it('is the same for every spelling of a remote, and carries no credentials', () => {
    for (const remote of [
      'https://github.com/Org/repo.git',
      'https://ada:ghp_secret123@github.com/Org/repo.git',
      'git@github.com:Org/repo.git',
      'ssh://git@GitHub.com:22/Org/repo',
      'git+ssh://git@github.com/Org/repo.git/',
    ]) {
      expect(bankIdFromRemote(remote), remote).toBe('github.com/Org/repo');
    }
    expect(bankIdFromRemote('/srv/git/tools.git')).toBe('srv/git/tools');
    expect(bankIdFromRemote('C:\\repos\\tools.git')).toBe('C:/repos/tools');
    expect(bankIdFromRemote('  ')).toBeUndefined();
  });

  it("takes a working folder's origin, and its name when it has none", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-bankid-'));
    const repo = path.join(dir, 'my-service');
    fs.mkdirSync(repo);
    expect(defaultBankId(repo)).toBe('my-service');
    execFileSync('git', ['init', '-q'], { cwd: repo });
    expect(defaultBankId(repo)).toBe('my-service');
    execFileSync('git', ['remote', 'add', 'origin', 'https://bob:tok@gitlab.example.com/team/my-service.git'], { cwd: repo });
    expect(defaultBankId(repo)).toBe('gitlab.example.com/team/my-service');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
