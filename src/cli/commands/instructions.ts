import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand } from '../command';
import { UsageError, flag, intFlag, kindsFlag } from '../args';
import { COMMON_FLAGS_HELP, cliConfig, openCliBank } from '../context';
import { DEFAULT_MAX_CHARS, INSTRUCTION_TARGETS, InstructionFileError, bankInstructionSection, mergeSection, targetFor } from '../../core/conventions/instructions';
import { writeFileAtomic } from '../../core/util/atomicFile';

export const instructionsCommand: CliCommand = {
  name: 'instructions',
  summary: "Print or write the project's conventions as a generated section of agents' instruction files",
  usage: `memory-r1 instructions [--write <file,...>] [--workspace <dir>] [--max-chars N] [--kind convention,decision,workflow]
  Prints the section listing the active conventions, decisions and workflows (newest first, dated;
  replaced rules are left out), between <!-- project-memory:start/end --> markers.
  --write <file,...>  write it into these files (relative to --workspace), between the markers; nothing
                      outside them changes; a file without markers gets the section appended. Known files:
                      ${INSTRUCTION_TARGETS.map((t) => t.path).join(', ')}
  --workspace <dir>   the project folder (default: the current folder)
  --max-chars N       the section's size budget (default ${DEFAULT_MAX_CHARS}); the newest rules are kept
  --kind ...          which kinds to list (default: convention, decision, workflow)
${COMMON_FLAGS_HELP}`,
  async run(args, io) {
    const bank = await openCliBank(cliConfig(args));
    try {
      const section = bankInstructionSection(bank, { maxChars: intFlag(args, 'max-chars', DEFAULT_MAX_CHARS), kinds: kindsFlag(args) });
      const files = flag(args, 'write')?.split(',').map((f) => f.trim()).filter(Boolean);
      if (!files) {
        io.out(section.text.trimEnd());
        return 0;
      }
      if (!files.length) throw new UsageError('--write needs at least one file');
      const root = path.resolve(flag(args, 'workspace') ?? '.');
      const listed = `${section.listed.length} rule${section.listed.length === 1 ? '' : 's'}${section.omitted ? `, ${section.omitted} left out by the size budget` : ''}`;
      let failed = 0;
      for (const rel of files) {
        const file = path.resolve(root, rel);
        if (path.relative(root, file).startsWith('..')) throw new UsageError(`${rel} is outside the workspace ${root}`);
        const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
        try {
          const merged = mergeSection(before, section.text, { file: rel, preamble: targetFor(rel)?.preamble });
          if (!merged.changed) {
            io.out(`${rel}: up to date (${listed})`);
            continue;
          }
          fs.mkdirSync(path.dirname(file), { recursive: true });
          writeFileAtomic(file, merged.text);
          io.out(`${rel}: ${before === undefined ? 'created' : 'updated'} (${listed})`);
        } catch (err) {
          if (!(err instanceof InstructionFileError)) throw err;
          io.err(`memory-r1 instructions: ${err.message}`);
          failed++;
        }
      }
      return failed ? 1 : 0;
    } finally {
      await bank.close();
    }
  },
};
