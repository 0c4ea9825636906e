// The import graph of src/, parsed with the TypeScript compiler's pre-processor (static imports,
// re-exports, `import type`, dynamic import() and require()). Used by test/unit/layers.test.ts, which
// also prints the counts (upward imports, cycles, largest files).
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Importing file, relative to the repository root with forward slashes (src/core/engine.ts). */
  from: string;
  /** The specifier as written. */
  spec: string;
  /** Resolved file (relative, like `from`) for a relative specifier; undefined for a package. */
  to?: string;
}

export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(p));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveRelative(root: string, fromAbs: string, spec: string): string {
  const base = path.resolve(path.dirname(fromAbs), spec);
  for (const cand of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(cand) && fs.statSync(cand).isFile()) return rel(root, cand);
  }
  throw new Error(`${rel(root, fromAbs)}: cannot resolve import "${spec}"`);
}

const rel = (root: string, p: string) => path.relative(root, p).split(path.sep).join('/');

export function importGraph(root: string, srcDir = 'src'): ImportGraph {
  const files = listTs(path.join(root, srcDir)).sort();
  const edges: ImportEdge[] = [];
  for (const abs of files) {
    const info = ts.preProcessFile(fs.readFileSync(abs, 'utf8'), true, true);
    const from = rel(root, abs);
    for (const { fileName: spec } of info.importedFiles) {
      edges.push({ from, spec, to: spec.startsWith('.') ? resolveRelative(root, abs, spec) : undefined });
    }
  }
  return { files: files.map((f) => rel(root, f)), edges };
}

/** Strongly connected components of more than one file (Tarjan), each sorted; the import cycles. */
export function importCycles(graph: ImportGraph): string[][] {
  const adj = new Map<string, Set<string>>();
  for (const f of graph.files) adj.set(f, new Set());
  for (const e of graph.edges) if (e.to && e.to !== e.from) adj.get(e.from)?.add(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const f of graph.files) if (!idx.has(f)) visit(f);
  return out;
}

/** Lines per file, largest first. */
export function largestFiles(root: string, graph: ImportGraph, n: number): { file: string; lines: number }[] {
  return graph.files
    .map((file) => ({ file, lines: fs.readFileSync(path.join(root, file), 'utf8').split('\n').length - 1 }))
    .sort((a, b) => b.lines - a.lines)
    .slice(0, n);
}
