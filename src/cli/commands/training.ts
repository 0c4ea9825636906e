import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand } from '../command';
import { UsageError, flag, intFlag, type ParsedArgs } from '../args';
import { COMMON_FLAGS_HELP, cliConfig, openCliBank, requestTimeoutMs } from '../context';
import { createEmbedder, createModels } from '../../core/config';
import { OpenAIChatModel } from '../../core/llm/openaiChatModel';
import type { ChatModel } from '../../core/llm/chatModel';
import { LocomoFormatError, loadLocomo } from '../../core/eval/locomo';
import { TrainingDataError, loadTrainingData, type LoadedTrainingData } from '../../core/training/dataset';
import { buildLocomoTrainingData } from '../../core/training/locomoData';
import { RewardEngine, type RewardItem, RewardRequestError } from '../../core/training/reward';
import { startRewardServer } from '../../core/training/rewardServer';
import { decisionExamples, loadDecisionCases } from '../../core/training/decisionReward';
import type { ManagerCase } from '../../core/eval/managerCases';
import { exportTrainingData } from '../../core/training/trajectories';

export const exportTrainingCommand: CliCommand = {
  name: 'export-training',
  summary: 'Write manager.jsonl and answer.jsonl from the bank\'s recorded trajectories and chat feedback',
  usage: `memory-r1 export-training --out <dir>

Writes <dir>/manager.jsonl (prompt messages, model output, applied operations) and <dir>/answer.jsonl
(question, retrieved and distilled memories, answer, feedback label when the user gave one).
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const out = flag(args, 'out');
    if (!out) throw new UsageError('--out <dir> is required');
    const bank = await openCliBank(cliConfig(args));
    try {
      const res = exportTrainingData(bank, path.resolve(out));
      io.out(`manager: ${res.manager} trajectories -> ${res.files.manager}`);
      io.out(`answer:  ${res.answer} trajectories (${res.withFeedback} with feedback) -> ${res.files.answer}`);
      if (res.skipped) io.err(`skipped ${res.skipped} unrecognised trajectory line(s)`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const buildTrainingDataCommand: CliCommand = {
  name: 'build-training-data',
  summary: 'Build Memory-R1 training data (manager and answer examples) from LoCoMo',
  usage: `memory-r1 build-training-data --data <locomo.json> --train <sample> --val <sample> --out <dir> [options]

For the manager: one example per fact of each dialogue turn that questions depend on (a question is
linked to the last of its evidence turns), with the memory bank built from the preceding turns, the
candidate memories and prompt the manager sees, and the linked question-answer pairs. For the answer
agent: each question (categories 1-4) with its retrieved memories and the gold answer.

Without --endpoint each dialogue turn is one fact and one memory (no model needed). With --endpoint the
extractor turns each turn into facts and the manager builds the bank, as in the paper.

  --data <file>       LoCoMo JSON (e.g. locomo-dev.json)
  --train <id>        training sample (Memory-R1: conv-26, 152 questions)
  --val <id>          validation sample (Memory-R1: conv-30, 81 questions); optional
  --out <dir>         output folder (replaced split by split)
  --manager-top-k N   related memories shown to the manager (default 10)
  --top-k N           memories retrieved for the answer agent (default 60)
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const dataPath = flag(args, 'data');
    const out = flag(args, 'out');
    const train = flag(args, 'train');
    if (!dataPath) throw new UsageError('--data <locomo.json> is required');
    if (!out) throw new UsageError('--out <dir> is required');
    if (!train) throw new UsageError('--train <sample id> is required');
    const val = flag(args, 'val');
    let samples;
    try {
      samples = loadLocomo(path.resolve(dataPath));
    } catch (err) {
      if (err instanceof LocomoFormatError) throw new UsageError(err.message);
      throw err;
    }
    const { endpoint, embedder: embedding } = cliConfig(args);
    const embedder = await createEmbedder(embedding!, endpoint);
    const models = endpoint ? { ...createModels(endpoint), names: { extractor: endpoint.models.extractor, manager: endpoint.models.manager } } : undefined;
    let lastPct = -1;
    try {
      const meta = await buildLocomoTrainingData({
        samples,
        splits: val ? { train, val } : { train },
        outDir: path.resolve(out),
        embedder,
        models,
        managerTopK: intFlag(args, 'manager-top-k', 10),
        answerTopK: intFlag(args, 'top-k', 60),
        source: path.resolve(dataPath),
        onProgress: (split, done, total) => {
          const pct = Math.floor((done / total) * 10) * 10;
          if (pct !== lastPct) process.stderr.write(`build-training-data: ${split} ${done}/${total} turns\n`);
          lastPct = done === total ? -1 : pct;
        },
      });
      io.out(`mode: ${meta.mode === 'turns' ? 'each dialogue turn is one fact and one memory' : 'facts from the extractor, banks from the manager'}; embedder ${meta.embedder}`);
      for (const [split, s] of Object.entries(meta.splits)) {
        io.out(`${split.padEnd(6)} ${s.sample}: ${s.managerExamples} manager examples (${s.linkedQuestions} of ${s.questions} questions linked${s.unlinkedQuestions ? `, ${s.unlinkedQuestions} without evidence turns` : ''}), ${s.answerExamples} answer examples`);
      }
      io.out(`written to ${path.resolve(out)}`);
      return 0;
    } catch (err) {
      if (err instanceof TrainingDataError) throw new UsageError(err.message);
      throw err;
    }
  },
};

export const rewardCommand: CliCommand = {
  name: 'reward',
  summary: 'Score completions with the Memory-R1 rewards (stdin JSONL, or --serve for the trainer)',
  usage: `memory-r1 reward --data <training dir> [--serve [--port N]] [--answer-endpoint <url> --answer-model <name>]

Manager reward: the completion is parsed and applied to a copy of the example's bank, then the frozen
answer model answers the linked questions; reward = mean exact match of the text after **Answer:**.
Unusable output earns 0. Answer reward: exact match of the completion's answer.

Decision reward (--decisions): the per-fact decision is run through the engine with no rule to rescue it,
on a real bank holding the case's memories; reward 1 when the bank ends as the gold decision leaves it
(fact kept, stale memory superseded, nothing true destroyed), else 0. GET /examples?kind=decision gives
the trainer each case's exact prompt and the choices constrained decoding allows.

Input items: {"kind": "manager"|"answer"|"decision", "id": "<example id>", "completion": "<model output>"}
  without --serve   one item per stdin line; one result per stdout line ({"reward": ..., ...})
  --serve           HTTP on 127.0.0.1: POST /reward {"items": [...]} -> {"rewards": [...], "results": [...]};
                    GET /health. Prints "reward server listening on <url>" when ready.

  --data <dir>              output of memory-r1 build-training-data
  --decisions <file>        labelled decision cases (bench/fixtures/manager/dev.jsonl; the test split is refused)
  --port N                  port for --serve (default 0: any free port)
  --answer-endpoint <url>   OpenAI-compatible endpoint of the frozen answer model (default: --endpoint / $MEMORY_R1_BASE_URL)
  --answer-model <name>     its model name (default: --answer-model / --model / $MEMORY_R1_ANSWER_MODEL)
  --concurrency N           completions scored at once (default 8)
${COMMON_FLAGS_HELP}`,
  switches: ['serve'],
  async run(args, io) {
    const dataDir = flag(args, 'data');
    let data: LoadedTrainingData | undefined;
    if (dataDir) {
      try {
        data = loadTrainingData(path.resolve(dataDir));
      } catch (err) {
        if (err instanceof TrainingDataError) throw new UsageError(err.message);
        throw err;
      }
    }
    let decisions: Map<string, ManagerCase> | undefined;
    const decisionsFile = flag(args, 'decisions');
    if (decisionsFile) {
      try {
        decisions = loadDecisionCases(path.resolve(decisionsFile));
      } catch (err) {
        if (err instanceof TrainingDataError || (err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) throw new UsageError(`--decisions: ${(err as Error).message}`);
        throw err;
      }
    }
    const answerer = answerModel(args);
    const embedder = await createEmbedder(cliConfig(args).embedder!);
    let engine: RewardEngine;
    try {
      engine = new RewardEngine({ embedder, answerer, data, decisions, concurrency: intFlag(args, 'concurrency', 8), answerTopK: data?.meta.answerTopK });
    } catch (err) {
      if (err instanceof TrainingDataError) throw new UsageError(err.message);
      throw err;
    }
    try {
      if (args.flags.has('serve')) {
        const server = await startRewardServer(engine, {
          port: intFlag(args, 'port', 0),
          counts: { manager: data?.manager.size ?? 0, answer: data?.answer.size ?? 0, decision: decisions?.size ?? 0 },
          decisionExamples: decisions ? () => decisionExamples(decisions.values()) : undefined,
          log: (l) => io.err(`reward: ${l}`),
        });
        io.out(`reward server listening on ${server.url}`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
        io.err(`reward: stopped after ${server.served()} completion(s)`);
        return 0;
      }
      const items = readStdinItems();
      try {
        const results = await engine.rewardBatch(items);
        for (const r of results) io.out(JSON.stringify(r));
      } catch (err) {
        if (err instanceof RewardRequestError) throw new UsageError(err.message);
        throw err;
      }
      return 0;
    } finally {
      await engine.close();
    }
  },
};

function answerModel(args: ParsedArgs): ChatModel | undefined {
  const url = flag(args, 'answer-endpoint');
  const { endpoint } = cliConfig(args);
  const baseURL = url ?? endpoint?.baseURL;
  if (!baseURL) return undefined;
  return new OpenAIChatModel({
    baseURL,
    apiKey: flag(args, 'answer-api-key') ?? endpoint?.apiKey,
    model: flag(args, 'answer-model') ?? endpoint?.models.answer ?? 'default',
    timeoutMs: requestTimeoutMs(args),
  });
}

function readStdinItems(): RewardItem[] {
  if (process.stdin.isTTY) throw new UsageError('reward reads JSONL items from stdin (or pass --serve)');
  const text = fs.readFileSync(0, 'utf8');
  const items: RewardItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      items.push(JSON.parse(line) as RewardItem);
    } catch (err) {
      throw new UsageError(`stdin line ${i + 1}: not valid JSON (${(err as Error).message})`);
    }
  });
  return items;
}
