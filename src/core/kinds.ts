// What a memory is about. Extraction labels each fact with one kind; the panel, the CLI, the tools and MCP
// filter by it, and the instruction-file sync delivers the kinds that tell an agent how to write code.
// A new kind is one line in MEMORY_KINDS.

export const MEMORY_KINDS = [
  { id: 'convention', label: 'Convention', hint: 'a rule for writing code: naming, style, structure, what to use or avoid', instructions: true },
  { id: 'decision', label: 'Decision', hint: 'a choice the team made (a library, a design, a policy) and its reason', instructions: true },
  { id: 'workflow', label: 'Command / workflow', hint: 'how to build, test, run, release or deploy; a command and what it does', instructions: true },
  { id: 'architecture', label: 'Architecture', hint: 'where something lives, how parts fit together, versions and requirements', instructions: false },
  { id: 'ownership', label: 'Ownership', hint: 'who owns, maintains, reviews or decides what', instructions: false },
  { id: 'bugfix', label: 'Bug / fix', hint: 'a bug, its cause and its fix', instructions: false },
  { id: 'other', label: 'Other', hint: 'anything else: people, plans, dates, events', instructions: false },
] as const;

export type MemoryKind = (typeof MEMORY_KINDS)[number]['id'];

export const KIND_IDS: readonly MemoryKind[] = MEMORY_KINDS.map((k) => k.id);

/** The kinds the instruction files carry: how code in this project is to be written. */
export const INSTRUCTION_KINDS: readonly MemoryKind[] = MEMORY_KINDS.filter((k) => k.instructions).map((k) => k.id);

export function isMemoryKind(x: unknown): x is MemoryKind {
  return typeof x === 'string' && (KIND_IDS as readonly string[]).includes(x);
}

/** A kind from a model's or a user's word for it ("bug/fix", "Command", "workflow"), or undefined. */
export function parseKind(x: unknown): MemoryKind | undefined {
  if (typeof x !== 'string') return undefined;
  const w = x.trim().toLowerCase();
  if (isMemoryKind(w)) return w;
  if (/^(bug|fix|bug ?\/ ?fix|bugfix)$/.test(w)) return 'bugfix';
  if (/^(command|commands|command ?\/ ?workflow|workflows?)$/.test(w)) return 'workflow';
  if (/^(conventions|rule|rules|style)$/.test(w)) return 'convention';
  if (/^(decisions|owner|owners)$/.test(w)) return w.startsWith('owner') ? 'ownership' : 'decision';
  return undefined;
}

export function kindLabel(kind: MemoryKind | undefined): string {
  return MEMORY_KINDS.find((k) => k.id === kind)?.label ?? 'Unlabelled';
}

/** Does a memory of `kind` pass a filter on `wanted`? Unlabelled memories (older banks) count as `other`. */
export function kindMatches(kind: MemoryKind | undefined, wanted: readonly MemoryKind[] | undefined): boolean {
  return !wanted?.length || wanted.includes(kind ?? 'other');
}
