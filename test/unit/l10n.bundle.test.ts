import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { englishBundle } from '../../scripts/l10n-export.mjs';
import { webviewStrings } from '../../scripts/l10n-strings.mjs';

const ROOT = path.resolve(__dirname, '../..');
const committed = (): Record<string, string> => JSON.parse(fs.readFileSync(path.join(ROOT, 'l10n/bundle.l10n.json'), 'utf8')) as Record<string, string>;

/** Page strings the bundle lacks, each with where it is used. */
function missing(bundle: Record<string, string>, strings: Map<string, string[]>): string[] {
  return [...strings].filter(([key]) => !Object.prototype.hasOwnProperty.call(bundle, key)).map(([key, where]) => `${JSON.stringify(key)} (${where.join(', ')})`);
}

describe('l10n/bundle.l10n.json', () => {
  it('holds every string the extension passes to vscode.l10n.t and the panel page passes to t() (run `npm run l10n:export` after adding one)', () => {
    const fresh = englishBundle(ROOT);
    expect(Object.keys(fresh).length).toBeGreaterThan(300);
    expect(committed()).toEqual(fresh);
  }, 60_000);

  it('has every string of the side panel page, each a literal key', () => {
    const { strings, errors } = webviewStrings(ROOT);
    expect(errors).toEqual([]);
    // The page's buttons, labels, empty states and counts: far more than a handful.
    expect(strings.size).toBeGreaterThan(100);
    for (const key of ['Search memories', 'Held for approval ({0})', 'No memories yet', '{0} active · {1} superseded · {2} deleted', 'Undo {0} from {1}']) expect(strings.has(key)).toBe(true);
    expect(missing(committed(), strings)).toEqual([]);
  });

  it('catches a page string missing from the bundle and a key that is not a literal', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-l10n-page-'));
    try {
      fs.mkdirSync(path.join(dir, 'src/webview/views'), { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'src/webview/views/extra.ts'),
        "import { t as tr } from '../l10n';\nexport const a = tr('Search memories');\nexport const b = tr('A string nobody exported', 1);\nconst k = 'x';\nexport const c = tr(k);\n",
      );
      // A t() of something else is not a page string.
      fs.writeFileSync(path.join(dir, 'src/webview/other.ts'), "const t = (s: string) => s;\nexport const d = t('not localized');\n");
      const { strings, errors } = webviewStrings(dir);
      expect([...strings.keys()]).toEqual(['Search memories', 'A string nobody exported']);
      expect(errors).toEqual(['src/webview/views/extra.ts:5: t() needs a string literal key, got k']);
      expect(missing(committed(), strings)).toEqual(['"A string nobody exported" (src/webview/views/extra.ts:3)']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
