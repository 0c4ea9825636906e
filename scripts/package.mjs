#!/usr/bin/env node
// `npm run package [-- --target linux-x64]`: builds the platform-specific .vsix.
//
// The built-in local model runs node-llama-cpp, whose llama.cpp runtime is a native binary per
// platform (@node-llama-cpp/<platform>, 20-30 MB each; CUDA builds several hundred). One .vsix for
// every platform would carry all of them, so each target gets its own .vsix (`vsce package --target`)
// with node-llama-cpp, its JavaScript dependencies and that one CPU runtime in dist/node_modules,
// where dist/server.js finds them. No model weights go in: they download into global storage.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** vsce target → the node-llama-cpp package holding its prebuilt CPU (or Metal) runtime. */
const RUNTIMES = {
  'linux-x64': '@node-llama-cpp/linux-x64',
  'linux-arm64': '@node-llama-cpp/linux-arm64',
  'linux-armhf': '@node-llama-cpp/linux-armv7l',
  'darwin-arm64': '@node-llama-cpp/mac-arm64-metal',
  'darwin-x64': '@node-llama-cpp/mac-x64',
  'win32-x64': '@node-llama-cpp/win-x64',
  'win32-arm64': '@node-llama-cpp/win-arm64',
};

function hostTarget() {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  return `${process.platform}-${arch}`;
}

const { values } = parseArgs({
  options: { target: { type: 'string' }, out: { type: 'string' }, 'skip-build': { type: 'boolean' } },
});
const target = values.target ?? hostTarget();
const runtime = RUNTIMES[target];
if (!runtime) {
  console.error(`No llama.cpp runtime is known for the target "${target}". Targets: ${Object.keys(RUNTIMES).join(', ')}.`);
  process.exit(2);
}
const out = path.resolve(ROOT, values.out ?? (target === hostTarget() ? 'dist/project-memory.vsix' : `dist/project-memory-${target}.vsix`));

if (!values['skip-build']) execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });

/** Where `name` resolves from `fromDir`, as Node's resolution walks up node_modules folders. */
function resolvePackage(name, fromDir) {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (path.dirname(d) === d) return undefined;
  }
}

/** The package folders node-llama-cpp needs at run time: its dependencies, transitively, and the runtime. */
function closure() {
  const found = new Set();
  const walk = (dir) => {
    if (found.has(dir)) return;
    found.add(dir);
    const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pj.dependencies ?? {})) {
      const p = resolvePackage(dep, dir);
      if (!p) throw new Error(`${pj.name} needs ${dep}, which is not installed (run npm ci).`);
      walk(p);
    }
  };
  const nlc = resolvePackage('node-llama-cpp', ROOT);
  if (!nlc) throw new Error('node-llama-cpp is not installed (run npm ci).');
  walk(nlc);
  const rt = resolvePackage(runtime, nlc);
  if (!rt) {
    const version = JSON.parse(fs.readFileSync(path.join(nlc, 'package.json'), 'utf8')).version;
    throw new Error(`${runtime} is not installed; npm installs only this machine's runtimes. On a ${target} machine run npm ci, or here: npm install --no-save --force ${runtime}@${version}`);
  }
  walk(rt);
  return [...found];
}

/** Not needed to run: llama.cpp's source bundle (the server never builds from source), types, maps, docs. */
function keep(rel) {
  if (rel.endsWith('.d.ts') || rel.endsWith('.map') || rel.endsWith('.d.mts') || rel.endsWith('.d.cts')) return false;
  if (/^node-llama-cpp\/llama\/(gitRelease\.bundle|llama\.cpp\/)/.test(rel)) return false;
  if (/\/(README|CHANGELOG|HISTORY)(\.md)?$/i.test(rel) && !rel.startsWith('node-llama-cpp/')) return false;
  return true;
}

const stage = path.join(ROOT, '.cache', 'vsix-stage', target);
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
// docs/ because the README links there (the links stay relative: the .vsix names no repository to rewrite
// them against); models/ for the trained manager's LoRA adapter, which .vscodeignore lets through.
for (const f of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'media', 'l10n', 'docs', 'models', 'dist']) {
  const src = path.join(ROOT, f);
  if (fs.existsSync(src)) fs.cpSync(src, path.join(stage, f), { recursive: true, filter: (s) => !s.endsWith('.vsix') });
}
const modules = path.join(stage, 'dist', 'node_modules');
const rootModules = path.join(ROOT, 'node_modules');
let files = 0;
let bytes = 0;
let packages;
try {
  packages = closure();
} catch (err) {
  console.error(`package: ${err.message}`);
  process.exit(1);
}
for (const dir of packages) {
  const rel = path.relative(rootModules, dir);
  fs.cpSync(dir, path.join(modules, rel), {
    recursive: true,
    filter: (src) => {
      const r = path.relative(rootModules, src).split(path.sep).join('/');
      // Nested node_modules are copied as packages of their own (only those in the closure).
      if (r !== rel.split(path.sep).join('/') && /\/node_modules(\/|$)/.test(r.slice(rel.length))) return false;
      if (!keep(r)) return false;
      const st = fs.statSync(src);
      if (st.isFile()) {
        files++;
        bytes += st.size;
      }
      return true;
    },
  });
}
console.log(`staged node-llama-cpp with ${runtime}: ${files} files, ${(bytes / 1e6).toFixed(1)} MB`);

fs.mkdirSync(path.dirname(out), { recursive: true });
const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--target', target, '--out', out], { cwd: stage, stdio: 'inherit' });
console.log(`${path.relative(ROOT, out)}: ${(fs.statSync(out).size / 1e6).toFixed(1)} MB (target ${target})`);
