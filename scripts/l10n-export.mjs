// Writes l10n/bundle.l10n.json, the English bundle translators start from: the strings
// @vscode/l10n-dev finds in src/extension (vscode.l10n.t), then the side panel page's strings
// (t() in src/webview, see scripts/l10n-strings.mjs) that are not among them. `npm run l10n:export`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { webviewStrings } from './l10n-strings.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The English bundle as it should be committed. */
export function englishBundle(root = ROOT) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-l10n-'));
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules/@vscode/l10n-dev/dist/cli.js'), 'export', '--outDir', out, path.join(root, 'src/extension')], { stdio: 'pipe' });
    const bundle = JSON.parse(fs.readFileSync(path.join(out, 'bundle.l10n.json'), 'utf8'));
    const page = webviewStrings(root);
    if (page.errors.length) throw new Error(`side panel strings:\n${page.errors.join('\n')}`);
    for (const key of page.strings.keys()) if (!Object.prototype.hasOwnProperty.call(bundle, key)) bundle[key] = key;
    return bundle;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bundle = englishBundle();
  fs.writeFileSync(path.join(ROOT, 'l10n/bundle.l10n.json'), JSON.stringify(bundle, undefined, 2));
  console.log(`l10n/bundle.l10n.json: ${Object.keys(bundle).length} strings`);
}
