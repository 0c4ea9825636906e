import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

describe('l10n/bundle.l10n.json', () => {
  it('holds every string the extension passes to vscode.l10n.t (run `npm run l10n:export` after adding one)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-l10n-'));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/@vscode/l10n-dev/dist/cli.js'), 'export', '--outDir', out, path.join(ROOT, 'src/extension')], { stdio: 'pipe' });
    const fresh = JSON.parse(fs.readFileSync(path.join(out, 'bundle.l10n.json'), 'utf8')) as Record<string, string>;
    const committed = JSON.parse(fs.readFileSync(path.join(ROOT, 'l10n/bundle.l10n.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(fresh).length).toBeGreaterThan(100);
    expect(committed).toEqual(fresh);
    fs.rmSync(out, { recursive: true, force: true });
  }, 60_000);
});
