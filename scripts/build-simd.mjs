// Compiles src/core/retrieval/simd/dots.wat into dotsWasm.ts (the bytes as base64), so the bundle
// needs no build-time WebAssembly tooling. `--check` fails when the committed bytes are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'core', 'retrieval', 'simd');
const watFile = join(dir, 'dots.wat');
const outFile = join(dir, 'dotsWasm.ts');

export async function compileDots() {
  const wabt = await wabtInit();
  const module = wabt.parseWat('dots.wat', readFileSync(watFile, 'utf8'), { simd: true });
  module.validate();
  const { buffer } = module.toBinary({});
  module.destroy();
  return Buffer.from(buffer);
}

export function render(bytes) {
  const b64 = bytes.toString('base64');
  const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}' +`).join('\n');
  return `// Generated from dots.wat by scripts/build-simd.mjs: do not edit.\nexport const DOTS_WASM_BASE64 =\n${lines.slice(0, -2)};\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = render(await compileDots());
  if (process.argv.includes('--check')) {
    if (readFileSync(outFile, 'utf8') !== text) {
      console.error('dotsWasm.ts is stale: run `npm run build:simd`');
      process.exit(1);
    }
  } else {
    writeFileSync(outFile, text);
    console.log(`wrote ${outFile}`);
  }
}
