import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand } from '../command';
import { UsageError, flag, intFlag } from '../args';
import { COMMON_FLAGS_HELP, cliConfig, openCliBank, openCliEngine } from '../context';
import { formatScrubReport, scrubFileBank, scrubPostgresBank } from '../../core/bank/scrub';
import { describeCounts } from '../../core/privacy/boundary';
import { formatMemory, formatOperation, formatRecord } from '../format';
import { writeFileAtomic } from '../../core/util/atomicFile';
import { BankError } from '../../core/errors';
import type { CaptureEvent } from '../../core/types';
import { newId, nowIso } from '../../core/util/text';
import { locomoIngestEvents } from './eval';

export const listCommand: CliCommand = {
  name: 'list',
  summary: 'List memories',
  usage: `memory-r1 list [--status active|superseded|deleted|all] [--text <filter>] [--limit N]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const bank = await openCliBank(cliConfig(args));
    try {
      const status = (flag(args, 'status') ?? 'active') as 'active';
      const res = bank.list({ status, text: flag(args, 'text'), limit: intFlag(args, 'limit', 1000) });
      for (const m of res.items) io.out(formatMemory(m));
      io.out(`${res.total} shown of ${res.counts.active} active, ${res.counts.superseded} superseded, ${res.counts.deleted} deleted`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const historyCommand: CliCommand = {
  name: 'history',
  summary: 'Show the operation history of the bank or of one memory',
  usage: `memory-r1 history [<memory id or prefix>]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const bank = await openCliBank(cliConfig(args));
    try {
      const idArg = args.positionals[0];
      let id: string | undefined;
      if (idArg) {
        const all = bank.list({ status: 'all' }).items.filter((m) => m.id.startsWith(idArg));
        if (all.length !== 1) throw new UsageError(all.length ? `"${idArg}" matches ${all.length} memories; give more of the id.` : `No memory with id "${idArg}".`);
        id = all[0].id;
      }
      for (const r of bank.history(id)) io.out(formatRecord(r));
      if (id) {
        // What this memory replaced and what replaced it: "what did we use before?"
        const chain: string[] = [];
        for (let m = bank.get(id), n = 0; m?.supersedes && n < 50; n++) chain.unshift((m = bank.get(m.supersedes))!.id);
        chain.push(id);
        for (let m = bank.get(id), n = 0; m?.supersededBy && n < 50; n++) chain.push((m = bank.get(m.supersededBy))!.id);
        if (chain.length > 1) {
          io.out('\nVersions (oldest first):');
          for (const cid of chain) {
            const m = bank.get(cid)!;
            const from = (m.eventTime ?? m.createdAt).slice(0, 10);
            io.out(`  ${m.id.slice(0, 8)}  ${from} .. ${m.validTo ? m.validTo.slice(0, 10) : m.status === 'active' ? 'now' : m.status}  ${m.text}${cid === id ? '   <' : ''}`);
          }
        }
      }
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const undoCommand: CliCommand = {
  name: 'undo',
  summary: 'Undo the last batch (everything one manager run or import did), or one operation',
  usage: `memory-r1 undo [<operation id>]
  Without an id: every operation of the newest batch that can still be undone, in one write (as
  VS Code's "Project Memory: Undo" does). With an id: that operation alone.
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const bank = await openCliBank(cliConfig(args));
    try {
      const opId = args.positionals[0];
      if (opId) {
        for (const r of await bank.undo(opId)) io.out(formatRecord(r));
        return 0;
      }
      const last = bank.lastUndoable();
      if (!last) throw new BankError('NOT_FOUND', 'Nothing to undo.');
      const { records, skipped } = await bank.undoBatch(last.batchId);
      for (const r of records) io.out(formatRecord(r));
      for (const k of skipped) io.err(`memory-r1 undo: left ${k.memoryId} as it is: ${k.reason}`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Export the bank with its history (JSON) or as Markdown',
  usage: `memory-r1 export <file.json|file.md> [--format json|markdown]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const out = args.positionals[0];
    if (!out) throw new UsageError('export needs an output file');
    const format = flag(args, 'format') ?? (out.endsWith('.md') ? 'markdown' : 'json');
    const bank = await openCliBank(cliConfig(args));
    try {
      const content = format === 'markdown' ? bank.toMarkdown() : JSON.stringify(bank.exportBundle(), null, 1);
      writeFileAtomic(path.resolve(out), content);
      io.out(`exported ${bank.size} memories to ${out}`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'Import a JSON export (validated first; a malformed file changes nothing)',
  usage: `memory-r1 import <file.json> [--replace]\n${COMMON_FLAGS_HELP}`,
  switches: ['replace'],
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) throw new UsageError('import needs a file');
    const data = readJsonFile(file);
    const bank = await openCliBank(cliConfig(args));
    try {
      const r = await bank.importBundle(data, args.flags.has('replace') ? 'replace' : 'merge');
      io.out(`imported ${r.imported} memories${r.skipped ? `, skipped ${r.skipped} already present` : ''}`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const addCommand: CliCommand = {
  name: 'add',
  summary: 'Add a memory by hand (no model involved)',
  usage: `memory-r1 add <text> [--tags a,b]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const text = args.positionals.join(' ');
    if (!text.trim()) throw new UsageError('add needs some text');
    const bank = await openCliBank(cliConfig(args));
    try {
      const r = await bank.addManual(text, { tags: flag(args, 'tags')?.split(',').filter(Boolean) });
      if (r.redactions) io.err(`memory-r1: redacted ${describeCounts(r.redactions)} before the memory was stored`);
      io.out(formatRecord(r));
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const searchCommand: CliCommand = {
  name: 'search',
  summary: 'Search memories (hybrid dense + BM25)',
  usage: `memory-r1 search <query> [--top N]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const q = args.positionals.join(' ');
    if (!q.trim()) throw new UsageError('search needs a query');
    const bank = await openCliBank(cliConfig(args));
    try {
      for (const h of await bank.search(q, { topK: intFlag(args, 'top', 10) })) io.out(`${h.score.toFixed(4)}  ${formatMemory(h.memory)}`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const rememberCommand: CliCommand = {
  name: 'remember',
  summary: 'Give one fact to the Memory Manager (ADD/UPDATE/DELETE/NOOP)',
  usage: `memory-r1 remember <fact>\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const text = args.positionals.join(' ');
    if (!text.trim()) throw new UsageError('remember needs a fact');
    const engine = await openCliEngine(cliConfig(args, { endpoint: 'required' }));
    try {
      const r = await engine.remember(text, { kind: 'cli' });
      if (r.redactions) io.err(`memory-r1: redacted ${describeCounts(r.redactions)} before anything was stored or sent`);
      for (const o of r.operations) io.out(formatOperation(o));
      return 0;
    } finally {
      await engine.bank.close();
    }
  },
};

export const askCommand: CliCommand = {
  name: 'ask',
  summary: 'Ask the Answer Agent a question; prints the answer and the memories it cites',
  usage: `memory-r1 ask <question> [--top N]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const q = args.positionals.join(' ');
    if (!q.trim()) throw new UsageError('ask needs a question');
    const engine = await openCliEngine(cliConfig(args, { endpoint: 'required' }));
    try {
      const r = await engine.answer(q, { topK: intFlag(args, 'top', engine.options.answerTopK) });
      io.out(r.answer);
      for (const c of r.citations) io.out(`  cited: ${formatMemory(c)}`);
      return 0;
    } finally {
      await engine.bank.close();
    }
  },
};

/** Turn files: JSON array or JSON Lines of `{text, time?, speaker?, source?}`, or plain text (one event per paragraph). */
export function readTurns(file: string): CaptureEvent[] {
  const raw = readText(file);
  const trimmed = raw.trim();
  let items: unknown[];
  if (trimmed.startsWith('[')) items = parseJson(trimmed, file) as unknown[];
  else if (trimmed.startsWith('{')) items = trimmed.split('\n').filter((l) => l.trim()).map((l, i) => parseJson(l, `${file} line ${i + 1}`));
  else items = trimmed.split(/\n\s*\n/).map((p) => ({ text: p.trim() }));
  return items.map((it, i) => {
    const o = it as { text?: unknown; time?: unknown; speaker?: unknown; source?: unknown };
    if (!o || typeof o.text !== 'string' || !o.text.trim()) throw new UsageError(`${file}: turn ${i + 1} has no "text"`);
    const time = typeof o.time === 'string' && !Number.isNaN(Date.parse(o.time)) ? new Date(o.time).toISOString() : undefined;
    return {
      id: newId(),
      source: { kind: 'cli', ref: `${path.basename(file)}#${i + 1}`, actor: typeof o.speaker === 'string' ? o.speaker : undefined },
      text: typeof o.speaker === 'string' ? `${o.speaker}: ${o.text}` : o.text,
      time: time ?? nowIso(),
      eventTime: time,
    };
  });
}

export const ingestCommand: CliCommand = {
  name: 'ingest',
  summary: 'Feed a file of turns through extraction and the Memory Manager',
  usage: `memory-r1 ingest <turns.json|turns.jsonl|notes.txt>\n       memory-r1 ingest --locomo <locomo10.json> --sample <id> [--max-turns N]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const file = args.positionals[0];
    const events = locomoIngestEvents(args) ?? (file ? readTurns(file) : undefined);
    if (!events) throw new UsageError('ingest needs a file (or --locomo <file> --sample <id>)');
    const engine = await openCliEngine(cliConfig(args, { endpoint: 'required' }));
    try {
      let n = 0;
      for (const e of events) {
        const r = await engine.ingest(e);
        n++;
        io.out(`[${n}/${events.length}] ${r.facts.length} fact(s)${r.redactions ? `; redacted ${describeCounts(r.redactions)}` : ''}`);
        for (const o of r.operations) io.out(`  ${formatOperation(o)}`);
      }
      io.out(`bank now holds ${engine.bank.list().counts.active} active memories`);
      return 0;
    } finally {
      await engine.bank.close();
    }
  },
};

export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `No such file: ${file}` : `Cannot read ${file}: ${(err as Error).message}`);
  }
}

export function readJsonFile(file: string): unknown {
  return parseJson(readText(file), file);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
}

export const scrubCommand: CliCommand = {
  name: 'scrub',
  summary: 'Find secrets stored by older versions (memories, history, trajectories, capture queue, exports) and remove them',
  usage: `memory-r1 scrub [<export.json|export.md> ...] [--yes] [--backup <dir>]
  Without --yes: a dry run that shows what would change (counts and locations, never the secrets).
  --yes           rewrite the bank (and the export files named) with the secrets redacted
  --backup <dir>  copy the bank folder to <dir> first; the copy still holds the secrets
  Close VS Code windows on the same bank first; they reopen it afterwards.
${COMMON_FLAGS_HELP}`,
  switches: ['yes'],
  async run(args, io) {
    const { folder, postgres: storage } = cliConfig(args).bank;
    if (storage) {
      // A shared bank: one transaction rewrites it; exports are files, scrubbed from a bank folder.
      if (args.positionals.length) throw new UsageError('with --postgres, scrub takes no export files (scrub them with --bank <folder>)');
      if (flag(args, 'backup')) throw new UsageError('--backup copies a bank folder; back up a shared bank with pg_dump (the dump still holds the secrets)');
      const pgOpts = { apply: args.flags.has('yes'), actor: process.env.USER };
      const rep = await scrubPostgresBank(storage.url, storage.bankId, { apply: false });
      if (!pgOpts.apply || !rep.total) {
        for (const l of formatScrubReport(rep)) io.out(l);
        if (rep.total) io.out('Dry run: nothing was changed. Run again with --yes to rewrite the bank; other clients keep what they loaded until they reopen it.');
        return 0;
      }
      const doneRep = await scrubPostgresBank(storage.url, storage.bankId, pgOpts);
      for (const l of formatScrubReport(doneRep)) io.out(l);
      if (doneRep.opId) io.out(`Recorded in the history as SCRUB (op ${doneRep.opId}).`);
      return 0;
    }
    const exports = args.positionals.map((f) => path.resolve(f));
    const apply = args.flags.has('yes');
    const backup = flag(args, 'backup');
    const report = await scrubFileBank(folder, { exports, apply: false });
    const nothing = !report.total && !report.vectorsDropped && !report.damagedVectorFiles.length;
    if (nothing || !apply) for (const l of formatScrubReport(report)) io.out(l);
    if (nothing) return 0;
    if (!apply) {
      io.out('Dry run: nothing was changed. Run again with --yes to rewrite these files (a --backup made first still holds the secrets).');
      return 0;
    }
    if (backup) {
      const to = path.resolve(backup);
      if (fs.existsSync(to) && fs.readdirSync(to).length) throw new UsageError(`--backup ${backup} must be a new or empty folder`);
      fs.cpSync(folder, to, { recursive: true });
      io.err(`memory-r1 scrub: backup written to ${to}. WARNING: the backup still holds every secret listed above; keep it somewhere safe and delete it when you no longer need it.`);
    }
    const done = await scrubFileBank(folder, { exports, apply: true, actor: process.env.USER });
    for (const l of formatScrubReport(done)) io.out(l);
    if (done.opId) io.out(`Recorded in the history as SCRUB (op ${done.opId}).`);
    return 0;
  },
};
