import { KIND_IDS, parseKind, type MemoryKind } from '../core/kinds';

/** A small argument parser: `--flag value`, `--flag=value`, `--switch`, and positionals. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[], switches: ReadonlySet<string> = new Set()): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (switches.has(a.slice(2)) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags.set(a.slice(2), true);
      else flags.set(a.slice(2), argv[++i]);
    } else positionals.push(a);
  }
  return { positionals, flags };
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export function intFlag(args: ParsedArgs, name: string, dflt: number): number {
  const v = flag(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** `--kind convention,decision`: memory kinds, checked against the known ones. */
export function kindsFlag(args: ParsedArgs, name = 'kind'): MemoryKind[] | undefined {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  const kinds = v.split(',').map((k) => k.trim()).filter(Boolean);
  const bad = kinds.filter((k) => !parseKind(k));
  if (bad.length || !kinds.length) throw new UsageError(`--${name} takes kinds from: ${KIND_IDS.join(', ')} (got "${v}")`);
  return [...new Set(kinds.map((k) => parseKind(k)!))];
}
