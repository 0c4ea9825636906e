// The strings of the side panel page (src/webview): the first argument of every t(...) call in a
// file that imports t from the page's l10n module. The page cannot import `vscode` or
// `@vscode/l10n`, so @vscode/l10n-dev does not see them; scripts/l10n-export.mjs adds them to the
// English bundle and test/unit/l10n.bundle.test.ts checks that every one is there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

function listTs(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The local name `t` is bound to by `import { t } from './l10n'` (or '../l10n'), if any. */
function importedT(sf) {
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || !/^\.\.?\/(.*\/)?l10n$/.test(st.moduleSpecifier.text)) continue;
    const named = st.importClause?.namedBindings;
    if (named && ts.isNamedImports(named)) for (const el of named.elements) if ((el.propertyName ?? el.name).text === 't') return el.name.text;
  }
  return undefined;
}

/**
 * Every page string in the order first met, with where it is used. A t() whose key is not a plain
 * string literal is an error: such a key could not be checked against the bundle.
 * @returns {{ strings: Map<string, string[]>, errors: string[] }}
 */
export function webviewStrings(root, dir = 'src/webview') {
  const strings = new Map();
  const errors = [];
  for (const file of listTs(path.join(root, dir))) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const name = importedT(sf);
    if (!name) continue;
    const visit = (node) => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name) {
        const where = `${rel}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
        const arg = node.arguments[0];
        if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))) {
          if (!strings.has(arg.text)) strings.set(arg.text, []);
          strings.get(arg.text).push(where);
        } else {
          errors.push(`${where}: t() needs a string literal key, got ${arg ? arg.getText(sf).slice(0, 60) : 'nothing'}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { strings, errors };
}
