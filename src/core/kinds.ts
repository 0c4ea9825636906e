// What a memory is about. Extraction labels each fact with one kind; the panel, the CLI, the tools and MCP
// filter by it, and the instruction-file sync delivers the kinds that tell an agent how to write code.
// A new kind is one line in MEMORY_KINDS (`heading`: its group in the instructions section). `asked` is the
// word the model labels with: small models pick a self-describing label ("small_talk_or_personal_or_plans")
// far more reliably than a bare one ("other").

export const MEMORY_KINDS = [
  { id: 'convention', heading: 'Conventions', asked: 'code_rule', label: 'Convention', hint: 'a rule the team set for its code: naming, exports, imports, docstrings, errors, logging, libraries to use or avoid', instructions: true },
  { id: 'decision', heading: 'Decisions', asked: 'technical_choice', label: 'Decision', hint: 'a technical choice the team made for the project (a library, a tool, a design) and its reason', instructions: true },
  { id: 'workflow', heading: 'Commands and workflows', asked: 'build_test_or_deploy_command', label: 'Command / workflow', hint: 'a command or procedure to build, test, run, release or deploy the project', instructions: true },
  { id: 'architecture', heading: 'Architecture', asked: 'architecture_or_requirement', label: 'Architecture', hint: 'where something lives, how parts fit together, versions and requirements', instructions: false },
  { id: 'ownership', heading: 'Ownership', asked: 'who_owns_what', label: 'Ownership', hint: 'who owns, maintains, reviews or decides what', instructions: false },
  { id: 'bugfix', heading: 'Bugs and fixes', asked: 'bug_and_fix', label: 'Bug / fix', hint: 'a bug, its cause and its fix', instructions: false },
  { id: 'other', heading: 'Other', asked: 'small_talk_or_personal_or_plans', label: 'Other', hint: 'anything else: people, their lives and plans, meetings, lunches, events, who said or asked what', instructions: false },
] as const;

export type MemoryKind = (typeof MEMORY_KINDS)[number]['id'];

export const KIND_IDS: readonly MemoryKind[] = MEMORY_KINDS.map((k) => k.id);

/** The kinds the instruction files carry: how code in this project is to be written. */
export const INSTRUCTION_KINDS: readonly MemoryKind[] = MEMORY_KINDS.filter((k) => k.instructions).map((k) => k.id);

/** The labels the model is asked to choose from (see `asked`). */
export const ASKED_KIND_LABELS: readonly string[] = MEMORY_KINDS.map((k) => k.asked);

export function isMemoryKind(x: unknown): x is MemoryKind {
  return typeof x === 'string' && (KIND_IDS as readonly string[]).includes(x);
}

/** A kind from a model's or a user's word for it ("bug/fix", "Command", "workflow"), or undefined. */
export function parseKind(x: unknown): MemoryKind | undefined {
  if (typeof x !== 'string') return undefined;
  const w = x.trim().toLowerCase();
  if (isMemoryKind(w)) return w;
  const asked = MEMORY_KINDS.find((k) => k.asked === w);
  if (asked) return asked.id;
  if (/^(bug|fix|bug ?\/ ?fix|bugfix)$/.test(w)) return 'bugfix';
  if (/^(command|commands|command ?\/ ?workflow|workflows?)$/.test(w)) return 'workflow';
  if (/^(conventions|rule|rules|style)$/.test(w)) return 'convention';
  if (/^decisions$/.test(w)) return 'decision';
  if (/^owners?$/.test(w)) return 'ownership';
  return undefined;
}

export function kindLabel(kind: MemoryKind | undefined): string {
  return MEMORY_KINDS.find((k) => k.id === kind)?.label ?? 'Unlabelled';
}

/** Does a memory of `kind` pass a filter on `wanted`? Unlabelled memories (older banks) count as `other`. */
export function kindMatches(kind: MemoryKind | undefined, wanted: readonly MemoryKind[] | undefined): boolean {
  return !wanted?.length || wanted.includes(kind ?? 'other');
}
