// The composition root: one plain configuration builds the bank and the engine.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createModels, openBank, openEngine } from '../../src/core/config';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-config-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const endpoint = { baseURL: 'http://127.0.0.1:9/v1', models: { extractor: 'small', manager: 'small', answer: 'big' } };

describe('openBank / openEngine', () => {
  it('builds a bank on disk from the configuration: folder, embedder, limits, actor, redaction', async () => {
    const folder = tmp();
    const bank = await openBank({ bank: { folder, watchIntervalMs: 0, limits: { maxMemoryChars: 40 } }, embedder: { provider: 'hashing', dimensions: 64 }, actor: 'ana' });
    try {
      expect(bank.embedder.dimensions).toBe(64);
      const secret = 'ghp_' + 'aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5';
      const rec = await bank.addManual(`token ${secret}`);
      expect(rec.actor).toBe('ana');
      expect(rec.after!.text).not.toContain(secret); // redaction on by default
      await expect(bank.addManual('x'.repeat(41))).rejects.toMatchObject({ code: 'LIMIT' });
      expect(fs.existsSync(path.join(folder, 'history.jsonl'))).toBe(true);
    } finally {
      await bank.close();
    }
  });

  it('refuses a shared bank URL that is not postgres, before anything is opened', async () => {
    await expect(openBank({ bank: { folder: tmp(), postgres: { url: 'mysql://db/x', bankId: 'a' } } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('builds the engine with its settings, and needs an endpoint or models', async () => {
    const engine = await openEngine({ bank: { folder: tmp(), watchIntervalMs: 0 }, endpoint, engine: { answerTopK: 7, managerProtocol: 'paper' } });
    try {
      expect(engine.options.answerTopK).toBe(7);
      expect(engine.options.managerProtocol).toBe('paper');
    } finally {
      await engine.bank.close();
    }
    await expect(openEngine({ bank: { folder: tmp() } })).rejects.toThrow(/No model endpoint/);
  });

  it('takes parts built elsewhere: a shared embedder and an open bank', async () => {
    const embedder = new HashingEmbedder(32);
    const bank = await openBank({ bank: { folder: tmp(), watchIntervalMs: 0 } }, { embedder });
    try {
      expect(bank.embedder).toBe(embedder);
      const engine = await openEngine({ bank: { folder: bank.folder }, endpoint }, { bank });
      expect(engine.bank).toBe(bank);
    } finally {
      await bank.close();
    }
  });

  it('gives roles that name the same model one client', () => {
    const m = createModels(endpoint);
    expect(m.extractor).toBe(m.manager);
    expect(m.answerer).not.toBe(m.manager);
  });
});
