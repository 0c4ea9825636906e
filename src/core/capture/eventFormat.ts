// Turns raw workspace activity into compact event texts for the fact extractor. Never imports vscode.
import type { CaptureEvent, SourceKind, SourceRef } from '../types';
import { newId } from '../util/text';
import { DEFAULT_LIMITS, clampEventText } from '../privacy/limits';

/** Longest event text handed to the extractor; longer texts are cut with a marker. */
export const MAX_EVENT_CHARS = DEFAULT_LIMITS.maxEventChars;

export function makeEvent(kind: SourceKind, text: string, ref?: string, actor?: string, time = new Date()): CaptureEvent {
  const source: SourceRef = { kind };
  if (ref) source.ref = ref;
  if (actor) source.actor = actor;
  return { id: newId(), source, text: clip(text, MAX_EVENT_CHARS), time: time.toISOString() };
}

export function clip(text: string, max: number): string {
  return clampEventText(text, max).text;
}

export interface LineChange {
  added: number;
  removed: number;
  /** Changed region of the new text (with a little context), for the extractor to read. */
  excerpt: string;
}

/**
 * A cheap line diff: trims the common head and tail and reports the middle. Good enough to tell the
 * extractor what a save changed without a full diff algorithm.
 */
export function summarizeChange(before: string | undefined, after: string, maxExcerptLines = 40): LineChange {
  const a = before === undefined ? [] : before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const removedLines = a.slice(head, a.length - tail);
  const addedLines = b.slice(head, b.length - tail);
  const excerptLines: string[] = [];
  for (const l of removedLines.slice(0, maxExcerptLines / 2)) excerptLines.push(`- ${l}`);
  for (const l of addedLines.slice(0, maxExcerptLines - excerptLines.length)) excerptLines.push(`+ ${l}`);
  const hidden = removedLines.length + addedLines.length - excerptLines.length;
  if (hidden > 0) excerptLines.push(`… ${hidden} more changed lines`);
  return { added: addedLines.length, removed: removedLines.length, excerpt: excerptLines.join('\n') };
}

export function formatSaveEvent(relPath: string, languageId: string, change: LineChange, isNew: boolean): string {
  const what = isNew ? `Created ${relPath}` : `Edited ${relPath}`;
  return `${what} (${languageId}; +${change.added} −${change.removed} lines)\n${change.excerpt}`.trim();
}

export interface CommitInfo {
  sha: string;
  author: string;
  subject: string;
  body: string;
  /** `git show --stat` style lines, e.g. "src/a.ts | 4 ++--". */
  files: string[];
  branch?: string;
}

/** A commit that changes at most this many files names them; a larger one only counts them. */
const COMMIT_FILES_SHOWN = 3;

/**
 * A commit as the extractor reads it: subject, body, and the changed files (names only, a few). A `--stat`
 * list drew small models into turning each file name into a "fact" (on the bank-quality dev streams a 1.5B
 * model wrote "The project uses .eslintrc.js …" for every line and missed the commit's one real claim).
 * What only describes the commit is left out, because a small model narrates whatever it is shown ("The
 * commit was made by …", "The commit changes 10 files.", "… co-authored by <e-mail>"): the author, the
 * count of files, and the message's trailers (`Co-authored-by:`, `Signed-off-by:` …, which also carry
 * e-mail addresses). The commit's sha is its source reference.
 */
export function formatCommitEvent(c: CommitInfo): string {
  const lines = [`Git commit ${c.sha.slice(0, 10)}${c.branch ? ` on ${c.branch}` : ''}: ${c.subject}`];
  const body = withoutTrailers(c.body);
  if (body) lines.push(body);
  const names = c.files.map((f) => f.split('|')[0].trim()).filter((f) => f && !/^\d+ files? changed/.test(f));
  if (names.length && names.length <= COMMIT_FILES_SHOWN) lines.push(`Changed files: ${names.join(', ')}`);
  return lines.join('\n');
}

/**
 * A git trailer line (`git interpret-trailers`): a hyphenated token (`Co-authored-by`, `Signed-off-by`,
 * `Change-Id`) or a person with an e-mail address, a colon, a value. A one-word label in prose ("Why: …",
 * "See: https://…") is not one.
 */
const TRAILER_LINE = /^(?:[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+:\s+\S.*|[A-Za-z][A-Za-z0-9-]*:\s+[^<\n]*<[^>\s]+@[^>\s]+>\s*)$/;

/** The message body without its trailer block: the last paragraph, when every line of it is a trailer. */
export function withoutTrailers(body: string): string {
  const paragraphs = body.trim().split(/\n\s*\n/);
  const last = paragraphs[paragraphs.length - 1]?.split('\n').map((l) => l.trim()).filter(Boolean) ?? [];
  if (last.length && last.every((l) => TRAILER_LINE.test(l))) paragraphs.pop();
  return paragraphs.join('\n\n').trim();
}

/** Commands that carry no project knowledge on their own. */
const TRIVIAL_COMMANDS = /^\s*(ls|ll|la|dir|cd|pwd|clear|cls|exit|history|echo|cat|less|more|head|tail|man|which|whoami|true|false)(\s|$)/;

export function isTrivialCommand(commandLine: string): boolean {
  return !commandLine.trim() || TRIVIAL_COMMANDS.test(commandLine);
}

/**
 * A terminal command worth an event: not a trivial one, and not one that simply succeeded. A routine
 * command that worked (an install, a build, a test run, `git status`) is transient output: on real project
 * histories a small extractor turned each into a "fact" ("the project uses pip to install the package").
 * A failure (with its output) can carry a bug and its fix, so it is kept.
 */
export function isCapturedCommand(commandLine: string, exitCode: number | undefined): boolean {
  return !isTrivialCommand(commandLine) && exitCode !== 0;
}

/** A save that changed only whitespace or line breaks (a reformat): no event. */
export function isWhitespaceOnlyChange(before: string | undefined, after: string): boolean {
  return before !== undefined && before !== after && before.replace(/\s+/g, '') === after.replace(/\s+/g, '');
}

export function formatTerminalEvent(commandLine: string, exitCode: number | undefined, cwd: string | undefined, output?: string): string {
  const status = exitCode === undefined ? 'exit code unknown' : exitCode === 0 ? 'succeeded (exit 0)' : `failed (exit ${exitCode})`;
  let text = `Ran \`${commandLine.trim()}\`${cwd ? ` in ${cwd}` : ''}: ${status}`;
  if (output?.trim()) text += `\nOutput (tail):\n${tailLines(output, 20)}`;
  return text;
}

export interface DiagnosticInfo {
  relPath: string;
  line: number;
  message: string;
  source?: string;
  code?: string;
}

export function formatDiagnosticFixedEvent(d: DiagnosticInfo, openForMs: number): string {
  const origin = [d.source, d.code].filter(Boolean).join(' ');
  const took = openForMs >= 60_000 ? `${Math.round(openForMs / 60_000)} min` : `${Math.max(1, Math.round(openForMs / 1000))} s`;
  return `Fixed an error in ${d.relPath}:${d.line}${origin ? ` (${origin})` : ''} after ${took}: ${d.message}`;
}

export function formatChatTurn(question: string, answer: string): string {
  return `User asked: ${question.trim()}\nAssistant answered: ${clip(answer.trim(), 2500)}`;
}

function tailLines(text: string, n: number): string {
  const lines = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
