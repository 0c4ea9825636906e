// The project's conventions, decisions and workflows as a generated section of the instruction files that
// coding agents read on every request (.github/copilot-instructions.md, AGENTS.md, CLAUDE.md, Cursor rules).
// The section lives between two markers; nothing outside them is ever changed. Surface-neutral: the extension
// syncs it as the bank changes, `memory-r1 instructions` prints or writes it, MCP serves it as a resource.
import type { MemoryBank } from '../bank/memoryBank';
import type { Memory } from '../types';
import { INSTRUCTION_KINDS, MEMORY_KINDS, type MemoryKind } from '../kinds';

/** Instruction files agents read, by the agent that reads them. A new target is one line. */
export interface InstructionTarget {
  id: string;
  /** Relative to the workspace folder. */
  path: string;
  label: string;
  /** What a new file starts with, before the section. */
  preamble?: string;
}

export const INSTRUCTION_TARGETS: readonly InstructionTarget[] = [
  { id: 'copilot', path: '.github/copilot-instructions.md', label: 'GitHub Copilot (.github/copilot-instructions.md)' },
  { id: 'agents', path: 'AGENTS.md', label: 'AGENTS.md (Codex, Jules, Copilot agents and others)' },
  { id: 'claude', path: 'CLAUDE.md', label: 'Claude Code (CLAUDE.md)' },
  // Cursor reads rules from .mdc files; their front matter makes this one apply to every request.
  { id: 'cursor', path: '.cursor/rules/project-memory.mdc', label: 'Cursor (.cursor/rules/project-memory.mdc)', preamble: '---\ndescription: Project conventions kept by Project Memory\nalwaysApply: true\n---\n\n' },
];

export const SECTION_START = '<!-- project-memory:start -->';
export const SECTION_END = '<!-- project-memory:end -->';
export const DEFAULT_MAX_CHARS = 4000;

export interface SectionOptions {
  /** The whole section's size budget in characters (markers included). Newest rules first; the rest are counted. */
  maxChars?: number;
  /** Which kinds to list (default: conventions, decisions, workflows). */
  kinds?: readonly MemoryKind[];
}

export interface RenderedSection {
  /** The section, markers included, ending with a newline. */
  text: string;
  /** Memories listed, in order. */
  listed: Memory[];
  /** Memories left out by the size budget. */
  omitted: number;
}

const when = (m: Memory): string => (m.eventTime ?? m.createdAt).slice(0, 10);

/** One memory as one list line: its text on one line, with nothing that could close the section or start markup. */
function line(m: Memory): string {
  const text = m.text
    .replace(/\s+/g, ' ')
    .replace(/<!--|-->/g, (x) => x.replace(/-/g, '\u2011'))
    .trim();
  return `- ${text} _(${when(m)})_`;
}

/**
 * The generated section for the active memories given: grouped by kind (in the kinds' order), newest first
 * within a group, dated. Only active memories are listed, so a superseded rule leaves the section as soon as
 * its replacement is stored. The budget keeps the newest lines and says how many were left out.
 */
export function renderInstructionSection(memories: readonly Memory[], opts: SectionOptions = {}): RenderedSection {
  const kinds = opts.kinds ?? INSTRUCTION_KINDS;
  const maxChars = Math.max(400, opts.maxChars ?? DEFAULT_MAX_CHARS);
  const wanted = memories.filter((m) => m.status === 'active' && m.kind && kinds.includes(m.kind));
  // Newest first overall decides what the budget keeps; pinned memories are kept before the rest.
  const byRecency = [...wanted].sort((a, b) => Number(b.pinned) - Number(a.pinned) || when(b).localeCompare(when(a)) || b.createdAt.localeCompare(a.createdAt));
  const head = [
    SECTION_START,
    '## Project conventions (from Project Memory)',
    '',
    "Generated from this project's memory: the current conventions, decisions and workflows, newest first; replaced rules are left out. Follow them when writing code here. Edit the memories, not this section (it is rewritten when they change).",
  ];
  const tailFor = (omitted: number) => [...(omitted ? ['', `_${omitted} more in Project Memory (memory_conventions tool, or the Project Memory panel)._`] : []), SECTION_END];
  const render = (keep: Set<Memory>): string => {
    const body: string[] = [];
    for (const k of MEMORY_KINDS) {
      if (!kinds.includes(k.id)) continue;
      const group = byRecency.filter((m) => m.kind === k.id && keep.has(m));
      if (!group.length) continue;
      body.push('', `### ${k.heading}`, ...group.map(line));
    }
    if (!keep.size) body.push('', '_No conventions recorded yet._');
    return [...head, ...body, ...tailFor(byRecency.length - keep.size)].join('\n') + '\n';
  };
  const keep = new Set<Memory>();
  for (const m of byRecency) {
    keep.add(m);
    if (render(keep).length > maxChars) {
      keep.delete(m);
      break;
    }
  }
  const listed = byRecency.filter((m) => keep.has(m));
  return { text: render(keep), listed, omitted: byRecency.length - keep.size };
}

/**
 * The section for a bank as it is now: its active memories of the listed kinds, through the bank's privacy
 * boundary (a bank from an older version may still hold a secret). What the CLI, MCP, the extension and the
 * demo all show.
 */
export function bankInstructionSection(bank: MemoryBank, opts: SectionOptions = {}): RenderedSection {
  const memories = bank.list({ status: 'active', kinds: [...(opts.kinds ?? INSTRUCTION_KINDS)] }).items.map((m) => ({ ...m, text: bank.privacy.text(m.text) }));
  return renderInstructionSection(memories, opts);
}

export class InstructionFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstructionFileError';
  }
}

/** Where the section is in a file's text: the first byte of its start marker and the byte after its end marker's line. */
export function findSection(content: string, file = 'the file'): { start: number; end: number } | undefined {
  const starts = indicesOf(content, SECTION_START);
  const ends = indicesOf(content, SECTION_END);
  if (!starts.length && !ends.length) return undefined;
  if (starts.length !== 1 || ends.length !== 1 || ends[0] < starts[0]) {
    throw new InstructionFileError(
      `${file} has ${starts.length} "${SECTION_START}" and ${ends.length} "${SECTION_END}" markers${starts.length === 1 && ends.length === 1 ? ' in the wrong order' : ''}; ` +
        'Project Memory writes only between one pair of them. Fix or remove the markers, then sync again.',
    );
  }
  let end = ends[0] + SECTION_END.length;
  if (content.startsWith('\r\n', end)) end += 2;
  else if (content[end] === '\n') end += 1;
  return { start: starts[0], end };
}

function indicesOf(text: string, needle: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) out.push(i);
  return out;
}

/**
 * The file's new text with the section written in: between the existing markers (every byte outside them
 * kept), or appended after a blank line when the file has none, or as a new file (with the target's preamble).
 * The section's line endings follow the file's.
 */
export function mergeSection(content: string | undefined, section: string, opts: { file?: string; preamble?: string } = {}): { text: string; changed: boolean } {
  if (content === undefined) return { text: (opts.preamble ?? '') + section, changed: true };
  const crlf = /\r\n/.test(content) && !/(^|[^\r])\n/.test(content);
  const s = crlf ? section.replace(/\n/g, '\r\n') : section;
  const at = findSection(content, opts.file);
  if (at) {
    const text = content.slice(0, at.start) + s + content.slice(at.end);
    return { text, changed: text !== content };
  }
  const nl = crlf ? '\r\n' : '\n';
  const sep = content.length === 0 ? '' : content.endsWith(nl + nl) ? '' : content.endsWith(nl) ? nl : nl + nl;
  return { text: content + sep + s, changed: true };
}

/** The file's text without the section (sync turned off), or undefined when it has none. */
export function removeSection(content: string, file?: string): string | undefined {
  const at = findSection(content, file);
  if (!at) return undefined;
  return content.slice(0, at.start) + content.slice(at.end);
}

export function targetFor(relPath: string): InstructionTarget | undefined {
  const norm = relPath.replace(/\\/g, '/').replace(/^\.\//, '');
  return INSTRUCTION_TARGETS.find((t) => t.path === norm);
}
