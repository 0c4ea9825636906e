import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { MemoryEngine } from '../../src/core/engine';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { createModels } from '../../src/core/config';
import { readJsonl } from '../../src/core/training/dataset';
import { exportTrainingData, type AnswerTrajectoryRow, type ManagerTrajectoryRow } from '../../src/core/training/trajectories';
import { factIn, roleOf, startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

describe('export-training: trajectories and feedback as JSONL', () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let bank: MemoryBank;
  let engine: MemoryEngine;

  beforeEach(async () => {
    server = await startFakeOpenAIServer({
      reply: (req) =>
        roleOf(req) === 'manager'
          ? JSON.stringify({ memory: [{ id: 'new', text: factIn(req), event: 'ADD' }] })
          : '**Selected memories:** 1\n**Answer:** pnpm',
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-export-'));
    bank = await MemoryBank.open(path.join(dir, 'bank'), { embedder: new HashingEmbedder(128), watchIntervalMs: 0 });
    engine = new MemoryEngine({ bank, ...createModels({ baseURL: server.url, models: { extractor: 'x', manager: 'mgr', answer: 'ans' }, maxRetries: 0 }), options: { managerProtocol: 'paper' } });
  });

  afterEach(async () => {
    await bank.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the manager prompt, output and operations, and the answers with their feedback label', async () => {
    await bank.addManual('The project lints with ESLint.');
    await engine.remember('The project uses pnpm for installs.', { kind: 'manual' });
    const liked = await engine.answer('Which package manager?');
    const plain = await engine.answer('What installs packages?');
    await bank.side.recordFeedback({ answerId: liked.answerId, kind: 'unhelpful' });
    await bank.side.recordFeedback({ answerId: liked.answerId, kind: 'helpful' });
    fs.appendFileSync(path.join(bank.folder, 'trajectories.jsonl'), JSON.stringify({ kind: 'mystery' }) + '\n');

    const res = exportTrainingData(bank, path.join(dir, 'out'));
    expect(res).toMatchObject({ manager: 1, answer: 2, withFeedback: 1, skipped: 1 });
    const [m] = readJsonl<ManagerTrajectoryRow>(res.files.manager);
    expect(m.fact).toBe('The project uses pnpm for installs.');
    expect(m.prompt[0].content).toContain('smart memory manager');
    expect(JSON.parse(m.output).memory[0].event).toBe('ADD');
    expect(m.operations).toEqual([expect.objectContaining({ type: 'ADD', text: 'The project uses pnpm for installs.' })]);
    const answers = readJsonl<AnswerTrajectoryRow>(res.files.answer);
    const a = answers.find((x) => x.answerId === liked.answerId)!;
    expect(a).toMatchObject({ question: 'Which package manager?', answer: 'pnpm', feedback: 'helpful' });
    expect(a.memories[0].text).toBe('The project uses pnpm for installs.');
    expect(a.distilled).toEqual([liked.citations[0].id]);
    expect(a.prompt[1].content).toContain('[1]');
    expect(answers.find((x) => x.answerId === plain.answerId)!.feedback).toBeUndefined();
  });
});
