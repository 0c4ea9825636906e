import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadFile, DownloadError, hashFile } from '../../src/core/models/download';
import { ALL_MINILM_L6_V2, MODEL_CATALOG, SMOLLM2_135M_INSTRUCT, findCatalogModel } from '../../src/core/models/catalog';
import { ensureModel, findInstalledModel, userModelsDir } from '../../src/core/models/modelStore';

/** A file server on loopback with Range support and switches to misbehave. */
interface Behaviour {
  /** Destroy the socket after sending this many body bytes (once, then reset). */
  cutAfter?: number;
  /** Flip one byte of the body. */
  corrupt?: boolean;
  /** Answer 200 with the whole file even to Range requests. */
  ignoreRange?: boolean;
  status?: number;
}

const FILE = randomBytes(3 * 1024 * 1024 + 123);
const SHA = createHash('sha256').update(FILE).digest('hex');

let server: http.Server;
let base = '';
let behaviour: Behaviour = {};
const requests: { range?: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ range: req.headers.range });
    if (behaviour.status) {
      res.writeHead(behaviour.status).end('nope');
      return;
    }
    let body = FILE;
    if (behaviour.corrupt) {
      body = Buffer.from(FILE);
      body[1000] ^= 0xff;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !behaviour.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
    } else {
      res.writeHead(200, { 'content-length': body.length });
    }
    const slice = body.subarray(start);
    const cut = behaviour.cutAfter;
    if (cut !== undefined) {
      behaviour = { ...behaviour, cutAfter: undefined };
      res.write(slice.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'download-test-'));
  behaviour = {};
  requests.length = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('downloadFile', () => {
  it('downloads, verifies the SHA-256 and renames into place', async () => {
    const dest = path.join(dir, 'sub', 'model.bin');
    const seen: number[] = [];
    const r = await downloadFile({ url: `${base}/model.bin`, dest, sha256: SHA, onProgress: (p) => seen.push(p.received) });
    expect(r).toMatchObject({ path: dest, bytes: FILE.length, sha256: SHA, resumedFrom: 0, alreadyPresent: false });
    expect(fs.readFileSync(dest).equals(FILE)).toBe(true);
    expect(fs.existsSync(dest + '.part')).toBe(false);
    expect(fs.existsSync(dest + '.part.lock')).toBe(false);
    expect(seen[seen.length - 1]).toBe(FILE.length);
  });

  it('keeps .part when the connection drops, and the next call resumes with a Range request', async () => {
    const dest = path.join(dir, 'model.bin');
    behaviour = { cutAfter: 1024 * 1024 };
    const err = await downloadFile({ url: `${base}/m`, dest, sha256: SHA, retries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('NETWORK');
    const partial = fs.statSync(dest + '.part').size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(FILE.length);
    expect(fs.existsSync(dest)).toBe(false);

    const r = await downloadFile({ url: `${base}/m`, dest, sha256: SHA });
    expect(r.resumedFrom).toBe(partial);
    expect(requests[requests.length - 1].range).toBe(`bytes=${partial}-`);
    expect(fs.readFileSync(dest).equals(FILE)).toBe(true);
  });

  it('resumes by itself within one call after a dropped connection', async () => {
    const dest = path.join(dir, 'model.bin');
    behaviour = { cutAfter: 512 * 1024 };
    const r = await downloadFile({ url: `${base}/m`, dest, sha256: SHA, retries: 2 });
    expect(requests.length).toBe(2);
    expect(requests[1].range).toMatch(/^bytes=\d+-$/);
    expect(fs.readFileSync(dest).equals(FILE)).toBe(true);
    expect(r.sha256).toBe(SHA);
  });

  it('starts over when the server ignores Range', async () => {
    const dest = path.join(dir, 'model.bin');
    fs.writeFileSync(dest + '.part', FILE.subarray(0, 1000));
    behaviour = { ignoreRange: true };
    await downloadFile({ url: `${base}/m`, dest, sha256: SHA });
    expect(fs.readFileSync(dest).equals(FILE)).toBe(true);
  });

  it('finishes a .part that already holds the whole file (416)', async () => {
    const dest = path.join(dir, 'model.bin');
    fs.writeFileSync(dest + '.part', FILE);
    const r = await downloadFile({ url: `${base}/m`, dest, sha256: SHA });
    expect(r.resumedFrom).toBe(FILE.length);
    expect(fs.readFileSync(dest).equals(FILE)).toBe(true);
  });

  it('throws CHECKSUM on corrupt bytes, removes .part and leaves no file at dest', async () => {
    const dest = path.join(dir, 'model.bin');
    behaviour = { corrupt: true };
    const err = (await downloadFile({ url: `${base}/m`, dest, sha256: SHA }).catch((e: unknown) => e)) as DownloadError;
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe('CHECKSUM');
    expect(err.message).toContain(`expected ${SHA}`);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.existsSync(dest + '.part')).toBe(false);
  });

  it('reports HTTP errors without retrying 4xx and keeps what it had', async () => {
    const dest = path.join(dir, 'model.bin');
    fs.writeFileSync(dest + '.part', FILE.subarray(0, 10));
    behaviour = { status: 404 };
    await expect(downloadFile({ url: `${base}/missing`, dest, sha256: SHA })).rejects.toMatchObject({ code: 'HTTP', status: 404 });
    expect(requests.length).toBe(1);
    expect(fs.statSync(dest + '.part').size).toBe(10);
  });

  it('keeps .part on abort', async () => {
    const dest = path.join(dir, 'model.bin');
    behaviour = { cutAfter: 256 * 1024 };
    const ac = new AbortController();
    const p = downloadFile({ url: `${base}/m`, dest, sha256: SHA, signal: ac.signal, onProgress: (pr) => pr.received > 0 && ac.abort() });
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.statSync(dest + '.part').size).toBeGreaterThan(0);
  });

  it('reports a file already in place, and refuses one whose checksum is wrong', async () => {
    const dest = path.join(dir, 'model.bin');
    fs.writeFileSync(dest, FILE);
    const r = await downloadFile({ url: `${base}/m`, dest, sha256: SHA });
    expect(r.alreadyPresent).toBe(true);
    expect(requests.length).toBe(0);
    fs.writeFileSync(dest, 'other');
    await expect(downloadFile({ url: `${base}/m`, dest, sha256: SHA })).rejects.toMatchObject({ code: 'CHECKSUM' });
  });

  it('refuses to run beside another live download of the same file', async () => {
    const dest = path.join(dir, 'model.bin');
    fs.writeFileSync(dest + '.part.lock', JSON.stringify({ pid: process.pid, host: os.hostname() }));
    await expect(downloadFile({ url: `${base}/m`, dest, sha256: SHA })).rejects.toMatchObject({ code: 'BUSY' });
    // A lock left by a process that is gone is taken over.
    fs.writeFileSync(dest + '.part.lock', JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname() }));
    await downloadFile({ url: `${base}/m`, dest, sha256: SHA });
    expect(await hashFile(dest)).toBe(SHA);
  });
});

describe('model catalog and store', () => {
  it('pins every file by SHA-256 and https URL', () => {
    expect(MODEL_CATALOG.map((m) => m.id)).toEqual(['qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-0.5b-instruct', 'smollm2-135m-instruct', 'all-minilm-l6-v2']);
    for (const m of MODEL_CATALOG) {
      expect(m.files.some((f) => f.name === m.main)).toBe(true);
      for (const f of m.files) {
        expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(f.url).toMatch(/^https:\/\//);
      }
    }
    expect(findCatalogModel('All-MiniLM-L6-v2')).toBe(ALL_MINILM_L6_V2);
    expect(findCatalogModel('nope')).toBeUndefined();
  });

  it('finds the user models folder from the environment', () => {
    expect(userModelsDir({ PROJECT_MEMORY_MODELS_DIR: '/x/models' })).toBe(path.resolve('/x/models'));
    if (process.platform !== 'win32') expect(userModelsDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/project-memory/models');
  });

  it('downloads a missing model on first use and finds it installed after', async () => {
    const model = {
      ...SMOLLM2_135M_INSTRUCT,
      files: [{ name: 'tiny.gguf', url: `${base}/tiny.gguf`, sha256: SHA }],
      main: 'tiny.gguf',
    };
    expect(findInstalledModel(model, [dir])).toBeUndefined();
    const messages: string[] = [];
    const p = await ensureModel(model, { searchDirs: [path.join(dir, 'none')], downloadDir: dir, onProgress: (m) => messages.push(m) });
    expect(p).toBe(path.join(dir, model.dir, 'tiny.gguf'));
    expect(messages[0]).toContain('Downloading smollm2-135m-instruct');
    expect(messages.some((m) => m.includes('100%'))).toBe(true);
    expect(findInstalledModel(model, [dir])).toBe(p);
    const again = await ensureModel(model, { searchDirs: [dir], downloadDir: dir });
    expect(again).toBe(p);
    expect(requests.length).toBe(1);
  });
});
