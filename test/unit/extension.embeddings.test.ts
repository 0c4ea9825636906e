import { afterEach, describe, expect, it } from 'vitest';
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

  it('"hashing" (the default) needs no model', async () => {
    h = await startHarness();
    const bank = await h.api.pm.getBank();
    expect(bank.embedder.id).toMatch(/^hashing-/);
  });
});
