// The layers of src/, enforced: every import of every file is parsed and checked against the floor
// plan below (README, "Architecture"). A new folder under src/core must be given a floor here.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ImportEdge, importCycles, importGraph, largestFiles } from '../support/importGraph';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Floors of src/core, lowest first. A file may import its own floor and those below, never above.
 * 0, ground: plain data types, errors, text utilities and the search index's algorithms.
 * 1, parts: model clients, embedders, agents' prompts and parsers, privacy policy, the model catalog.
 * 2, storage and capture: the memory bank and the capture queue.
 * 3, assembly: the engine and the composition root that builds it from a configuration; evidence (memories
 *    checked against the workspace: it cites through the bank and reviews through the engine).
 * 4, consumers: evaluation harness and training; the conventions delivered to instruction files.
 */
const CORE_FLOORS: Record<string, number> = {
  'types.ts': 0,
  'errors.ts': 0,
  'api.ts': 0,
  'kinds.ts': 0,
  'provenance.ts': 0,
  util: 0,
  retrieval: 0,
  llm: 1,
  embeddings: 1,
  agents: 1,
  privacy: 1,
  models: 1,
  bank: 2,
  capture: 2,
  'engine.ts': 3,
  'config.ts': 3,
  'consolidation.ts': 3,
  evidence: 3,
  eval: 4,
  training: 4,
  tools: 4,
  conventions: 4,
};

const graph = importGraph(ROOT);
/** The benchmarks: scripts on top of the engine, like the CLI. */
const benchGraph = importGraph(ROOT, 'bench');

/** The top-level part of src a file belongs to: core, extension, cli, server, webview, … */
function part(file: string): string {
  return file.split('/')[1]!;
}

function coreFloor(file: string): number {
  const key = file.split('/')[2]!;
  const floor = CORE_FLOORS[key];
  if (floor === undefined) throw new Error(`${file}: src/core/${key} has no floor in test/unit/layers.test.ts`);
  return floor;
}

const show = (e: ImportEdge) => `${e.from} -> ${e.to ?? e.spec}`;

/** Imports that break a rule, each as "from -> to" with the rule it breaks. */
function violations(): string[] {
  const out: string[] = [];
  for (const e of graph.edges) {
    const from = part(e.from);
    if (e.spec === 'vscode' && from !== 'extension') out.push(`${show(e)}: only src/extension may import vscode`);
    if (from === 'core') {
      if (e.to && part(e.to) !== 'core') out.push(`${show(e)}: src/core imports only itself`);
      if (e.to && part(e.to) === 'core' && coreFloor(e.to) > coreFloor(e.from)) {
        out.push(`${show(e)}: floor ${coreFloor(e.from)} imports floor ${coreFloor(e.to)}`);
      }
    }
    if (from === 'webview' && !(e.to && (part(e.to) === 'webview' || e.to === 'src/core/types.ts' || e.to === 'src/core/kinds.ts'))) {
      out.push(`${show(e)}: src/webview imports only itself and the plain data of src/core/types.ts and src/core/kinds.ts`);
    }
    if ((from === 'cli' || from === 'server') && e.to && ['extension', 'webview'].includes(part(e.to))) {
      out.push(`${show(e)}: the ${from} does not import VS Code glue`);
    }
    if (from === 'server' && e.to && part(e.to) === 'cli') out.push(`${show(e)}: the server does not import the CLI`);
    // The MCP server is the engine's tools behind a protocol: core, and the CLI's flag parsing it shares with `memory-r1 mcp`.
    if (from === 'mcp' && e.to && !['mcp', 'core', 'cli'].includes(part(e.to))) out.push(`${show(e)}: src/mcp imports only core and the CLI's options`);
    if (from === 'mcp' && e.spec === 'vscode') out.push(`${show(e)}: src/mcp does not import vscode`);
    // The page's message protocol is the one contract the extension shares with the page.
    if (from === 'extension' && e.to && ['cli', 'webview'].includes(part(e.to)) && e.to !== 'src/webview/protocol.ts') {
      out.push(`${show(e)}: the extension does not import the ${part(e.to)}`);
    }
  }
  return out;
}

/** Benchmarks use the engine (src/core), the CLI's and the server's entry points; never the VS Code glue or the page. */
function benchViolations(): string[] {
  const out: string[] = [];
  for (const e of benchGraph.edges) {
    if (e.spec === 'vscode') out.push(`${show(e)}: a benchmark does not import vscode`);
    if (e.to && e.to.startsWith('src/') && ['extension', 'webview'].includes(part(e.to))) out.push(`${show(e)}: a benchmark does not import the ${part(e.to)}`);
  }
  return out;
}

describe('layers of src/', () => {
  it('finds the imports it checks', () => {
    // Guards the parser itself: a graph without these edges means the test checks nothing.
    expect(graph.files.length).toBeGreaterThan(50);
    expect(graph.edges.some((e) => e.from === 'src/core/engine.ts' && e.to === 'src/core/bank/memoryBank.ts')).toBe(true);
    expect(graph.edges.some((e) => e.from === 'src/extension/extension.ts' && e.spec === 'vscode')).toBe(true);
  });

  it('has no import from a lower layer to a higher one', () => {
    const v = violations();
    console.log(`layers: ${graph.files.length} files, ${graph.edges.length} imports, ${v.length} upward`);
    expect(v).toEqual([]);
  });

  it('keeps the MCP server and the benchmarks off the VS Code glue', () => {
    expect(graph.edges.some((e) => e.from === 'src/mcp/server.ts' && e.to?.startsWith('src/core/'))).toBe(true);
    expect(benchGraph.edges.some((e) => e.from === 'bench/bank-quality.ts' && e.to === 'src/core/eval/bankQuality.ts')).toBe(true);
    expect(benchViolations()).toEqual([]);
    expect(importCycles(benchGraph)).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles = importCycles(graph);
    const big = largestFiles(ROOT, graph, 5).map((f) => `${f.file} ${f.lines}`);
    console.log(`layers: ${cycles.length} import cycles; largest files: ${big.join(', ')}`);
    expect(cycles).toEqual([]);
  });

  it('keeps the panel page in parts: main.ts is its only entry, views import no other view, state and labels touch no DOM', () => {
    const page = graph.edges.filter((e) => part(e.from) === 'webview' && e.to && part(e.to) === 'webview');
    const files = graph.files.filter((f) => part(f) === 'webview');
    expect(page.some((e) => e.from === 'src/webview/main.ts' && e.to === 'src/webview/views/list.ts')).toBe(true);
    const v: string[] = [];
    const PURE = ['src/webview/state.ts', 'src/webview/l10n.ts', 'src/webview/format.ts', 'src/webview/diff.ts', 'src/webview/protocol.ts'];
    for (const e of page) {
      if (e.to === 'src/webview/main.ts') v.push(`${show(e)}: main.ts is the entry, nothing imports it`);
      if (e.from.startsWith('src/webview/views/') && e.to!.startsWith('src/webview/views/') && e.to !== 'src/webview/views/context.ts') v.push(`${show(e)}: a view part imports no other view`);
      if (PURE.includes(e.from) && (e.to === 'src/webview/dom.ts' || e.to!.startsWith('src/webview/views/'))) v.push(`${show(e)}: ${e.from} has no DOM`);
    }
    expect(v).toEqual([]);
    expect(importCycles({ files, edges: page })).toEqual([]);
  });
});
