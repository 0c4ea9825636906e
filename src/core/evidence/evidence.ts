// Evidence: what a memory says that the workspace can confirm. Found without a model, from the memory's
// text and the workspace as it is when the memory is cited; checked again when files change. A check
// flags only what contradicts the memory as written: a cited path that is gone, a version it names that
// the manifest no longer has, a script it names that was removed or no longer runs the tool it names.
import { createHash } from 'node:crypto';
import type { SourceRef } from '../types';
import { normalisePath, type WorkspaceReader } from './workspace';

export type Evidence =
  /** A file or folder the memory names. `hash` (files only) shows whether it was edited since. */
  | { kind: 'file'; path: string; hash?: string }
  /** A name the memory mentions that the cited file defines or uses. */
  | { kind: 'symbol'; path: string; name: string; defines?: boolean }
  /** A dependency or tool version: manifest key and value; `claim` is the version the memory itself names. */
  | { kind: 'version'; manifest: string; key: string; value: string; claim?: string }
  /** A script or make target the memory names; `words` are the memory's words its command contained. */
  | { kind: 'script'; manifest: string; name: string; value: string; words?: string[] }
  /** A configuration value in a cited JSON file. */
  | { kind: 'config'; path: string; key: string; value: string }
  /** Keys or values of a cited configuration file (YAML, TOML, INI, JSON5) that the memory names. */
  | { kind: 'mention'; path: string; words: string[] }
  /** The commit the memory came from. */
  | { kind: 'commit'; sha: string };

export type EvidenceKind = Evidence['kind'];

/** Reads each path once per check: a validation of many memories reads `package.json` once. */
export class CachedReader {
  private texts = new Map<string, string | undefined>();
  private kinds = new Map<string, 'file' | 'dir' | undefined>();
  reads = 0;

  constructor(readonly ws: WorkspaceReader) {}

  kind(p: string): 'file' | 'dir' | undefined {
    if (!this.kinds.has(p)) this.kinds.set(p, this.ws.kind(p));
    return this.kinds.get(p);
  }

  read(p: string): string | undefined {
    if (!this.texts.has(p)) {
      this.reads++;
      this.texts.set(p, this.ws.read(p));
    }
    return this.texts.get(p);
  }

  private parsed = new Map<string, Record<string, unknown> | undefined>();

  json(p: string): Record<string, unknown> | undefined {
    if (this.parsed.has(p)) return this.parsed.get(p);
    const text = this.read(p);
    const v = text === undefined ? undefined : parseJsonc(text);
    const out = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    this.parsed.set(p, out);
    return out;
  }

  /** Computed once per check: a value derived from the files (the Python requirements, a tool's pins). */
  private derived = new Map<string, unknown>();
  memo<T>(key: string, make: () => T): T {
    if (!this.derived.has(key)) this.derived.set(key, make());
    return this.derived.get(key) as T;
  }
}

/**
 * JSON as configuration files write it (tsconfig.json, .vscode/settings.json): comments and trailing commas
 * allowed. Undefined when it does not parse (a file mid-edit).
 */
export function parseJsonc(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Strip comments outside strings, then trailing commas.
    const stripped = text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m, str: string | undefined) => str ?? '').replace(/,(\s*[}\]])/g, '$1');
    try {
      return JSON.parse(stripped);
    } catch {
      return undefined;
    }
  }
}

export function fileHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The paths whose change can change this evidence (for the index that picks what a save re-checks). */
export function evidencePaths(e: Evidence): string[] {
  switch (e.kind) {
    case 'file':
    case 'symbol':
    case 'config':
    case 'mention':
      return [e.path];
    case 'version': {
      // A pin can move between the files that hold it (setup.cfg to pyproject.toml): a change to any of them re-checks it.
      const tool = toolOf(e);
      if (tool) return [...new Set(tool.sources.map((s) => s.manifest))];
      return PYTHON_DEP_FILES.includes(e.manifest) ? PYTHON_DEP_FILES : [e.manifest];
    }
    case 'script':
      return [e.manifest];
    case 'commit':
      return [];
  }
}

export function describeEvidence(e: Evidence): string {
  switch (e.kind) {
    case 'file':
      return e.path;
    case 'symbol':
      return e.defines ? `${e.path} defines ${e.name}` : `${e.name} in ${e.path}`;
    case 'version':
      return `${e.manifest} ${e.key} = ${e.value}`;
    case 'script':
      return `${e.manifest} ${e.name}: ${e.value}`;
    case 'config':
      return `${e.path} ${e.key} = ${e.value}`;
    case 'mention':
      return `${e.path} mentions ${e.words.join(', ')}`;
    case 'commit':
      return `commit ${e.sha.slice(0, 10)}`;
  }
}

// ------------------------------------------------------------------ finding evidence

/** A path as people write it: with a folder ("packages/vite", "src/"), or a file name with an extension ("README.md", ".nvmrc"). */
const PATH_RE = /(?:^|[\s`'"(\[<])((?:\.{0,2}\/)?(?:(?:[\w@.+-]+\/)+[\w@+-][\w@.+-]*\/?|(?:[\w@.+-]+\/)*[\w@+-]?[\w@.+-]*(?:\/|\.[A-Za-z0-9]{1,10})))(?=$|[\s`'",;:)\]>!?]|\.(?:\s|$))/g;
const IDENT_RE = /[`'"]([A-Za-z_$][\w$.-]*)(?:\(\))?[`'"]|\b([A-Za-z_$][\w$]*)\(\)|\b([a-z]+[A-Z][\w$]*|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[a-z][a-z0-9]*_[a-z0-9_]+)\b/g;
/** A version written right after a name: "React 18", "vite@5", "lint-staged is on v15", "Werkzeug >= 2.2", "pino version 9". */
const VERSION_RE = /^\s*(?:(?:is|are|on|at|of|uses?|version|v(?=\d)|@|==?|>=|\^|~)\s*){0,3}(\d+(?:\.\d+){0,2}(?:\.x)?)\b/i;
const SCRIPT_RE = /\b(npm|pnpm|yarn|bun)\s+(?:run\s+|run-script\s+)?([\w:.-]+)/gi;
const MAKE_RE = /\bmake\s+([\w.-]+)/g;
/** Package-manager words that are commands of their own, not scripts. */
const PM_COMMANDS = new Set(['install', 'i', 'ci', 'add', 'remove', 'uninstall', 'update', 'upgrade', 'publish', 'init', 'exec', 'dlx', 'link', 'pack', 'audit', 'outdated', 'why', 'list', 'ls', 'login', 'version', 'config', 'create', 'x']);

/** Where Python projects declare their dependencies. */
const PYTHON_DEP_FILES = ['requirements.txt', 'pyproject.toml', 'setup.cfg', 'setup.py'];

const DEP_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

interface ToolSpec {
  /** How the memory names the tool, followed by a version. */
  mention: RegExp;
  /** Where the workspace pins it: [manifest, key, read the value]. */
  sources: { manifest: string; key: string; value: (r: CachedReader) => string | undefined }[];
}

const firstLine = (text: string | undefined) => text?.split(/\r?\n/).find((l) => l.trim() && !l.trim().startsWith('#'))?.trim();
const toolVersionsEntry = (r: CachedReader, tool: string) => r.read('.tool-versions')?.match(new RegExp(`^${tool}\\s+(\\S+)`, 'm'))?.[1];
const dockerFrom = (r: CachedReader, image: string) => r.read('Dockerfile')?.match(new RegExp(`^\\s*FROM\\s+(?:--platform=\\S+\\s+)?(?:[\\w./-]+/)?${image}:(\\S+)`, 'im'))?.[1];
const tomlString = (r: CachedReader, file: string, key: string) => r.read(file)?.match(new RegExp(`^\\s*${key}\\s*=\\s*["']([^"']+)["']`, 'm'))?.[1];

/** Tools whose version a project pins in well-known files. One line per tool. */
const TOOLS: ToolSpec[] = [
  {
    mention: /\bnode(?:\.?js)?\s*(?:v|version\s*)?(\d+(?:\.\d+){0,2})\b/i,
    sources: [
      { manifest: '.nvmrc', key: 'node', value: (r) => firstLine(r.read('.nvmrc'))?.replace(/^v/, '') },
      { manifest: '.node-version', key: 'node', value: (r) => firstLine(r.read('.node-version'))?.replace(/^v/, '') },
      { manifest: 'package.json', key: 'engines.node', value: (r) => str((r.json('package.json')?.engines as Record<string, unknown> | undefined)?.node) },
      { manifest: '.tool-versions', key: 'nodejs', value: (r) => toolVersionsEntry(r, 'nodejs') },
      { manifest: 'Dockerfile', key: 'FROM node', value: (r) => dockerFrom(r, 'node') },
    ],
  },
  {
    mention: /\bpython\s*(?:v|version\s*)?(\d+(?:\.\d+){0,2})\b/i,
    sources: [
      { manifest: '.python-version', key: 'python', value: (r) => firstLine(r.read('.python-version')) },
      { manifest: 'pyproject.toml', key: 'requires-python', value: (r) => tomlString(r, 'pyproject.toml', 'requires-python') },
      { manifest: 'setup.cfg', key: 'python_requires', value: (r) => r.read('setup.cfg')?.match(/^python_requires\s*=\s*(.+)$/m)?.[1]?.trim() },
      { manifest: 'setup.py', key: 'python_requires', value: (r) => r.read('setup.py')?.match(/python_requires\s*=\s*["']([^"']+)["']/)?.[1] },
      { manifest: '.tool-versions', key: 'python', value: (r) => toolVersionsEntry(r, 'python') },
      { manifest: 'Dockerfile', key: 'FROM python', value: (r) => dockerFrom(r, 'python') },
    ],
  },
];

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The tool whose pin this version evidence records (Node, Python), if it is one. */
function toolOf(e: { manifest: string; key: string }): ToolSpec | undefined {
  return TOOLS.find((t) => t.sources.some((s) => s.manifest === e.manifest && s.key === e.key));
}

/** A make target's recipe line (what follows `name:`), or undefined when the Makefile has no such target. */
function makeRule(makefile: string | undefined, name: string): string | undefined {
  return makefile?.match(new RegExp(`^${escapeRe(name)}\\s*:[^=](.*)$`, 'm'))?.[1]?.trim();
}

/** Whether `name` occurs in a source text as a whole identifier. */
function mentionsName(content: string, name: string): boolean {
  return new RegExp(`(?<![\\w$])${escapeRe(name)}(?![\\w$])`).test(content);
}

/** Python requirements: name -> specifier, from requirements.txt and pyproject's dependency lists. */
function pythonDeps(r: CachedReader): Map<string, { manifest: string; value: string }> {
  return r.memo('python-deps', () => readPythonDeps(r));
}

function readPythonDeps(r: CachedReader): Map<string, { manifest: string; value: string }> {
  const out = new Map<string, { manifest: string; value: string }>();
  const req = r.read('requirements.txt');
  for (const line of req?.split(/\r?\n/) ?? []) {
    const m = line.match(/^\s*([A-Za-z0-9][\w.-]*)\s*(\[[^\]]*\])?\s*([<>=!~][^;#]*)?/);
    if (m) out.set(m[1].toLowerCase(), { manifest: 'requirements.txt', value: (m[3] ?? '').trim() || '*' });
  }
  const cfg = r.read('setup.cfg');
  const install = cfg?.match(/^install_requires\s*=\s*\n((?:[ \t]+\S.*\n?)+)/m)?.[1];
  for (const line of install?.split('\n') ?? []) {
    const m = line.match(/^\s*([A-Za-z0-9][\w.-]*)\s*(\[[^\]]*\])?\s*([<>=!~][^;#]*)?/);
    if (m && !out.has(m[1].toLowerCase())) out.set(m[1].toLowerCase(), { manifest: 'setup.cfg', value: (m[3] ?? '').trim() || '*' });
  }
  /** The quoted requirements of a Python list literal ("Werkzeug >= 2.2.2", "Jinja2>=3.0"). */
  const quoted = (list: string | undefined, manifest: string) => {
    for (const q of list?.matchAll(/["']([A-Za-z0-9][\w.-]*)\s*(\[[^\]]*\])?\s*([<>=!~][^"';]*)?[^"']*["']/g) ?? []) {
      if (!out.has(q[1].toLowerCase())) out.set(q[1].toLowerCase(), { manifest, value: (q[3] ?? '').trim() || '*' });
    }
  };
  quoted(r.read('setup.py')?.match(/install_requires\s*=\s*\[([^\]]*)\]/)?.[1], 'setup.py');
  // Only the quoted entries of `dependencies = [...]` lists: a full TOML parser is not needed for names and specifiers.
  for (const list of r.read('pyproject.toml')?.matchAll(/^\s*(?:dependencies|[\w-]+)\s*=\s*\[([^\]]*)\]/gm) ?? []) quoted(list[1], 'pyproject.toml');
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where `name` is mentioned as a word, the version written right after it (e.g. "React 18", "vite@5"). */
function mentionedVersion(text: string, name: string): { mentioned: boolean; claim?: string } {
  const re = new RegExp(`(?:^|[^\\w@/-])${escapeRe(name)}(?![\\w/-])`, 'gi');
  let mentioned = false;
  for (const m of text.matchAll(re)) {
    mentioned = true;
    const after = text.slice(m.index! + m[0].length);
    const v = after.match(VERSION_RE);
    if (v) return { mentioned, claim: v[1].replace(/\.x$/, '') };
  }
  return { mentioned };
}


/** The words of a command that name what it runs: not its flags, paths, files or variable settings. */
export function commandWords(value: string): Set<string> {
  return new Set(
    value
      .toLowerCase()
      .split(/\s+|&&|\|\||;|\|/)
      .filter((t) => /^[a-z][\w-]{2,}$/.test(t)),
  );
}

/** The memory's words that name what the script runs ("runs mocha" for "mocha --reporter dot"). */
function scriptWords(text: string, value: string): string[] {
  const inValue = commandWords(value);
  for (const w of ['npm', 'run', 'yarn', 'pnpm', 'bun', 'npx']) inValue.delete(w);
  const words = new Set<string>();
  for (const w of text.toLowerCase().match(/[a-z][\w-]{2,}/g) ?? []) if (inValue.has(w)) words.add(w);
  return [...words];
}

/** Definition syntax (not prose in a comment: "the base class for Flask" defines nothing). */
const DEFINITION = (name: string) => {
  const n = escapeRe(name);
  return new RegExp(
    [
      `\\b(?:class|interface|enum|struct|trait)\\s+${n}\\s*(?:[({:<]|extends\\b|implements\\b)`,
      `\\b(?:def|function|fn|func)\\s*\\*?\\s*${n}\\s*[(<]`,
      `\\b(?:const|let|var)\\s+${n}\\s*(?::[^=]+)?=\\s*(?:function\\b|class\\b|async\\b|\\(|[\\w$]+\\s*=>)`,
      `\\b${n}\\s*[:=]\\s*function\\b`,
      `\\btype\\s+${n}\\s*(?:<[^>]*>)?\\s*=`,
      `^\\s*(?:export\\s+)?(?:static\\s+)?(?:async\\s+)?${n}\\s*\\([^)]*\\)\\s*\\{`,
    ].join('|'),
    'm',
  );
};

/** Whether a source file defines `name` (a class, function, def, type or assigned function). */
export function definesName(content: string, name: string): boolean {
  return DEFINITION(name).test(content);
}

/**
 * Settings of a cited JSON file the memory names: a key it quotes or writes in camelCase (a whole section
 * such as package.json's "jest" counts by its presence), or a key and its value both written out ("sets the
 * target to ES2022").
 */
function configEvidence(p: string, content: string, text: string, names: Set<string>): Evidence[] {
  const parsed = parseJsonc(content);
  if (parsed === undefined) return [];
  const out: Evidence[] = [];
  const words = new Set(text.toLowerCase().match(/[\w$-]+(?:\.[\w$-]+)*/g) ?? []);
  const visit = (o: unknown, prefix: string, depth: number) => {
    if (depth > 6 || !o || typeof o !== 'object' || Array.isArray(o)) return;
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const section = v !== null && typeof v === 'object' && !Array.isArray(v);
      // package.json's dependencies and scripts are read as versions and scripts instead.
      const skip = p.endsWith('package.json') && (DEP_FIELDS as readonly string[]).includes(prefix.split('.')[0] || k) ;
      if (!skip && k.length >= 4 && (names.has(k) || names.has(key))) out.push({ kind: 'config', path: p, key, value: section ? SECTION : JSON.stringify(v) });
      else if (!skip && !section && typeof v !== 'object' && k.length >= 4 && words.has(k.toLowerCase()) && String(v).length >= 2 && words.has(String(v).toLowerCase())) {
        out.push({ kind: 'config', path: p, key, value: JSON.stringify(v) });
      }
      if (section && !skip && !(p.endsWith('package.json') && k === 'scripts')) visit(v, key, depth + 1);
    }
  };
  visit(parsed, '', 0);
  return out;
}

/** Configuration files read as keys and values (YAML, TOML, INI, JSON5, .env-style, Dockerfile, Makefile). */
const CONFIG_FILE = /(?:\.(?:ya?ml|toml|ini|cfg|conf|json5|properties)|(?:^|\/)(?:Dockerfile|Makefile|\.env[\w.-]*|\.\w+rc))$/i;

/**
 * The keys and single-token values of a configuration file, lower-cased ("env", "es6", "next", "ubuntu-latest"):
 * not its comments or free text, so a memory word counts only where the file uses it as a setting.
 */
export function configTokens(content: string): Set<string> {
  const out = new Set<string>();
  for (const raw of content.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim();
    if (!line) continue;
    const kv = line.match(/^(?:-\s*)?["']?([\w.$-]+)["']?\s*[:=]\s*(.*)$/);
    const key = kv?.[1];
    const value = (kv ? kv[2] : line.replace(/^-\s*/, '')).trim();
    if (key) for (const part of key.toLowerCase().split('.')) if (part) out.add(part);
    // A value that is one token, or a list of tokens ([a, b] / "a", "b"), is a setting; prose is not.
    const items = value.replace(/^\[|\],?$/g, '').split(',').map((v) => v.trim().replace(/^["']|["']$/g, ''));
    for (const item of items) if (/^[\w.@/:-]+$/.test(item) && item.length <= 60) for (const t of item.toLowerCase().split(/[/:@]/)) if (t) out.add(t);
    // Section headers: [tool.black], [options]
    const header = line.match(/^\[+([\w.-]+)\]+$/);
    if (header) for (const part of header[1].toLowerCase().split('.')) out.add(part);
  }
  return out;
}

/** The value recorded for a cited section (an object): only its presence is checked. */
const SECTION = '{…}';

/** A key's value as recorded (sections as SECTION), or undefined when the key is gone. */
function jsonValueAt(parsed: unknown, key: string): string | undefined {
  let cur: unknown = parsed;
  for (const part of key.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur) || !(part in (cur as Record<string, unknown>))) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? SECTION : JSON.stringify(cur);
}

/**
 * The evidence a memory's text names that this workspace has now. Nothing is cited that the workspace does not
 * confirm: a path that does not exist, a dependency that is not declared, a version nobody pins are left out.
 */
export function findEvidence(text: string, source: SourceRef | undefined, ws: WorkspaceReader | CachedReader): Evidence[] {
  const r = ws instanceof CachedReader ? ws : new CachedReader(ws);
  const out: Evidence[] = [];
  const seen = new Set<string>();
  const push = (e: Evidence) => {
    const key = JSON.stringify(e);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(e);
    }
  };

  // Files and folders, then the names the memory mentions that a cited file contains.
  const files: string[] = [];
  for (const m of text.matchAll(PATH_RE)) {
    const p = normalisePath(m[1].replace(/\.+$/, '')); // a sentence's full stop is not part of the path
    if (!p || p.startsWith('/') || p.includes('..') || /^\d+(\.\d+)+$/.test(p) || /^https?:/.test(p)) continue;
    const kind = r.kind(p);
    if (!kind) continue;
    const content = kind === 'file' ? r.read(p) : undefined;
    push(content !== undefined ? { kind: 'file', path: p, hash: fileHash(content) } : { kind: 'file', path: p });
    if (content !== undefined) files.push(p);
  }
  const names = new Set<string>();
  // Names come from the text without its paths: "publicUtils.ts" names a file, not a symbol.
  const prose = text.replace(PATH_RE, (m, p: string) => m.slice(0, m.length - p.length) + ' ');
  for (const m of prose.matchAll(IDENT_RE)) {
    const n = (m[1] ?? m[2] ?? m[3])!.replace(/\.$/, '');
    if (n.length >= 3 && !n.includes('/') && !/\.[A-Za-z0-9]{1,10}$/.test(n)) names.add(n);
  }
  // Any other word of the prose counts only where a cited file defines it ("the Help class ... in index.js").
  const defined = new Set((prose.match(/\b[A-Za-z_$][\w$]{2,}\b/g) ?? []).filter((w) => !names.has(w)));
  for (const p of files) {
    const content = r.read(p)!;
    for (const n of defined) if (definesName(content, n)) push({ kind: 'symbol', path: p, name: n, defines: true });
    // In a JSON file a quoted name is a key or a value: read as a setting below, not as a name in code.
    for (const n of p.endsWith('.json') ? [] : names) {
      if (!mentionsName(content, n)) continue;
      // Where the file defines the name, the memory is taken to mean the definition: a file that keeps
      // only an import or a re-export of it no longer holds what the memory says.
      push(definesName(content, n) ? { kind: 'symbol', path: p, name: n, defines: true } : { kind: 'symbol', path: p, name: n });
    }
    if (p.endsWith('.json') && !p.endsWith('lock.json')) for (const e of configEvidence(p, content, text, names)) push(e);
    else if (CONFIG_FILE.test(p)) {
      const tokens = configTokens(content);
      const words = [...new Set(prose.toLowerCase().match(/[a-z0-9][\w.-]*[a-z0-9]|[a-z0-9]/g) ?? [])].filter((w) => w.length >= 2 && tokens.has(w));
      if (words.length) push({ kind: 'mention', path: p, words });
    }
  }

  // Dependencies the memory names, with the version it names, if any.
  const pkg = r.json('package.json');
  for (const field of DEP_FIELDS) {
    const deps = pkg?.[field];
    if (!deps || typeof deps !== 'object') continue;
    for (const [name, value] of Object.entries(deps as Record<string, unknown>)) {
      if (typeof value !== 'string' || name.length < 3) continue;
      const m = mentionedVersion(text, name);
      // A version the manifest does not allow is about something else (a plan, another package's pin).
      if (m.mentioned && (!m.claim || versionAgrees(value, m.claim))) push({ kind: 'version', manifest: 'package.json', key: `${field}.${name}`, value, ...(m.claim ? { claim: m.claim } : {}) });
    }
  }
  for (const [name, dep] of pythonDeps(r)) {
    if (name.length < 3) continue;
    const m = mentionedVersion(text, name);
    if (m.mentioned && (!m.claim || versionAgrees(dep.value, m.claim))) push({ kind: 'version', manifest: dep.manifest, key: name, value: dep.value, ...(m.claim ? { claim: m.claim } : {}) });
  }
  // Tool versions the memory names (Node 20, Python 3.11), wherever the workspace pins them.
  for (const tool of TOOLS) {
    const claim = text.match(tool.mention)?.[1];
    if (!claim) continue;
    for (const s of tool.sources) {
      const value = s.value(r);
      if (value !== undefined && versionAgrees(value, claim)) push({ kind: 'version', manifest: s.manifest, key: s.key, value, claim });
    }
  }

  // Scripts the memory names: run through a package manager ("npm run lint"), or by name ("the build-bundle
  // script"), in the root manifest or that of a folder the memory cites (a monorepo package).
  const manifests = ['package.json', ...out.filter((e) => e.kind === 'file' && r.kind(e.path) === 'dir').map((e) => `${(e as { path: string }).path}/package.json`)];
  const called = new Set([...text.matchAll(SCRIPT_RE)].map((m) => m[2].replace(/[.:]+$/, '')).filter((n) => !PM_COMMANDS.has(n.toLowerCase())));
  for (const manifest of manifests) {
    const json = r.json(manifest);
    const scripts = json?.scripts && typeof json.scripts === 'object' ? (json.scripts as Record<string, unknown>) : undefined;
    for (const [name, raw] of Object.entries(scripts ?? {})) {
      const value = str(raw);
      if (value === undefined) continue;
      const byName = name.length >= 4 && /[-:_]/.test(name) && new RegExp(`(?<![\\w:-])${escapeRe(name)}(?![\\w:-])`).test(text);
      if (!called.has(name) && !byName) continue;
      const words = scriptWords(text, value);
      push({ kind: 'script', manifest, name, value, ...(words.length ? { words } : {}) });
    }
  }
  const makefile = r.read('Makefile');
  if (makefile !== undefined) {
    for (const m of text.matchAll(MAKE_RE)) {
      const name = m[1].replace(/\.$/, '');
      const rule = makeRule(makefile, name);
      if (rule !== undefined) push({ kind: 'script', manifest: 'Makefile', name, value: rule });
    }
  }

  if (source?.kind === 'commit' && source.ref && /^[0-9a-f]{7,40}$/i.test(source.ref)) push({ kind: 'commit', sha: source.ref.toLowerCase() });
  return out;
}

// ------------------------------------------------------------------ checking evidence

/** Every version number in a specifier ("^18 || ^20 || >=22" -> [18], [20], [22]; ">=3.8" -> [3, 8]; "lts/iron" -> none). */
function versionsIn(v: string): number[][] {
  return [...v.matchAll(/(\d+)(?:\.(\d+))?(?:\.(\d+))?/g)].map((m) => m.slice(1).filter((x) => x !== undefined).map(Number));
}

/** Whether a pinned value still allows the version the memory names ("Node 20" and ">=20.11" agree; "22" does not; "^20 || >=22" allows 22). */
export function versionAgrees(value: string, claim: string): boolean {
  const want = versionsIn(claim)[0];
  const have = versionsIn(value);
  if (!want || !have.length) return value.includes(claim);
  return have.some((h) => want.every((n, i) => h[i] === undefined || h[i] === n));
}

/**
 * What changed in one piece of evidence: the words shown to people and the manager, and whether it says only
 * that the cited thing is gone (a removed file, name, key, dependency or script, with no new state known).
 * A new value, or a config file that no longer mentions a word (its replacement may be there), say more.
 */
export interface EvidenceChange {
  text: string;
  gone: boolean;
}

const gone = (text: string): EvidenceChange => ({ text, gone: true });
const changed = (text: string): EvidenceChange => ({ text, gone: false });

/** What changed in one piece of evidence; undefined while it still holds. */
export function inspectEvidence(e: Evidence, ws: WorkspaceReader | CachedReader): EvidenceChange | undefined {
  const r = ws instanceof CachedReader ? ws : new CachedReader(ws);
  switch (e.kind) {
    case 'file':
      return r.kind(e.path) ? undefined : gone(`${e.path} no longer exists`);
    case 'symbol': {
      const text = r.read(e.path);
      if (text === undefined) return r.kind(e.path) ? undefined : gone(`${e.path} (which had ${e.name}) no longer exists`);
      if (e.defines) return definesName(text, e.name) ? undefined : gone(`${e.path} no longer defines ${e.name}`);
      return mentionsName(text, e.name) ? undefined : gone(`${e.name} is no longer in ${e.path}`);
    }
    case 'config': {
      const text = r.read(e.path);
      if (text === undefined) return r.kind(e.path) ? undefined : gone(`${e.path} no longer exists`);
      const parsed = parseJsonc(text);
      if (parsed === undefined) return undefined; // a file mid-edit that does not parse says nothing yet
      const now = jsonValueAt(parsed, e.key);
      if (now === undefined) return gone(`${e.key} was removed from ${e.path}`);
      return now === e.value ? undefined : changed(`${e.path} ${e.key} changed from ${e.value} to ${now}`);
    }
    case 'version': {
      // A manifest mid-edit (or with merge-conflict markers) that does not parse says nothing yet.
      if (e.manifest.endsWith('.json') && r.read(e.manifest) !== undefined && !r.json(e.manifest)) return undefined;
      const now = currentVersion(e, r);
      if (now === undefined && e.claim) {
        // A tool pin that moved to another file (setup.cfg to pyproject.toml): the memory holds while any pin agrees.
        const elsewhere = toolOf(e)?.sources.map((s) => ({ s, v: s.value(r) })).find((x) => x.v !== undefined);
        if (elsewhere) return versionAgrees(elsewhere.v!, e.claim) ? undefined : changed(`${elsewhere.s.manifest} ${elsewhere.s.key} is now ${elsewhere.v} (${e.manifest} ${e.key} was ${e.value})`);
      }
      if (now === undefined) return gone(r.kind(e.manifest) ? `${e.key} was removed from ${e.manifest}` : `${e.manifest} no longer exists`);
      if (now === e.value) return undefined;
      // A Python requirement may have moved to another file with the change: say where it is now.
      const where = PYTHON_DEP_FILES.includes(e.manifest) ? (pythonDeps(r).get(e.key)?.manifest ?? e.manifest) : e.manifest;
      if (e.claim && !versionAgrees(now, e.claim)) return changed(`${where} ${e.key} changed from ${e.value} to ${now}`);
      return undefined; // a bump that still agrees with what the memory says (^18.2.0 -> ^18.3.1 for "React 18")
    }
    case 'script': {
      let now: string | undefined;
      if (e.manifest === 'Makefile') now = makeRule(r.read('Makefile'), e.name);
      else now = str((r.json(e.manifest)?.scripts as Record<string, unknown> | undefined)?.[e.name]);
      if (now === undefined && e.manifest !== 'Makefile' && r.read(e.manifest) !== undefined && !r.json(e.manifest)) return undefined; // mid-edit, not JSON yet
      if (now === undefined) return gone(e.manifest === 'Makefile' ? `make target ${e.name} was removed` : `the script "${e.name}" was removed from ${e.manifest}`);
      const runs = commandWords(now);
      const lost = (e.words ?? []).filter((w) => !runs.has(w));
      return lost.length ? changed(`the script "${e.name}" changed from "${e.value}" to "${now}"`) : undefined;
    }
    case 'mention': {
      const text = r.read(e.path);
      if (text === undefined) return r.kind(e.path) ? undefined : gone(`${e.path} no longer exists`);
      const tokens = r.memo(`tokens:${e.path}`, () => configTokens(text));
      const missing = e.words.filter((w) => !tokens.has(w));
      return missing.length ? changed(`${e.path} no longer mentions ${missing.join(', ')}`) : undefined;
    }
    case 'commit': {
      const has = r.ws.hasCommit?.(e.sha);
      return has === false ? changed(`commit ${e.sha.slice(0, 10)} is not in the checked-out history`) : undefined;
    }
  }
}

function currentVersion(e: Extract<Evidence, { kind: 'version' }>, r: CachedReader): string | undefined {
  const source = toolOf(e)?.sources.find((s) => s.manifest === e.manifest && s.key === e.key);
  if (source) return source.value(r);
  if (e.manifest === 'package.json') {
    const [field, ...rest] = e.key.split('.');
    return str((r.json('package.json')?.[field] as Record<string, unknown> | undefined)?.[rest.join('.')]);
  }
  return pythonDeps(r).get(e.key)?.value;
}
