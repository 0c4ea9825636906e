import * as path from 'node:path';
import type { CliCommand } from '../command';
import { UsageError, flag, intFlag } from '../args';
import { COMMON_FLAGS_HELP, cliConfig, openCliBank, openCliEngine } from '../context';
import { describeEvidence } from '../../core/evidence/evidence';
import { FreshnessChecker } from '../../core/evidence/freshness';
import { FolderWorkspace } from '../../core/evidence/workspace';
import { applyConsolidation, planConsolidation } from '../../core/consolidation';

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'Check memories against the workspace: cite what they name, flag what changed, review flagged ones',
  usage: `memory-r1 check [--workspace <dir>] [--paths a,b] [--show] [--review] [--expiring <days>] [--expire <days>]
  Cites what each active memory names in the workspace (files, names in them, dependency and tool
  versions, scripts and make targets, JSON settings, its commit), re-checks it, and flags a memory whose
  evidence changed ("needs review"). No model is called.
  --workspace <dir>   the project folder (default: the current folder)
  --paths a,b         check only memories citing these paths (as a save or rename would)
  --show              print every cited memory with its evidence
  --review            ask the Memory Manager about each flagged memory: keep, rewrite (the old text is kept
                      as history) or retire; every change can be undone with \`memory-r1 undo\`
  --expiring <days>   list active, unpinned memories neither changed, confirmed nor used for that many days
  --expire <days>     retire them (one batch: one \`memory-r1 undo\` brings them back)
${COMMON_FLAGS_HELP}`,
  switches: ['show', 'review'],
  async run(args, io) {
    const review = args.flags.get('review') === true;
    const cfg = cliConfig(args, review ? { endpoint: 'required' } : {});
    const workspace = new FolderWorkspace(path.resolve(flag(args, 'workspace') ?? '.'));
    const engine = review ? await openCliEngine(cfg) : undefined;
    const bank = engine?.bank ?? (await openCliBank(cfg));
    try {
      const checker = new FreshnessChecker(bank);
      const paths = flag(args, 'paths')?.split(',').map((p) => p.trim()).filter(Boolean);
      const started = performance.now();
      const report = await checker.check(workspace, { paths });
      const ms = performance.now() - started;
      const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
      io.out(`Checked ${n(report.checked, 'memory', 'memories')} with evidence in ${workspace.root} (${report.cited} newly cited, ${n(report.reads, 'file', 'files')} read, ${ms.toFixed(0)} ms).`);
      for (const f of report.flagged) io.out(`needs review  ${f.memoryId.slice(0, 8)}  ${bank.get(f.memoryId)?.text}\n    ${f.changes.join('\n    ')}`);
      for (const id of report.cleared) io.out(`holds again   ${id.slice(0, 8)}  ${bank.get(id)?.text}`);
      const flagged = checker.ledger.flagged();
      io.out(`${flagged.length} memor${flagged.length === 1 ? 'y needs' : 'ies need'} review.`);
      if (args.flags.get('show') === true) {
        for (const id of checker.ledger.cited()) {
          const m = bank.get(id);
          if (m?.status !== 'active') continue;
          io.out(`${m.id.slice(0, 8)}  ${m.text}`);
          for (const e of checker.ledger.state(id)!.evidence) io.out(`    ${e.kind.padEnd(8)} ${describeEvidence(e)}`);
        }
      }
      if (engine && flagged.length) {
        io.out(`Reviewing ${flagged.length} flagged memor${flagged.length === 1 ? 'y' : 'ies'} with the Memory Manager...`);
        const outcomes = await checker.review(engine, workspace, {
          onProgress: (done, total, o) => io.err(`memory-r1 check: reviewed ${done}/${total}${o ? `: ${o.decision}` : ''}`),
        });
        for (const o of outcomes) {
          const what = o.decision === 'updated' ? `rewritten as ${o.replacedBy?.slice(0, 8)}: "${o.text}"` : o.decision === 'failed' ? `not reviewed: ${o.error}` : o.decision === 'held' ? 'held for approval (memory-r1 pending)' : o.decision;
          io.out(`${o.memoryId.slice(0, 8)}  ${what}`);
        }
      }
      const expiringDays = flag(args, 'expiring');
      const expireDays = flag(args, 'expire');
      if (expiringDays !== undefined || expireDays !== undefined) {
        const days = intFlag(args, expireDays !== undefined ? 'expire' : 'expiring', 0);
        if (days < 1) throw new UsageError('--expiring/--expire need a number of days (1 or more)');
        const due = checker.expiring(days);
        io.out(`${due.length} memor${due.length === 1 ? 'y was' : 'ies were'} neither changed, confirmed nor used for ${days} days${due.length ? ':' : '.'}`);
        for (const m of due) io.out(`  ${m.id.slice(0, 8)}  ${m.text}`);
        if (expireDays !== undefined && due.length) {
          const recs = await checker.expire(days);
          io.out(`Retired ${recs.length}; \`memory-r1 undo\` brings them back.`);
        }
      }
      return 0;
    } finally {
      await bank.close();
    }
  },
};

export const consolidateCommand: CliCommand = {
  name: 'consolidate',
  summary: 'Let the Memory Manager merge duplicates and retire memories that later ones replaced (preview first)',
  usage: `memory-r1 consolidate [--apply]
  Puts each active memory, oldest first, to the Memory Manager against the older memories related to it:
  a duplicate is retired (the older one stays), an older memory it replaces is superseded by it (kept as
  history). Pinned memories are never retired. Without --apply, prints the plan and changes nothing; with
  --apply, applies it as one batch: one \`memory-r1 undo\` reverts the whole pass.
${COMMON_FLAGS_HELP}`,
  switches: ['apply'],
  async run(args, io) {
    const engine = await openCliEngine(cliConfig(args, { endpoint: 'required' }));
    try {
      const plan = await planConsolidation(engine, { onProgress: (done, total) => io.err(`memory-r1 consolidate: ${done}/${total}`) });
      for (const s of plan.steps) {
        io.out(
          s.kind === 'duplicate'
            ? `retire ${s.retire.id.slice(0, 8)} "${s.retire.text}"  (the same as ${s.keep.id.slice(0, 8)} "${s.keep.text}")`
            : `supersede ${s.retire.id.slice(0, 8)} "${s.retire.text}"  (replaced by ${s.keep.id.slice(0, 8)} "${s.keep.text}")`,
        );
      }
      io.out(`${plan.steps.length} change(s) from ${plan.examined} memories examined${plan.unreadable ? ` (${plan.unreadable} answers could not be read; those memories are left as they are)` : ''}.`);
      if (args.flags.get('apply') === true && plan.steps.length) {
        const recs = await applyConsolidation(engine, plan.steps);
        io.out(`Applied ${recs.length} operation(s); \`memory-r1 undo\` reverts the whole pass.`);
      } else if (plan.steps.length) io.out('Nothing changed: run with --apply to apply this plan.');
      return 0;
    } finally {
      await engine.bank.close();
    }
  },
};
