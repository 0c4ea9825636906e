import { describeSource } from '../../core/provenance';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { CliCommand } from '../command';
import { flag } from '../args';
import { managerProtocol } from '../context';
import { readTurns } from './bankCommands';
import { formatOperation, formatRecord } from '../format';
import { openEngine } from '../../core/config';
import { bankInstructionSection } from '../../core/conventions/instructions';

const QUESTIONS = [
  'Which database does the billing service use?',
  'How are money amounts stored?',
  'Who owns the payments webhook handler?',
  'Where was the double rounding bug fixed?',
];

/**
 * The main job on a machine with no GPU and no API key: starts the local model server
 * (Qwen2.5-Coder-1.5B-Instruct) and the local embedder, ingests a short project history through the Memory-R1 pipeline, prints
 * every operation and the history, then answers questions with citations.
 */
export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the Memory-R1 pipeline end to end on a short project history with local models',
  usage: `memory-r1 demo [--history <turns.jsonl>] [--bank <dir>] [--endpoint <url> --model <name> [--embedding-model <name>]]
  Without --endpoint, starts the local model server (Qwen2.5-Coder-1.5B-Instruct, installed by
  bash scripts/setup-models.sh demo) with the local embedder on a free loopback port.
  With --endpoint, --embedding-model uses that server's /v1/embeddings (default: the hashing embedder).`,
  async run(args, io) {
    const historyFile = path.resolve(flag(args, 'history') ?? path.join(__dirname, '..', 'examples', 'project-history.jsonl'));
    const events = readTurns(historyFile);
    const bankDir = flag(args, 'bank') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'memory-r1-demo-'));
    let endpoint = flag(args, 'endpoint');
    let model = flag(args, 'model') ?? 'default';
    let closeServer: (() => Promise<void>) | undefined;
    let embeddingModel = flag(args, 'embedding-model');
    const started = Date.now();
    if (!endpoint) {
      io.out('Starting the local model server…');
      const { startModelServer } = await import('../../server/llamaServer');
      const { ensureModel } = await import('../../core/models/modelStore');
      const { DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL } = await import('../../core/models/catalog');
      const modelPath = await ensureModel(DEFAULT_CHAT_MODEL, { onProgress: io.out });
      const embPath = await ensureModel(DEFAULT_EMBEDDING_MODEL, { onProgress: io.out }).catch(() => undefined);
      const server = await startModelServer({ modelPath, port: 0, embeddingModelPath: embPath && path.dirname(embPath), onProgress: io.out });
      endpoint = server.url;
      model = server.model;
      embeddingModel = server.embeddingModel;
      closeServer = () => server.close();
      io.out(`Model server ready at ${endpoint} (${model}${embeddingModel ? `, embeddings ${embeddingModel}` : ''})`);
    }
    const engine = await openEngine({
      bank: { folder: bankDir, watchIntervalMs: 0 },
      endpoint: { baseURL: endpoint, models: { extractor: model, manager: model, answer: model } },
      embedder: embeddingModel ? { provider: 'openai', model: embeddingModel } : { provider: 'hashing' },
      engine: { managerProtocol: managerProtocol(args) },
    });
    const { bank } = engine;
    try {
      io.out(`\nBank: ${bankDir}\n\n== Ingesting ${events.length} events from ${historyFile}`);
      for (const [i, e] of events.entries()) {
        io.out(`\n[${i + 1}/${events.length}] ${e.text}`);
        const r = await engine.ingest(e);
        io.out(`  facts: ${r.facts.length ? r.facts.map((f) => JSON.stringify(f)).join(', ') : '(none)'}`);
        for (const o of r.operations) io.out(`  ${formatOperation(o)}`);
      }
      io.out('\n== History');
      for (const r of bank.history()) io.out(formatRecord(r));
      io.out('\n== Questions');
      for (const q of QUESTIONS) {
        const a = await engine.answer(q, { topK: 20 });
        io.out(`\nQ: ${q}\nA: ${clip(a.answer) || '(no answer)'}`);
        for (const c of a.citations) {
          const src = bank.sourceOf(c.id);
          io.out(`   cites: ${c.text}${src ? `\n          from ${describeSource(src)}` : ''}`);
        }
      }
      // What coding agents would read: the conventions, decisions and workflows as the instruction-file section.
      const section = bankInstructionSection(bank);
      io.out(`\n== Instructions section (memory-r1 instructions --write AGENTS.md writes it; ${section.listed.length} of the active memories are conventions, decisions or workflows)\n${section.text.trimEnd()}`);
      const counts = bank.list({ status: 'all' }).counts;
      io.out(`\n${counts.active} active memories, ${counts.superseded} superseded; ${bank.history().length} history records. Inspect with: memory-r1 history --bank ${bankDir}`);
      if (closeServer) {
        io.out(
          `\nDone in ${((Date.now() - started) / 1000).toFixed(0)} s with the built-in ${model} on the CPU. A bigger model decides better:\n` +
            'bash scripts/demo.sh --endpoint http://127.0.0.1:11434/v1 --model qwen2.5:7b (any OpenAI-compatible server).',
        );
      }
      return 0;
    } finally {
      await bank.close();
      await closeServer?.();
    }
  },
};

/** Tiny models can loop until the token limit: show the start of such an answer, not pages of it. */
function clip(text: string, maxChars = 300, maxLines = 3): string {
  const t = text.trim();
  const lines = t.split('\n');
  let head = lines.slice(0, maxLines).join('\n');
  if (head.length > maxChars) head = head.slice(0, maxChars);
  return head.length < t.length ? `${head}… (${t.length - head.length} more characters)` : t;
}
