import { describeSource } from '../../core/provenance';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand } from '../command';
import { UsageError, flag, intFlag, kindsFlag } from '../args';
import { COMMON_FLAGS_HELP, cliConfig, openCliBank, openCliEngine } from '../context';
import { formatScrubReport } from '../../core/bank/scrub';
import { scrubBank } from '../../core/config';
import { describeCounts } from '../../core/privacy/boundary';
import { formatMemory, formatOperation, formatRecord } from '../format';
import { writeFileAtomic } from '../../core/util/atomicFile';
import { BankError } from '../../core/errors';
import type { CaptureEvent } from '../../core/types';
import { newId, nowIso } from '../../core/util/text';
import { locomoIngestEvents } from './eval';
import { describeHeldBatch, findHeldBatch } from '../../core/tools/pendingTools';
import { MAX_EVENT_CHARS } from '../../core/capture/eventFormat';
import { EvidenceLedger } from '../../core/evidence/ledger';
import { answerWithFreshness, freshnessFor } from '../../core/evidence/freshness';

export const listCommand: CliCommand = {
  name: 'list',
  summary: 'List memories',
  usage: `memory-r1 list [--status active|superseded|deleted|all] [--kind convention,decision,...] [--text <filter>] [--limit N]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const bank = await openCliBank(cliConfig(args));
    try {
      const status = (flag(args, 'status') ?? 'active') as 'active';
      const res = bank.list({ status, text: flag(args, 'text'), limit: intFlag(args, 'limit', 1000), kinds: kindsFlag(args) });
      const ledger = new EvidenceLedger(bank);
      for (const m of res.items) io.out(formatMemory(m, m.status === 'active' ? ledger.review(m.id) : undefined));
      io.out(`${res.total} shown of ${res.counts.active} active, ${res.counts.superseded} superseded, ${res.counts.deleted} deleted`);
      const src = bank.sources.stats();
      if (src.events) {
        const dropped = src.dropped ? `; ${src.dropped} older ones dropped by the cap of ${src.limits.maxEvents} events` : '';
        io.out(`${src.events} source events kept (${Math.round(src.chars / 1024)} KiB)${dropped}`);
      }
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
        // Where it came from: the capture events the bank kept (redacted).
        const sources = bank.sourcesOf(id);
        if (sources.length) {
          io.out('\nSources:');
          for (const s of sources) io.out(`  from ${describeSource(s)}${s.actor ? ` by ${s.actor}` : ''}:\n${indent(s.text, '    ')}${s.clipped ? `\n    (${s.clipped} more characters were not kept)` : ''}`);
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
  summary: 'Undo everything the last ingest run, captured event or batch did, or one operation',
  usage: `memory-r1 undo [<operation id>]
  Without an id: everything the newest undoable operation's run did (one \`ingest\` or \`import\`, one
  MCP agent session), else its captured event, else its batch, in one write (as VS Code's
  "Project Memory: Undo" does). With an id: that operation alone.
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const bank = await openCliBank(cliConfig(args));
    try {
      const opId = args.positionals[0];
      if (opId) {
        for (const r of await bank.undo(opId)) io.out(formatRecord(r));
        return 0;
      }
      const group = bank.lastUndoableGroup();
      if (!group) throw new BankError('NOT_FOUND', 'Nothing to undo.');
      const { records, skipped, operations } = await bank.undoBatch(group.key);
      const what = { run: 'the last run (one ingest, import or agent session)', event: 'the last captured event', batch: 'the last batch' }[group.kind];
      io.out(`Undid ${operations} operation(s) of ${what}:`);
      for (const r of records) io.out(formatRecord(r));
      for (const k of skipped) io.err(`memory-r1 undo: left ${k.memoryId} as it is: ${k.reason}`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const pendingCommand: CliCommand = {
  name: 'pending',
  summary: 'List the operations held for approval, and approve or reject them',
  usage: `memory-r1 pending                      list the held batches (id, why, what each would do)
memory-r1 pending approve <id|prefix>  apply one held batch (atomically; it is recorded like any operation)
memory-r1 pending reject <id|prefix>   drop one held batch; nothing changes in the bank
  Batches are held when one event or run would retire more existing memories than its cap allows, or
  when one batch would change most of the memories it was shown.
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const [verb, idArg] = args.positionals;
    if (verb && verb !== 'approve' && verb !== 'reject' && verb !== 'list') throw new UsageError(`unknown action "${verb}": use approve, reject or list`);
    const bank = await openCliBank(cliConfig(args));
    try {
      const held = bank.side.pendingBatches();
      if (!verb || verb === 'list') {
        if (!held.length) io.out('No operations are held for approval.');
        for (const b of held) for (const line of describeHeldBatch(bank, b)) io.out(line);
        return 0;
      }
      if (!idArg) throw new UsageError(`pending ${verb} needs the held batch's id (see memory-r1 pending)`);
      const found = findHeldBatch(bank, idArg);
      if (typeof found === 'string') throw new UsageError(found);
      const matches = [found];
      const recs = await bank.side.resolvePending(matches[0].id, verb === 'approve');
      if (verb === 'approve') {
        io.out(`Applied held batch ${matches[0].id}:`);
        for (const r of recs) io.out(formatRecord(r));
      } else io.out(`Rejected held batch ${matches[0].id}; the bank is unchanged.`);
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
      if (r.dropped.length) io.err(`memory-r1 import: left out ${r.dropped.length} field(s) that are not part of the export format: ${r.dropped.slice(0, 20).join(', ')}${r.dropped.length > 20 ? ', …' : ''}`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const addCommand: CliCommand = {
  name: 'add',
  summary: 'Add a memory by hand (no model involved)',
  usage: `memory-r1 add <text> [--tags a,b] [--kind convention|decision|...]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const text = args.positionals.join(' ');
    if (!text.trim()) throw new UsageError('add needs some text');
    const bank = await openCliBank(cliConfig(args));
    try {
      const [kind] = kindsFlag(args) ?? [];
      const r = await bank.addManual(text, { tags: flag(args, 'tags')?.split(',').filter(Boolean), ...(kind ? { kind } : {}) });
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
  usage: `memory-r1 search <query> [--top N] [--kind convention,decision,...]\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const q = args.positionals.join(' ');
    if (!q.trim()) throw new UsageError('search needs a query');
    const bank = await openCliBank(cliConfig(args));
    try {
      for (const h of await bank.search(q, { topK: intFlag(args, 'top', 10), kinds: kindsFlag(args) })) io.out(`${h.score.toFixed(4)}  ${formatMemory(h.memory)}`);
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const rememberCommand: CliCommand = {
  name: 'remember',
  summary: 'Give one fact to the Memory Manager (ADD/UPDATE/DELETE/NOOP)',
  usage: `memory-r1 remember <fact> [--kind convention|decision|...]\n  Without --kind the model labels the fact's kind.\n${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const text = args.positionals.join(' ');
    if (!text.trim()) throw new UsageError('remember needs a fact');
    const engine = await openCliEngine(cliConfig(args, { endpoint: 'required' }));
    try {
      const [kind] = kindsFlag(args) ?? [];
      const r = await engine.remember(text, { kind: 'cli' }, undefined, undefined, kind);
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
  usage: `memory-r1 ask <question> [--top N] [--context-tokens N]

  --top <N>              memories retrieved (default 60)
  --context-tokens <N>   tokens of memories and their source excerpts the answer model reads (default 2500)
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const q = args.positionals.join(' ');
    if (!q.trim()) throw new UsageError('ask needs a question');
    const engine = await openCliEngine(cliConfig(args, { endpoint: 'required' }));
    try {
      const r = await answerWithFreshness(engine, q, { topK: intFlag(args, 'top', engine.options.answerTopK), contextTokens: intFlag(args, 'context-tokens', engine.options.answerContextTokens) });
      io.out(r.answer);
      for (const c of r.citations) {
        io.out(`  cited: ${formatMemory(c, freshnessFor(engine.bank).ledger.review(c.id))}`);
        const src = engine.bank.sourceOf(c.id);
        if (src) io.out(`         from ${describeSource(src)}`);
      }
      return 0;
    } finally {
      await engine.bank.close();
    }
  },
};

/** The largest file `ingest` reads at once; a bigger one is split by the user (each part is its own run). */
export const MAX_INGEST_BYTES = 10 * 1024 * 1024;

/** What reading a turns file found besides the events: long turns split, lines it could not use. */
export interface TurnsNotes {
  split: { turn: number; chars: number; parts: number }[];
}

/**
 * Turn files: JSON array or JSON Lines of `{text, time?, speaker?, source?}`, or plain text (one event per
 * paragraph). A turn longer than capture's event limit is split into several events (at paragraph, line or
 * word boundaries), as capture would never send more than that in one prompt.
 */
export function readTurns(file: string, notes: TurnsNotes = { split: [] }): CaptureEvent[] {
  const raw = readText(file, MAX_INGEST_BYTES);
  const trimmed = raw.trim();
  let items: unknown[];
  if (trimmed.startsWith('[')) items = parseJson(trimmed, file) as unknown[];
  else if (trimmed.startsWith('{')) items = trimmed.split('\n').filter((l) => l.trim()).map((l, i) => parseJson(l, `${file} line ${i + 1}`));
  else items = trimmed.split(/\n\s*\n/).map((p) => ({ text: p.trim() }));
  return items.flatMap((it, i) => {
    const o = it as { text?: unknown; time?: unknown; speaker?: unknown; source?: unknown };
    if (!o || typeof o.text !== 'string' || !o.text.trim()) throw new UsageError(`${file}: turn ${i + 1} has no "text"`);
    const time = typeof o.time === 'string' && !Number.isNaN(Date.parse(o.time)) ? new Date(o.time).toISOString() : undefined;
    const text = typeof o.speaker === 'string' ? `${o.speaker}: ${o.text}` : o.text;
    const parts = splitEventText(text, MAX_EVENT_CHARS);
    if (parts.length > 1) notes.split.push({ turn: i + 1, chars: text.length, parts: parts.length });
    return parts.map((part, k) => ({
      id: newId(),
      source: { kind: 'cli' as const, ref: `${path.basename(file)}#${i + 1}${parts.length > 1 ? `.${k + 1}` : ''}`, actor: typeof o.speaker === 'string' ? o.speaker : undefined },
      text: part,
      time: time ?? nowIso(),
      eventTime: time,
    }));
  });
}

/** Splits a text into parts of at most `max` characters, preferring paragraph, then line, then word boundaries. */
export function splitEventText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = window.lastIndexOf('\n\n');
    if (cut < max / 2) cut = window.lastIndexOf('\n');
    if (cut < max / 2) cut = window.lastIndexOf(' ');
    if (cut < max / 2) {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
    }
    parts.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) parts.push(rest);
  return parts;
}

export const ingestCommand: CliCommand = {
  name: 'ingest',
  summary: 'Feed a file of turns through extraction and the Memory Manager',
  usage: `memory-r1 ingest <turns.json|turns.jsonl|notes.txt>\n       memory-r1 ingest --locomo <locomo10.json> --sample <id> [--max-turns N]
  Turns longer than ${MAX_EVENT_CHARS} characters (capture's event limit) are split into several events; files
  over ${MAX_INGEST_BYTES / 1024 / 1024} MB, binary files and text that is not UTF-8 are refused. The run is one unit: \`memory-r1 undo\`
  reverts all of it. Exit code 1 when the model's output could not be used for some events (they are listed).
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const file = args.positionals[0];
    const notes: TurnsNotes = { split: [] };
    const events = locomoIngestEvents(args) ?? (file ? readTurns(file, notes) : undefined);
    if (!events) throw new UsageError('ingest needs a file (or --locomo <file> --sample <id>)');
    for (const s of notes.split) io.err(`memory-r1 ingest: turn ${s.turn} has ${s.chars} characters; split into ${s.parts} events of at most ${MAX_EVENT_CHARS}`);
    const engine = await openCliEngine(cliConfig(args, { endpoint: 'required' }));
    try {
      const run = engine.startRun();
      const unusable: string[] = [];
      let held = 0;
      let n = 0;
      for (const e of events) {
        const r = await engine.ingest(e, undefined, run);
        n++;
        io.out(`[${n}/${events.length}] ${r.facts.length} fact(s)${r.redactions ? `; redacted ${describeCounts(r.redactions)}` : ''}`);
        if (r.unusable) {
          unusable.push(`${e.source.ref ?? `event ${n}`}: ${r.unusable}`);
          io.err(`memory-r1 ingest: event ${n}: ${r.unusable}`);
        }
        for (const o of r.operations) io.out(`  ${formatOperation(o)}`);
        held += r.operations.filter((o) => o.held).length;
      }
      io.out(`bank now holds ${engine.bank.list().counts.active} active memories`);
      if (held) io.out(`${held} operation(s) are held for approval: see \`memory-r1 pending\``);
      if (unusable.length) {
        io.err(`memory-r1 ingest: the model's output could not be used for ${unusable.length} of ${events.length} event(s); nothing was stored for them. Ingest them again (a larger model, or a server with JSON output) once fixed.`);
        return 1;
      }
      return 0;
    } finally {
      await engine.bank.close();
    }
  },
};

/**
 * A text file, checked: at most `maxBytes`, not binary (NUL bytes), valid UTF-8. Decoding is strict:
 * invalid bytes are refused with their offset, never turned into U+FFFD.
 */
export function readText(file: string, maxBytes = MAX_INGEST_BYTES): string {
  let buf: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > maxBytes) throw new UsageError(`${file} is ${(size / 1024 / 1024).toFixed(1)} MB; the limit is ${(maxBytes / 1024 / 1024).toFixed(0)} MB. Split it into smaller files.`);
    buf = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `No such file: ${file}` : `Cannot read ${file}: ${(err as Error).message}`);
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) throw new UsageError(`${file} looks binary (a NUL byte at offset ${nul}); skipped. Give a text, JSON or JSON Lines file.`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    throw new UsageError(`${file} is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(buf)}); convert it, e.g. \`iconv -f latin1 -t utf-8\`.`);
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(buf: Buffer): number {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (!len) return i;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return buf.length;
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
    const cfg = cliConfig(args);
    const { folder, postgres: storage } = cfg.bank;
    if (storage) {
      // A shared bank: one transaction rewrites it; exports are files, scrubbed from a bank folder.
      if (args.positionals.length) throw new UsageError('with --postgres, scrub takes no export files (scrub them with --bank <folder>)');
      if (flag(args, 'backup')) throw new UsageError('--backup copies a bank folder; back up a shared bank with pg_dump (the dump still holds the secrets)');
      const pgOpts = { apply: args.flags.has('yes'), actor: process.env.USER };
      const rep = await scrubBank(cfg, { apply: false });
      if (!pgOpts.apply || !rep.total) {
        for (const l of formatScrubReport(rep)) io.out(l);
        if (rep.total) io.out('Dry run: nothing was changed. Run again with --yes to rewrite the bank; other clients keep what they loaded until they reopen it.');
        return 0;
      }
      const doneRep = await scrubBank(cfg, pgOpts);
      for (const l of formatScrubReport(doneRep)) io.out(l);
      if (doneRep.opId) io.out(`Recorded in the history as SCRUB (op ${doneRep.opId}).`);
      return 0;
    }
    const exports = args.positionals.map((f) => path.resolve(f));
    const apply = args.flags.has('yes');
    const backup = flag(args, 'backup');
    const report = await scrubBank(cfg, { exports, apply: false });
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
    const done = await scrubBank(cfg, { exports, apply: true, actor: process.env.USER });
    for (const l of formatScrubReport(done)) io.out(l);
    if (done.opId) io.out(`Recorded in the history as SCRUB (op ${done.opId}).`);
    return 0;
  },
};

function indent(text: string, pad: string): string {
  return text.split('\n').map((l) => pad + l).join('\n');
}
