import { afterEach, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { MemoryEngine, type EngineOptions } from '../../src/core/engine';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { createModels } from '../../src/core/config';
import { roleOf, startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from './fakeOpenAIServer';

/** A real bank on disk and the fake OpenAI server answering the extractor and manager from a script. */
export interface ScriptedManager {
  server: FakeOpenAIServer;
  bank: MemoryBank;
  dir: string;
  /** The next model replies, in call order (the answer role has its own reply); an extra call throws. */
  replies: ((req: FakeChatRequest) => string)[];
  engine(options?: Partial<EngineOptions>): MemoryEngine;
  chatCalls(): FakeOpenAIServer['requests'];
}

/** Registers beforeEach/afterEach in the calling describe: a fresh bank, server and script per test. */
export function useScriptedManager(dirPrefix: string, answer: (req: FakeChatRequest) => string): ScriptedManager {
  const t = { replies: [] } as unknown as ScriptedManager;
  beforeEach(async () => {
    t.replies = [];
    t.server = await startFakeOpenAIServer({
      reply: (req) => {
        if (roleOf(req) === 'answer') return answer(req);
        const next = t.replies.shift();
        if (!next) throw new Error('unexpected model call');
        return next(req);
      },
    });
    t.dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
    t.bank = await MemoryBank.open(t.dir, { embedder: new HashingEmbedder(256), watchIntervalMs: 0 });
  });
  afterEach(async () => {
    await t.bank.close();
    await t.server.close();
    fs.rmSync(t.dir, { recursive: true, force: true });
  });
  t.engine = (options = {}) =>
    new MemoryEngine({ bank: t.bank, ...createModels({ baseURL: t.server.url, models: { extractor: 'x', manager: 'mgr', answer: 'ans' }, maxRetries: 0, timeoutMs: 5000 }), options });
  // The kind of a remembered fact is asked in a call of its own, answered by the fake server.
  t.chatCalls = () => t.server.requests.filter((r) => r.path.endsWith('/chat/completions') && roleOf(r.body) !== 'kind');
  return t;
}
