// The built-in local model through the vscode shim: the first-use offer, the command's download
// (progress, cancel, hash, failure), the server child's supervision (a real child process that
// speaks dist/server.js's protocol), the status bar, and the child's end on deactivate.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { testing, CancellationTokenSource } from '../support/vscodeShim';
import { startHarness, waitFor, type Harness } from '../support/extensionHarness';
import type { CatalogModel } from '../../src/core/models/catalog';
import { processAlive as alive } from '../../src/core/util/processAlive';

const CHILD = path.resolve(__dirname, '../support/fakeModelServerChild.cjs');
const FILE = 'tiny-q4.gguf';

interface FileServer {
  url: string;
  requests: { range?: string }[];
  close(): Promise<void>;
}

/** Serves `body` at /model with Range support; `slowAfter` bytes, then 64 KiB every 20 ms. */
async function serveFile(body: Buffer, opts: { status?: number; slowAfter?: number } = {}): Promise<FileServer> {
  const requests: { range?: string }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ range: req.headers.range });
    if (opts.status) return res.writeHead(opts.status).end('gone');
    const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const headers: http.OutgoingHttpHeaders = { 'content-length': body.length - start, 'accept-ranges': 'bytes' };
    if (start) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(start ? 206 : 200, headers);
    let at = start;
    const slowAfter = opts.slowAfter ?? body.length;
    const pump = () => {
      if (res.destroyed) return;
      if (at >= body.length) return void res.end();
      const n = at < slowAfter ? slowAfter - at : 64 * 1024;
      res.write(body.subarray(at, at + n));
      at += n;
      setTimeout(pump, at <= slowAfter ? 0 : 20);
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/model`,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function catalog(url: string, body: Buffer): CatalogModel {
  return {
    id: 'tiny-test-model',
    kind: 'chat',
    description: 'test',
    dir: 'tiny-test-model',
    main: FILE,
    files: [{ name: FILE, url, sha256: createHash('sha256').update(body).digest('hex'), size: body.length }],
  };
}

const statusText = () => testing.state.statusBarItems.filter((i) => i.visible).map((i) => String(i.text)).join(' | ');
const messages = (kind: string) => testing.state.ui.filter((u) => u.kind === kind).map((u) => String(u.message));

describe('built-in local model', () => {
  let h: Harness | undefined;
  let files: FileServer | undefined;
  const body = randomBytes(3 * 1024 * 1024 + 17);

  afterEach(async () => {
    await h?.dispose();
    await files?.close();
    h = undefined;
    files = undefined;
  });

  it('is offered on first use when no endpoint and no chat model exist; declining leaves the button in the error', async () => {
    files = await serveFile(body);
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD } });
    await h.command('projectMemory.addMemory', 'We deploy with GitHub Actions on every tag.');
    testing.answer(() => undefined); // the modal offer: Cancel
    const { result, stream } = await h.chat('How do we deploy?');
    const offer = testing.state.ui.find((u) => u.kind === 'info' && /needs a language model/.test(String(u.message)));
    expect(offer, JSON.stringify(testing.state.ui)).toBeTruthy();
    expect(offer!.items).toEqual(['Use Built-in Local Model', 'Configure Endpoint']);
    expect((offer!.options as { modal?: boolean; detail?: string }).modal).toBe(true);
    expect((offer!.options as { detail: string }).detail).toContain('tiny-test-model');
    expect(result.errorDetails?.message).toMatch(/No language model is available/);
    expect(stream.parts.filter((p) => p.kind === 'button').map((p) => (p.value as { command: string }).command)).toContain('projectMemory.useBuiltInModel');
    // Declined once: the next question does not ask again, the error still carries the button.
    const before = testing.state.ui.length;
    const again = await h.chat('How do we deploy?');
    expect(testing.state.ui.slice(before).filter((u) => /needs a language model/.test(String(u.message)))).toHaveLength(0);
    expect(again.stream.parts.some((p) => p.kind === 'button' && (p.value as { command: string }).command === 'projectMemory.useBuiltInModel')).toBe(true);
    expect(files.requests).toHaveLength(0);
  });

  it('is not offered when VS Code has a chat model', async () => {
    h = await startHarness({ endpoint: false, localModel: { serverEntry: CHILD } });
    testing.registerChatModel({
      vendor: 'test-vendor',
      id: 'lm-1',
      name: 'lm-1',
      family: 'lm',
      version: '1',
      maxInputTokens: 8000,
      async sendRequest() {
        return { stream: (async function* () { yield new vscode.LanguageModelTextPart('**Selected memories:** none\n**Answer:** I do not know.'); })() };
      },
      async countTokens(t: string) {
        return Math.ceil(t.length / 4);
      },
    });
    const { result } = await h.chat('How do we deploy?');
    expect(result.errorDetails).toBeUndefined();
    expect(testing.state.ui.filter((u) => /needs a language model/.test(String(u.message)))).toHaveLength(0);
  });

  it('accepting the offer downloads the model with progress into global storage, starts the server and sends the question to it', async () => {
    files = await serveFile(body);
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD } });
    testing.answer(() => 'Use Built-in Local Model');
    // The fake server lists a model but cannot answer: the question fails *at* the local server, which proves the wiring.
    const { result } = await h.chat('How do we deploy?');
    const dest = path.join(h.root, 'globalStorage', 'models', 'tiny-test-model', FILE);
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(fs.existsSync(dest + '.part')).toBe(false);
    const dl = testing.state.progress.find((p) => /downloading tiny-test-model/.test(p.options.title ?? ''))!;
    expect(dl.options.cancellable).toBe(true);
    expect(dl.reports.at(-1)!.message).toMatch(/^3 of 3 MB$/);
    expect(dl.reports.reduce((n, r) => n + (r.increment ?? 0), 0)).toBe(100);
    const state = h.api.localModel.state;
    expect(state.kind).toBe('ready');
    const url = state.kind === 'ready' ? state.url : '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(result.errorDetails?.message ?? '').toContain(url.replace(/\/v1$/, ''));
    expect(vscode.workspace.getConfiguration('projectMemory').get('localModel.enabled')).toBe(true);
    expect(statusText()).toContain('$(server-process) Local model');
    expect(messages('info').some((m) => m.includes('now uses the built-in local model fake-local-model'))).toBe(true);
    // The language model provider offers the local server's model to every chat.
    const provider = testing.state.lmProviders.get('project-memory') as vscode.LanguageModelChatProvider;
    const models = await provider.provideLanguageModelChatInformation({ silent: true }, new CancellationTokenSource().token as never);
    expect(models!.map((m) => [m.id, m.detail])).toEqual([['fake-local-model', url]]);
    await expect(h.api.pm.endpointIfAllowed(false)).resolves.toMatchObject({ url, builtInModel: 'fake-local-model' });
  });

  it('uses a model already in the models folder setting without downloading it, after checking its hash', async () => {
    files = await serveFile(body);
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-models-'));
    fs.mkdirSync(path.join(cache, 'tiny-test-model'));
    fs.writeFileSync(path.join(cache, 'tiny-test-model', FILE), body);
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD }, config: { 'projectMemory.localModel.modelsDir': cache } });
    const ep = await h.command<{ url: string; model: string }>('projectMemory.useBuiltInModel');
    expect(ep.model).toBe('fake-local-model');
    expect(files.requests).toHaveLength(0);
    expect(fs.existsSync(path.join(h.root, 'globalStorage', 'models', 'tiny-test-model'))).toBe(false);
    expect(testing.state.logs.some((l) => l.includes(`found at ${path.join(cache, 'tiny-test-model', FILE)}; no download needed`))).toBe(true);

    // A file of the right name but other bytes is refused.
    await h.dispose();
    fs.writeFileSync(path.join(cache, 'tiny-test-model', FILE), Buffer.concat([body.subarray(1), Buffer.from('x')]));
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD }, config: { 'projectMemory.localModel.modelsDir': cache } });
    testing.answer(() => undefined);
    await expect(h.command('projectMemory.useBuiltInModel')).resolves.toBeUndefined();
    expect(messages('error').join('\n')).toMatch(/is damaged or not the expected model \(SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}\)/);
    expect(h.api.localModel.state.kind).toBe('stopped');
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('refuses a download whose SHA-256 does not match, deletes it and says so', async () => {
    const other = Buffer.from(body);
    other[1000] ^= 0xff;
    files = await serveFile(other);
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD } });
    testing.answer(() => undefined);
    await expect(h.command('projectMemory.useBuiltInModel')).resolves.toBeUndefined();
    const err = testing.state.ui.find((u) => u.kind === 'error')!;
    expect(String(err.message)).toMatch(/did not match its published SHA-256 and was deleted/);
    expect(err.items).toEqual(['Retry', 'Show Log']);
    const folder = path.join(h.root, 'globalStorage', 'models', 'tiny-test-model');
    expect(fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => !f.endsWith('.lock')) : []).toEqual([]);
    expect(vscode.workspace.getConfiguration('projectMemory').get('localModel.enabled')).toBeUndefined();
    expect(h.api.localModel.state.kind).toBe('stopped');
  });

  it('a failed download says what failed and offers Retry', async () => {
    files = await serveFile(body, { status: 404 });
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD } });
    testing.answer(() => undefined);
    await h.command('projectMemory.useBuiltInModel');
    const err = testing.state.ui.find((u) => u.kind === 'error')!;
    expect(String(err.message)).toMatch(/Downloading the model failed: .*answered HTTP 404.* Retry resumes\./);
    expect(err.items).toContain('Retry');
  });

  it('Cancel stops the download and keeps the part; running the command again resumes it', async () => {
    files = await serveFile(body, { slowAfter: 1024 * 1024 });
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD } });
    testing.state.onProgressReport = (rec) => {
      if ((rec.reports.at(-1)?.increment ?? 0) > 0 && rec.options.cancellable) rec.cancel();
    };
    await expect(h.command('projectMemory.useBuiltInModel')).resolves.toBeUndefined();
    expect(messages('info').some((m) => /download of the local model was cancelled/.test(m))).toBe(true);
    expect(messages('error')).toEqual([]);
    const dest = path.join(h.root, 'globalStorage', 'models', 'tiny-test-model', FILE);
    expect(fs.existsSync(dest)).toBe(false);
    const kept = fs.statSync(dest + '.part').size;
    expect(kept).toBeGreaterThan(0);
    expect(h.api.localModel.state.kind).toBe('stopped');

    testing.state.onProgressReport = undefined;
    const ep = await h.command<{ model: string }>('projectMemory.useBuiltInModel');
    expect(ep.model).toBe('fake-local-model');
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(files.requests.at(-1)!.range).toMatch(/^bytes=\d+-$/);
  });

  it('restarts a crashed server once; a second crash leaves it failed with a clear error and a red status bar', async () => {
    files = await serveFile(body);
    h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD } });
    await h.command('projectMemory.useBuiltInModel');
    const first = h.api.localModel.state;
    if (first.kind !== 'ready') throw new Error(`not ready: ${first.kind}`);
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => { const s = h!.api.localModel.state; return s.kind === 'ready' && s.pid !== first.pid; }, 15_000, 'the restart');
    const second = h.api.localModel.state as { pid: number; url: string };
    expect(testing.state.logs.some((l) => /crashed \(signal SIGKILL\)/.test(l))).toBe(true);
    await expect(h.api.pm.endpointIfAllowed(false)).resolves.toMatchObject({ url: second.url });
    testing.answer(() => undefined);
    process.kill(second.pid, 'SIGKILL');
    await waitFor(() => h!.api.localModel.state.kind === 'failed', 15_000, 'the failure');
    await waitFor(() => messages('error').length > 0, 5_000, 'the error message');
    expect(messages('error')[0]).toMatch(/crashed twice and was not restarted again/);
    expect(statusText()).toContain('$(error) Local model: failed');
    // Its click opens a menu that starts it again, switches endpoint or shows the log.
    const item = testing.state.statusBarItems.find((i) => String(i.text).includes('Local model'))!;
    testing.answer(() => undefined);
    await h.command(String(item.command));
    const menu = testing.state.ui.filter((u) => u.kind === 'quickPick').at(-1)!;
    expect((menu.items as { label: string }[]).map((i) => i.label)).toEqual(['$(play) Start the built-in local model', '$(debug-stop) Stop and use another endpoint', '$(output) Show log']);
    expect(String((menu.options as { placeHolder: string }).placeHolder)).toMatch(/crashed twice/);
    await expect(h.api.pm.endpointIfAllowed(false)).resolves.toBeUndefined();
    // A question now says why, with the command that starts it again.
    const { result, stream } = await h.chat('How do we deploy?');
    expect(result.errorDetails?.message).toMatch(/crashed twice/);
    expect(stream.parts.some((p) => p.kind === 'button' && (p.value as { command: string }).command === 'projectMemory.useBuiltInModel')).toBe(true);
  });

  it('a server that keeps exiting while it starts fails after one restart', async () => {
    files = await serveFile(body);
    process.env.FAKE_CHILD_EXIT_ON_START = '3';
    try {
      h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD } });
      testing.answer(() => undefined);
      await h.command('projectMemory.useBuiltInModel');
    } finally {
      delete process.env.FAKE_CHILD_EXIT_ON_START;
    }
    const err = messages('error');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/crashed twice .*exited while starting \(exit code 3\): memory-r1 serve: failed to load/);
    expect(testing.state.logs.filter((l) => /\[local model\] memory-r1 serve: failed to load/.test(l))).toHaveLength(2);
  });

  it('a taken port is reported as such and not retried', async () => {
    files = await serveFile(body);
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      h = await startHarness({ endpoint: false, localModel: { catalog: catalog(files.url, body), serverEntry: CHILD }, config: { 'projectMemory.localModel.port': port } });
      testing.answer(() => undefined);
      await h.command('projectMemory.useBuiltInModel');
      expect(messages('error')).toEqual([`The built-in local model is unavailable: The built-in model server cannot listen: Port ${port} is already in use by another program. Set projectMemory.localModel.port to 0 (any free port) or to a free port.`]);
      expect(testing.state.logs.filter((l) => /\[local model\].*EADDRINUSE/.test(l))).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });

  it('starts again at activation when chosen before, and stops its child process on deactivate', async () => {
    files = await serveFile(body);
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-models-'));
    fs.mkdirSync(path.join(cache, 'tiny-test-model'));
    fs.writeFileSync(path.join(cache, 'tiny-test-model', FILE), body);
    h = await startHarness({
      endpoint: false,
      localModel: { catalog: catalog(files.url, body), serverEntry: CHILD },
      config: { 'projectMemory.localModel.modelsDir': cache, 'projectMemory.localModel.enabled': true },
    });
    await waitFor(() => h!.api.localModel.state.kind === 'ready', 15_000, 'the start at activation');
    const pid = (h.api.localModel.state as { pid: number }).pid;
    expect(alive(pid)).toBe(true);
    await h.dispose();
    h = undefined;
    expect(alive(pid)).toBe(false);
    fs.rmSync(cache, { recursive: true, force: true });
  });
});
