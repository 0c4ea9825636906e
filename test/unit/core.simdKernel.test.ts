import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM build script without types
import { compileDots, render } from '../../scripts/build-simd.mjs';

describe('the WebAssembly SIMD dot-product kernel', () => {
  it('dotsWasm.ts holds exactly what dots.wat compiles to (run `npm run build:simd` after editing)', async () => {
    const committed = fs.readFileSync(path.join(__dirname, '../../src/core/retrieval/simd/dotsWasm.ts'), 'utf8');
    expect(committed).toBe(render(await compileDots()));
  });
});
