import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testing } from '../support/vscodeShim';
import { startHarness, type Harness } from '../support/extensionHarness';
import { ensureTestModels } from '../integration/localModelsSetup';

describe('embeddings provider setting', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('"local" opens the bank with the in-process MiniLM embedder and searches with it', async () => {
    ensureTestModels();
    h = await startHarness();
    testing.setConfig('projectMemory.embeddings.provider', 'local');
    const bank = await h.api.pm.getBank();
    expect(bank.embedder.id).toMatch(/^onnx:all-MiniLM-L6-v2/);
    expect(bank.embedder.dimensions).toBe(384);
    await bank.addManual('The release pipeline publishes to npm on every tag.');
    await bank.addManual('Lunch is at noon on Fridays.');
    const hits = await bank.searchDense('how do we ship new versions?', 1);
    expect(hits[0].memory.text).toContain('release pipeline');
  }, 600_000);

  it('"hashing" needs no model', async () => {
    h = await startHarness();
    const bank = await h.api.pm.getBank();
    expect(bank.embedder.id).toMatch(/^hashing-/);
  });

  it('"auto" (the default) uses MiniLM when it is installed, and the hashing embedder, with nothing downloaded, when it is not', async () => {
    const saved = { models: process.env.MODELS_DIR, user: process.env.PROJECT_MEMORY_MODELS_DIR };
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-no-models-'));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-auto-embedder-'));
    try {
      delete process.env.MODELS_DIR;
      process.env.PROJECT_MEMORY_MODELS_DIR = empty;
      h = await startHarness({ config: { 'projectMemory.embeddings.provider': 'auto' } });
      expect((await h.api.pm.getBank()).embedder.id).toMatch(/^hashing-/);
      expect(fs.readdirSync(empty)).toEqual([]);
      await h.dispose();
      h = undefined;
      ensureTestModels();
      // Installed where the built-in model setup puts it (the extension's storage): picked up.
      const storage = path.join(root, 'globalStorage', 'models');
      fs.mkdirSync(storage, { recursive: true });
      fs.cpSync(path.resolve('.cache/models/all-MiniLM-L6-v2'), path.join(storage, 'all-MiniLM-L6-v2'), { recursive: true });
      h = await startHarness({ keepRoot: root, config: { 'projectMemory.embeddings.provider': 'auto' } });
      expect((await h.api.pm.getBank()).embedder.id).toMatch(/^onnx:all-MiniLM-L6-v2/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      if (saved.models === undefined) delete process.env.MODELS_DIR;
      else process.env.MODELS_DIR = saved.models;
      if (saved.user === undefined) delete process.env.PROJECT_MEMORY_MODELS_DIR;
      else process.env.PROJECT_MEMORY_MODELS_DIR = saved.user;
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, 600_000);
});
