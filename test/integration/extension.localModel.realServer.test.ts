// The built-in local model end to end through the vscode shim: the real dist/server.js as a child
// process of the extension, running Qwen2.5-Coder-0.5B from the test models folder (no download).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testing } from '../support/vscodeShim';
import { startHarness, type Harness } from '../support/extensionHarness';
import { QWEN25_CODER_0_5B_INSTRUCT, TRAINED_MANAGER } from '../../src/core/models/catalog';
import { REPO_ROOT } from './localModelsSetup';
import { processAlive as alive } from '../../src/core/util/processAlive';

/** scripts/setup-models.sh installs the 0.5B model here (MODELS_DIR shares one copy between checkouts). */
const MODELS_DIR = path.resolve(process.env.MODELS_DIR ?? path.join(REPO_ROOT, '.cache', 'models'));
const MODEL_FILE = path.join(MODELS_DIR, QWEN25_CODER_0_5B_INSTRUCT.dir, QWEN25_CODER_0_5B_INSTRUCT.main);

describe('built-in local model with the real server and Qwen2.5-Coder-0.5B', { timeout: 240_000 }, () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('reports a taken port, then starts on a free one, answers @memory through it and stops on deactivate', async () => {
    if (!fs.existsSync(MODEL_FILE)) throw new Error(`${MODEL_FILE} is missing: run scripts/setup-models.sh (MODELS_DIR=${MODELS_DIR}).`);
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'server.js'))) execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    h = await startHarness({
      endpoint: false,
      config: { 'projectMemory.localModel.model': QWEN25_CODER_0_5B_INSTRUCT.id, 'projectMemory.localModel.modelsDir': MODELS_DIR, 'projectMemory.localModel.port': port },
    });
    try {
      testing.answer(() => undefined);
      await h.command('projectMemory.useBuiltInModel');
    } finally {
      blocker.close();
    }
    const errors = testing.state.ui.filter((u) => u.kind === 'error').map((u) => String(u.message));
    expect(errors).toEqual([expect.stringContaining(`Port ${port} is already in use by another program`)]);
    expect(h.api.localModel.state.kind).toBe('failed');

    testing.setConfig('projectMemory.localModel.port', 0);
    const ep = await h.command<{ url: string; model: string }>('projectMemory.useBuiltInModel');
    expect(ep).toMatchObject({ model: 'qwen2.5-coder-0.5b-instruct-q4_k_m', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/) });
    expect(testing.state.logs.some((l) => l.includes('no download needed'))).toBe(true);
    expect(fs.existsSync(path.join(h.root, 'globalStorage', 'models'))).toBe(false);
    const health = await fetch(new URL(ep.url).origin + '/health');
    expect(health.status).toBe(200);

    await h.command('projectMemory.addMemory', 'We deploy the web app with GitHub Actions on every git tag.');
    const { result, stream } = await h.chat('How do we deploy the web app?');
    // No endpoint and no VS Code chat model: only the local server can have answered. The answer agent
    // selected the memory, so it is cited. (The 0.5B model often writes only the selection line.)
    expect(result.errorDetails).toBeUndefined();
    const memoryId = (result.metadata as { memoryIds: string[] }).memoryIds[0];
    expect(memoryId).toBeTruthy();
    expect(stream.text).toContain('**Memories used:**');
    expect(stream.text).toContain(`[We deploy the web app with GitHub Actions on every git tag.](command:projectMemory.revealMemory?${encodeURIComponent(JSON.stringify([memoryId]))})`);

    const pid = (h.api.localModel.state as { pid: number }).pid;
    expect(alive(pid)).toBe(true);
    await h.dispose();
    h = undefined;
    expect(alive(pid)).toBe(false);
  });

  it('with localModel.trainedManager, serves the trained adapter and runs the Memory Manager on it', async () => {
    if (!fs.existsSync(MODEL_FILE)) throw new Error(`${MODEL_FILE} is missing: run scripts/setup-models.sh (MODELS_DIR=${MODELS_DIR}).`);
    h = await startHarness({
      endpoint: false,
      config: { 'projectMemory.localModel.model': QWEN25_CODER_0_5B_INSTRUCT.id, 'projectMemory.localModel.modelsDir': MODELS_DIR, 'projectMemory.localModel.trainedManager': true },
    });
    testing.answer(() => undefined);
    const ep = await h.command<{ url: string; model: string }>('projectMemory.useBuiltInModel');
    const listed = (await (await fetch(`${ep.url}/models`)).json()) as { data: { id: string }[] };
    expect(listed.data.map((m) => m.id)).toEqual([ep.model, TRAINED_MANAGER.id]);
    expect(await h.api.localModel.endpoint()).toMatchObject({ model: ep.model, managerModel: TRAINED_MANAGER.id });
    const models = await h.api.pm.getModels(undefined, false);
    expect(models.manager.name).toBe(TRAINED_MANAGER.id);
    expect(models.answerer.name).toBe(ep.model);
  });
});
