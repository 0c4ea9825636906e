// The trained Memory Manager adapter served beside its base model: `memory-r1 serve --lora`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIChatModel } from '../../src/core/llm/openaiChatModel';
import { decisionMessages, decisionSchema } from '../../src/core/agents/prompts';
import { TRAINED_MANAGER } from '../../src/core/models/catalog';
import { startModelServer, type ModelServer } from '../../src/server/llamaServer';
import { resolveAdapter } from '../../src/server/serveCommand';
import { ensureTestModels, REPO_ROOT, SETUP_TIMEOUT_MS } from './localModelsSetup';

describe('a LoRA adapter served beside the base model', { timeout: 180_000 }, () => {
  let server: ModelServer;
  let models: ReturnType<typeof ensureTestModels>;

  beforeAll(async () => {
    models = ensureTestModels();
    server = await startModelServer({ modelPath: models.qwenPath, port: 0, contextSize: 2048, sequences: 1, loras: [resolveAdapter(TRAINED_MANAGER.id)] });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await server?.close();
  });

  it('finds the shipped adapter by its catalog id and checks it', () => {
    const a = resolveAdapter(TRAINED_MANAGER.id);
    expect(a).toEqual({ path: path.join(REPO_ROOT, TRAINED_MANAGER.file), name: TRAINED_MANAGER.id });
    expect(() => resolveAdapter('/nowhere/adapter.gguf')).toThrow(/No LoRA adapter at \/nowhere\/adapter.gguf/);
    expect(resolveAdapter(`${a.path}=my-manager`)).toEqual({ path: a.path, name: 'my-manager' });
  });

  it('lists both models and answers a manager decision under the schema with each', async () => {
    expect(server.adapters).toEqual([TRAINED_MANAGER.id]);
    const listed = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string }[] };
    expect(listed.data.map((m) => m.id)).toEqual([server.model, TRAINED_MANAGER.id]);
    const candidates = [{ key: '0', text: 'The project uses PostgreSQL 15.' }];
    for (const model of [server.model, TRAINED_MANAGER.id]) {
      const chat = new OpenAIChatModel({ baseURL: server.url, model, maxRetries: 0, timeoutMs: 120_000 });
      const r = await chat.complete({ messages: decisionMessages('The project upgraded PostgreSQL from 15 to 16.', candidates), json: { schema: decisionSchema(candidates) }, temperature: 0, maxTokens: 40 });
      expect(r.model).toBe(model);
      const out = JSON.parse(r.text) as { decision: string; id: string };
      expect(['REPLACES', 'NEW', 'SAME']).toContain(out.decision);
      expect(['0', 'none']).toContain(out.id);
    }
  });

  it('names both models when a request asks for another', async () => {
    const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'other', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain(`"${TRAINED_MANAGER.id}"`);
  });

  it('refuses an adapter for another model with a clear error', async () => {
    await expect(startModelServer({ modelPath: models.chatModelPath, port: 0, contextSize: 512, sequences: 1, loras: [resolveAdapter(TRAINED_MANAGER.id)] })).rejects.toThrow(/does not fit SmolLM2-135M-Instruct/);
  });

  it('refuses a damaged copy of a catalog adapter', () => {
    // A copy found under another package root would be checked the same way; here the file itself is passed.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-lora-'));
    const broken = path.join(tmp, 'broken.lora.gguf');
    fs.writeFileSync(broken, 'not a gguf');
    return expect(startModelServer({ modelPath: models.qwenPath, port: 0, contextSize: 512, sequences: 1, loras: [{ path: broken }] }))
      .rejects.toThrow(/does not fit qwen2.5-coder-0.5b-instruct-q4_k_m.gguf/)
      .finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
  });
});
