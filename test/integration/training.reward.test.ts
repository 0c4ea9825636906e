import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { OpenAIChatModel } from '../../src/core/llm/openaiChatModel';
import { loadLocomo } from '../../src/core/eval/locomo';
import { loadTrainingData, readJsonl, type AnswerExample, type ManagerExample } from '../../src/core/training/dataset';
import { buildLocomoTrainingData } from '../../src/core/training/locomoData';
import { RewardEngine, RewardRequestError } from '../../src/core/training/reward';
import { startRewardServer, type RewardServer } from '../../src/core/training/rewardServer';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';
import { scriptedAnswer } from '../../training/smoke/scriptedAnswerer';

const repoRoot = path.resolve(__dirname, '../..');
const CONVERSATION = path.join(repoRoot, 'training/smoke/conversation.json');
const DEV_SPLIT = path.resolve(repoRoot, '../shared/datasets/locomo/locomo-dev.json');

const add = (text: string) => JSON.stringify({ memory: [{ id: 'new', text, event: 'ADD' }] });

describe('Memory-R1 training data and rewards', () => {
  let tmp: string;
  let dataDir: string;
  let answerModel: FakeOpenAIServer;
  let engine: RewardEngine;
  let manager: ManagerExample[];
  let answers: AnswerExample[];
  const embedder = new HashingEmbedder(384);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-training-'));
    dataDir = path.join(tmp, 'data');
    await buildLocomoTrainingData({ samples: loadLocomo(CONVERSATION), splits: { train: 'smoke-1' }, outDir: dataDir, embedder });
    manager = readJsonl<ManagerExample>(path.join(dataDir, 'train/manager.jsonl'));
    answers = readJsonl<AnswerExample>(path.join(dataDir, 'train/answer.jsonl'));
    answerModel = await startFakeOpenAIServer({ reply: scriptedAnswer });
    engine = new RewardEngine({
      embedder,
      data: loadTrainingData(dataDir),
      answerer: new OpenAIChatModel({ baseURL: answerModel.url, model: 'frozen-answerer', maxRetries: 0, timeoutMs: 5000 }),
    });
  });

  afterAll(async () => {
    await engine?.close();
    await answerModel?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('builds one manager example per linked turn with the bank of the preceding turns', () => {
    const meta = loadTrainingData(dataDir).meta;
    expect(meta.mode).toBe('turns');
    expect(meta.splits.train).toMatchObject({ sample: 'smoke-1', managerExamples: 8, answerExamples: 8, questions: 8, linkedQuestions: 8, unlinkedQuestions: 0 });
    const sport = manager.find((m) => m.diaId === 'D2:1')!;
    expect(sport.fact).toBe('Alice: My favourite sport is climbing.');
    expect(sport.questions).toEqual([{ question: "What is Alice's favourite sport?", answer: 'climbing', category: 4 }]);
    const bank = JSON.parse(fs.readFileSync(path.join(dataDir, 'train', sport.bank), 'utf8'));
    expect(bank.memories.map((m: { text: string }) => m.text)).toHaveLength(4);
    expect(sport.candidates.length).toBe(4);
    expect(sport.prompt[1].content).toContain(JSON.stringify([sport.fact]));
    // The favourite-book question has evidence in D1:2 and D2:2; it belongs to the later turn.
    expect(manager.find((m) => m.diaId === 'D2:2')!.questions.map((q) => q.answer)).toEqual(['Dune']);
    expect(answers.every((a) => a.memories.length === 8 && a.prompt[1].content.includes(a.question))).toBe(true);
  });

  it('rewards a manager output by whether the frozen answer agent then answers exactly', async () => {
    const sport = manager.find((m) => m.diaId === 'D2:1')!;
    const [right, noop, garbage, mangled, right2] = await engine.rewardBatch([
      { kind: 'manager', id: sport.id, completion: add(sport.fact) },
      { kind: 'manager', id: sport.id, completion: JSON.stringify({ memory: [{ id: '0', text: sport.candidates[0].text, event: 'NONE' }] }) },
      { kind: 'manager', id: sport.id, completion: 'I think we should add it.' },
      { kind: 'manager', id: sport.id, completion: add('Alice: My favourite sport is climbing and chess.') },
      // The first rollout's ADD went to its own copy: the template bank is untouched.
      { kind: 'manager', id: sport.id, completion: '```json\n' + add(sport.fact) + '\n```' },
    ]);
    expect(right).toMatchObject({ reward: 1, valid: true, operations: [{ type: 'ADD', text: sport.fact }] });
    expect(right.answers).toEqual([{ question: "What is Alice's favourite sport?", gold: 'climbing', predicted: 'climbing', exactMatch: 1 }]);
    expect(noop).toMatchObject({ reward: 0, valid: true, operations: [{ type: 'NOOP' }] });
    expect(noop.answers![0].predicted).toBe('I do not know.');
    expect(garbage).toMatchObject({ reward: 0, valid: false, invalidReason: 'no JSON list of operations' });
    expect(mangled).toMatchObject({ reward: 0, valid: true });
    expect(mangled.answers![0].predicted).toBe('climbing and chess');
    expect(right2.reward).toBe(1);
  });

  it('gives 0 to output whose operations name no candidate and to deleting the evidence', async () => {
    const first = manager.find((m) => m.diaId === 'D1:1')!;
    const book = manager.find((m) => m.diaId === 'D2:2')!;
    const foodKey = book.candidates.find((c) => c.text.includes('ramen'))!.key;
    const [unknownId, deleteEvidence, keepEvidence] = await engine.rewardBatch([
      { kind: 'manager', id: first.id, completion: JSON.stringify({ memory: [{ id: '7', text: 'x', event: 'UPDATE' }] }) },
      {
        kind: 'manager',
        id: book.id,
        completion: JSON.stringify({ memory: [{ id: foodKey, text: '', event: 'DELETE' }, { id: 'new', text: 'Bob: My favourite book was something.', event: 'ADD' }] }),
      },
      { kind: 'manager', id: book.id, completion: add(book.fact) },
    ]);
    expect(unknownId).toMatchObject({ reward: 0, valid: false });
    expect(unknownId.invalidReason).toMatch(/not one of the candidate memories/);
    expect(deleteEvidence).toMatchObject({ reward: 0, valid: true });
    expect(keepEvidence.reward).toBe(1);
  });

  it('rewards the answer agent by exact match of the text after **Answer:**', async () => {
    const car = answers.find((a) => a.answer === 'a red Fiat')!;
    const rewards = await engine.rewardBatch([
      { kind: 'answer', id: car.id, completion: '**Selected memories:** 3\n**Answer:** A red Fiat.' },
      { kind: 'answer', id: car.id, completion: '**Selected memories:** 3\n**Answer:** a blue Fiat' },
      { kind: 'answer', id: car.id, completion: '' },
    ]);
    expect(rewards.map((r) => r.reward)).toEqual([1, 0, 0]);
    expect(rewards[2].valid).toBe(false);
  });

  it('refuses unknown examples and needs an answer model for manager rewards', async () => {
    await expect(engine.rewardBatch([{ kind: 'manager', id: 'nope', completion: '{}' }])).rejects.toThrow(RewardRequestError);
    const noAnswerer = new RewardEngine({ embedder, data: loadTrainingData(dataDir) });
    try {
      await expect(noAnswerer.rewardBatch([{ kind: 'manager', id: manager[0].id, completion: add('x') }])).rejects.toThrow(/answer model/);
      expect((await noAnswerer.rewardBatch([{ kind: 'answer', id: answers[0].id, completion: '**Answer:** teal' }]))[0].reward).toBe(1);
    } finally {
      await noAnswerer.close();
    }
    expect(() => new RewardEngine({ embedder: new HashingEmbedder(64), data: loadTrainingData(dataDir) })).toThrow(/embedder/);
  });

  describe('reward server', () => {
    let server: RewardServer;
    beforeAll(async () => {
      server = await startRewardServer(engine, { counts: { manager: manager.length, answer: answers.length } });
    });
    afterAll(async () => server?.close());

    const post = async (body: string) => {
      const res = await fetch(`${server.url}/reward`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, json: (await res.json()) as { rewards?: number[]; error?: string; results?: unknown[] } };
    };

    it('scores a batch of manager and answer completions in order', async () => {
      const items = manager.flatMap((m) => [
        { kind: 'manager', id: m.id, completion: add(m.fact) },
        { kind: 'manager', id: m.id, completion: 'no idea' },
      ]);
      items.push({ kind: 'answer', id: answers[0].id, completion: `**Answer:** ${answers[0].answer}` });
      const { status, json } = await post(JSON.stringify({ items }));
      expect(status).toBe(200);
      expect(json.rewards).toEqual([...manager.flatMap(() => [1, 0]), 1]);
      expect(json.results).toHaveLength(items.length);
      const health = (await (await fetch(`${server.url}/health`)).json()) as { ok: boolean; served: number; manager: number };
      expect(health).toMatchObject({ ok: true, manager: 8, served: items.length });
    });

    it('answers bad requests with 400 and the reason', async () => {
      expect(await post('{not json')).toMatchObject({ status: 400 });
      expect(await post('{"items": 3}')).toMatchObject({ status: 400, json: { error: 'request body must be {"items": [...]}' } });
      const unknown = await post(JSON.stringify({ items: [{ kind: 'manager', id: 'missing', completion: '' }] }));
      expect(unknown.status).toBe(400);
      expect(unknown.json.error).toMatch(/no manager example "missing"/);
      expect((await fetch(`${server.url}/reward`)).status).toBe(405);
    });

    it('fails the batch with 502 when the answer model is down, instead of rewarding 0', async () => {
      answerModel.setFault(() => ({ status: 500 }));
      try {
        const res = await post(JSON.stringify({ items: [{ kind: 'manager', id: manager[0].id, completion: add(manager[0].fact) }] }));
        expect(res.status).toBe(502);
        expect(res.json.error).toMatch(/answer model/);
      } finally {
        answerModel.setFault(undefined);
      }
    });
  });

  it.skipIf(!fs.existsSync(DEV_SPLIT))('builds the paper\'s splits from LoCoMo: conv-26 (152 questions) for training, conv-30 (81) for validation', async () => {
    const out = path.join(tmp, 'locomo');
    const meta = await buildLocomoTrainingData({ samples: loadLocomo(DEV_SPLIT), splits: { train: 'conv-26', val: 'conv-30' }, outDir: out, embedder });
    expect(meta.splits.train).toMatchObject({ sample: 'conv-26', questions: 152, answerExamples: 152 });
    expect(meta.splits.val).toMatchObject({ sample: 'conv-30', questions: 81, answerExamples: 81 });
    expect(meta.splits.train.linkedQuestions + meta.splits.train.unlinkedQuestions).toBe(152);
    const rows = readJsonl<AnswerExample>(path.join(out, 'train/answer.jsonl'));
    expect(rows.every((r) => r.memories.length === 60)).toBe(true);
    const mgr = readJsonl<ManagerExample>(path.join(out, 'val/manager.jsonl'));
    expect(mgr.reduce((n, r) => n + r.questions.length, 0)).toBe(81);
  }, 60_000);
});
