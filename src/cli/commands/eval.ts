import * as path from 'node:path';
import type { CliCommand } from '../command';
import { UsageError, flag, intFlag } from '../args';
import { COMMON_FLAGS_HELP, cliConfig } from '../context';
import { createEmbedder, createModels } from '../../core/config';
import { OpenAIChatModel } from '../../core/llm/openaiChatModel';
import { EvalSetupError, type ProgressUpdate, dialogueEvents, runLocomoEval } from '../../core/eval/harness';
import { eventText } from '../../core/eval/pipelines';
import { eventSource } from '../../core/eval/pipelines/common';
import type { CaptureEvent } from '../../core/types';
import type { ParsedArgs } from '../args';
import { LocomoFormatError, type LocomoSample, loadLocomo } from '../../core/eval/locomo';
import { DEFAULT_PIPELINES, PIPELINE_NAMES, type PipelineName } from '../../core/eval/pipelines';
import { Mem0BridgeError, findMem0Install } from '../../core/eval/mem0Bridge';

const USAGE = `memory-r1 eval locomo --data <locomo10.json> --endpoint <url> --model <name> [options]

Builds each conversation's memory with every pipeline, answers the scored questions (categories 1–4)
and writes results.json, summary.md and per-category.svg into --out.

  --data <file>              LoCoMo JSON (locomo10.json or a split of it)
  --samples <id,id>          samples to run (default: all)
  --limit <N>                first N scored questions of each sample
  --max-turns <N>            feed only the first N turns of each conversation; questions whose evidence
                             lies beyond them are left out
  --turns-per-event <N>      consecutive turns of a session fed as one event (default 1)
  --pipelines <a,b>          any of ${PIPELINE_NAMES.join(', ')} (default: all but mem0, the real
                             mem0ai package, which needs bash scripts/setup-mem0.sh)
  --top-k <N>                memories / turns retrieved per answer (default 60, as Memory-R1)
  --context-tokens <N>       the answer model's context window, for full-context (default 8192)
  --judge-model <name>       LLM judge model (default: the answer model)
  --no-judge                 skip the LLM judge
  --parallel <N>             (pipeline, sample) jobs at once (default 1)
  --out <dir>                output folder (default .cache/eval/<timestamp>)
  --resume                   continue the run in --out: fed turns and answered questions are kept
${COMMON_FLAGS_HELP}`;

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Evaluate memory pipelines on LoCoMo (F1, BLEU-1, LLM judge, latency, tokens)',
  usage: USAGE,
  switches: ['resume', 'no-judge'],
  async run(args, io) {
    const [suite, ...extra] = args.positionals;
    if (suite !== 'locomo') throw new UsageError(suite ? `unknown benchmark "${suite}"; only "locomo" is supported` : 'eval needs a benchmark: memory-r1 eval locomo --data <file> ...');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const dataPath = flag(args, 'data');
    if (!dataPath) throw new UsageError('--data <locomo10.json> is required');

    const pipelines = listFlag(args, 'pipelines') ?? [...DEFAULT_PIPELINES];
    for (const p of pipelines) {
      if (!(PIPELINE_NAMES as readonly string[]).includes(p)) throw new UsageError(`unknown pipeline "${p}"; choose from ${PIPELINE_NAMES.join(', ')}`);
    }
    if (pipelines.includes('mem0')) {
      try {
        findMem0Install();
      } catch (err) {
        if (err instanceof Mem0BridgeError) throw new UsageError(err.message);
        throw err;
      }
    }
    const samples = pickSamples(readLocomo(dataPath), listFlag(args, 'samples'));
    const limit = optionalInt(args, 'limit');
    const maxTurns = optionalInt(args, 'max-turns');
    const turnsPerEvent = intFlag(args, 'turns-per-event', 1);
    const topK = intFlag(args, 'top-k', 60);
    const contextTokens = intFlag(args, 'context-tokens', 8192);
    const parallel = intFlag(args, 'parallel', 1);
    for (const [name, v] of [['turns-per-event', turnsPerEvent], ['top-k', topK], ['parallel', parallel], ['max-turns', maxTurns ?? 1]] as const) {
      if (v < 1) throw new UsageError(`--${name} must be at least 1`);
    }

    const cfg = cliConfig(args, { endpoint: 'required' });
    const endpoint = cfg.endpoint!;
    const noJudge = args.flags.has('no-judge');
    const judgeModelName = noJudge ? undefined : (flag(args, 'judge-model') ?? endpoint.models.answer);
    const embedder = await createEmbedder(cfg.embedder!, endpoint);
    const outDir = path.resolve(flag(args, 'out') ?? path.join('.cache', 'eval', new Date().toISOString().replace(/[:.]/g, '-')));

    const bar = new ProgressBar(process.stderr);
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await runLocomoEval({
        samples,
        pipelines: pipelines as PipelineName[],
        outDir,
        resume: args.flags.has('resume'),
        limit,
        maxTurns,
        turnsPerEvent,
        topK,
        contextTokens,
        parallel,
        models: createModels(endpoint),
        judgeModel: judgeModelName
          ? new OpenAIChatModel({ baseURL: endpoint.baseURL, apiKey: endpoint.apiKey, model: judgeModelName, timeoutMs: endpoint.timeoutMs })
          : undefined,
        embedder,
        endpoint: { baseURL: endpoint.baseURL, apiKey: endpoint.apiKey },
        identity: { data: path.resolve(dataPath), endpoint: endpoint.baseURL, models: endpoint.models, judgeModel: judgeModelName, embedder: embedder.id },
        onProgress: (p) => bar.update(p),
        signal: abort.signal,
      });
      bar.finish();
      const { report, files, fresh } = result;
      io.out(`answered ${fresh.questions} question(s) and fed ${fresh.events} event(s) in this run${fresh.judged ? `, judged ${fresh.judged}` : ''}`);
      const judged = report.metrics.some((m) => m.id === 'judge');
      for (const p of report.pipelines) {
        const o = p.scores.overall;
        const score = (id: string) => (o.mean[id] === undefined ? '—' : (o.mean[id] * 100).toFixed(1));
        io.out(
          `${p.name.padEnd(12)} n=${String(o.count).padEnd(4)} F1(Mem0) ${score('mem0F1')}  BLEU-1 ${score('mem0Bleu1')}  F1(LoCoMo) ${score('locomoF1')}  EM ${score('exactMatch')}${judged ? `  J ${score('judge')}` : ''}${p.skipped.length ? `  (skipped ${p.skipped.length} sample(s))` : ''}`,
        );
      }
      io.out(`results: ${files.results}`);
      io.out(`summary: ${files.summary}`);
      io.out(`chart:   ${files.svg}`);
      return 0;
    } catch (err) {
      bar.finish();
      if (err instanceof EvalSetupError) throw new UsageError(err.message);
      if (abort.signal.aborted) {
        io.err(`interrupted; continue with the same command and --resume --out ${outDir}`);
        return 130;
      }
      io.err(`stopped; what was done is kept in ${outDir}: continue with the same command and --resume --out ${outDir}`);
      throw err;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};

/**
 * For `memory-r1 ingest --locomo <file> --sample <id> [--max-turns N] [--turns-per-event N]`: the sample's
 * dialogue as capture events, turn by turn with the session dates, exactly as the eval harness feeds it.
 * Undefined when --locomo is not given.
 */
export function locomoIngestEvents(args: ParsedArgs): CaptureEvent[] | undefined {
  const file = flag(args, 'locomo');
  if (file === undefined) return undefined;
  const all = readLocomo(file);
  const id = flag(args, 'sample');
  if (!id && all.length !== 1) throw new UsageError(`--locomo needs --sample <id>; the file has ${all.map((s) => s.sampleId).join(', ')}`);
  const [sample] = pickSamples(all, id ? [id] : undefined);
  const maxTurns = optionalInt(args, 'max-turns');
  return dialogueEvents(sample, { maxTurns, turnsPerEvent: intFlag(args, 'turns-per-event', 1) || 1 }).map((e) => ({
    id: `${sample.sampleId}-${e.index}`,
    source: eventSource(sample.sampleId, e),
    text: eventText(e),
    time: e.eventTime ?? new Date().toISOString(),
    eventTime: e.eventTime,
  }));
}

function readLocomo(file: string): LocomoSample[] {
  try {
    return loadLocomo(path.resolve(file));
  } catch (err) {
    if (err instanceof LocomoFormatError) throw new UsageError(err.message);
    throw err;
  }
}

function pickSamples(all: LocomoSample[], ids: string[] | undefined): LocomoSample[] {
  if (!ids) return all;
  return ids.map((id) => {
    const s = all.find((x) => x.sampleId === id);
    if (!s) throw new UsageError(`no sample "${id}" in the data; it has ${all.map((x) => x.sampleId).join(', ')}`);
    return s;
  });
}

function listFlag(args: ParsedArgs, name: string): string[] | undefined {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  const items = [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))];
  if (items.length === 0) throw new UsageError(`--${name} needs at least one name`);
  return items;
}

function optionalInt(args: ParsedArgs, name: string): number | undefined {
  return flag(args, name) === undefined ? undefined : intFlag(args, name, 0);
}

/** A one-line progress bar with ETA on a terminal; on a pipe, a plain line every few percent. */
class ProgressBar {
  private started = Date.now();
  private lastLine = 0;
  private lastPct = -1;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(p: ProgressUpdate): void {
    const frac = p.total === 0 ? 1 : p.done / p.total;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = p.done > 0 && p.done < p.total ? formatSeconds((elapsed / p.done) * (p.total - p.done)) : p.done >= p.total ? 'done' : '?';
    const pct = Math.floor(frac * 100);
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round(frac * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${pct}% eta ${eta}  ${p.label}`;
      const cols = this.stream.columns || 100;
      this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, this.lastLine))}`);
      this.lastLine = Math.min(cols - 1, line.length);
      this.drawn = true;
    } else if (pct >= this.lastPct + 5 || p.done === p.total) {
      if (pct === this.lastPct) return;
      this.lastPct = pct;
      this.stream.write(`eval: ${p.done}/${p.total} (${pct}%) eta ${eta} — ${p.label}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
