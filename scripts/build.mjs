#!/usr/bin/env node
// One build script: the extension (CJS, Node, `vscode` external), the CLI, and the webview page (browser IIFE).
import { build, context } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const exists = (p) => fs.existsSync(p);

/** Optional native or heavy packages stay outside the bundle and load lazily at run time. */
const nodeExternals = ['vscode', 'node-llama-cpp', '@huggingface/transformers', 'onnxruntime-node', 'onnxruntime-web', 'pg', 'playwright-core'];
/**
 * The .vsix ships without node_modules, so the extension bundles the pure-JS postgres client and
 * onnxruntime-web (its WebAssembly goes to dist/ort), the runtime it can always load.
 */
const extensionExternals = [...nodeExternals.filter((m) => m !== 'pg' && m !== 'onnxruntime-web'), 'pg-native'];

/** A Node bundle of `entry` as dist/<name>.js. */
const nodeBundle = (name, entry, extra = {}) => ({
  entryPoints: { [name]: entry },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: nodeExternals,
  outdir: 'dist',
  sourcemap: !production,
  minify: production,
  ...extra,
});
/** Self-contained like the .vsix needs: the postgres client and onnxruntime-web bundled in. */
const selfContained = {
  external: extensionExternals,
  // onnxruntime-web's Node build as CommonJS (its ESM build needs import.meta.url, which a CJS bundle lacks).
  alias: { 'onnxruntime-web': './node_modules/onnxruntime-web/dist/ort.node.min.js' },
};

const targets = [];
if (exists('src/extension/extension.ts')) targets.push(nodeBundle('extension', 'src/extension/extension.ts', selfContained));
targets.push(nodeBundle('cli', 'src/cli/main.ts', { sourcemap: true, minify: false, banner: { js: '#!/usr/bin/env node' } }));
if (exists('src/server/childMain.ts')) {
  // The built-in local model's server, a child process of the extension; node-llama-cpp stays outside
  // (the .vsix carries it and its native runtime in dist/node_modules: scripts/package.mjs).
  targets.push(nodeBundle('server', 'src/server/childMain.ts'));
}
if (exists('src/mcp/main.ts')) {
  // `memory-r1 mcp` for the packaged extension (VS Code starts it from the MCP server definition it
  // contributes): self-contained like the extension bundle, since the .vsix has no node_modules for it.
  targets.push(nodeBundle('mcp', 'src/mcp/main.ts', selfContained));
}
if (exists('src/webview/main.ts')) {
  targets.push({
    entryPoints: { webview: 'src/webview/main.ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    outdir: 'dist',
    sourcemap: !production,
    minify: production,
  });
}

/** onnxruntime-web's WebAssembly (the local embedder in the packaged extension); loaded from dist/ort. */
const ORT_WASM_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];

function copyAssets() {
  const ort = 'node_modules/onnxruntime-web/dist';
  if (exists(ort)) {
    fs.mkdirSync('dist/ort', { recursive: true });
    for (const f of ORT_WASM_FILES) fs.copyFileSync(path.join(ort, f), path.join('dist/ort', f));
  }
  const codicons = 'node_modules/@vscode/codicons/dist';
  if (exists(codicons)) {
    fs.mkdirSync('dist/codicons', { recursive: true });
    for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(codicons, f), path.join('dist/codicons', f));
  }
}

if (watch) {
  for (const t of targets) await (await context(t)).watch();
  copyAssets();
  console.log('watching…');
} else {
  const started = Date.now();
  await Promise.all(targets.map((t) => build({ ...t, logLevel: 'warning' })));
  copyAssets();
  fs.chmodSync('dist/cli.js', 0o755);
  console.log(`built ${targets.length} bundle(s) in ${Date.now() - started} ms`);
}
