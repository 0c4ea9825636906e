// AST checks of TypeScript code against the convention benchmark's rules, with the TypeScript compiler's
// parser (bench/conventions.ts; the Python rules are checked by check_python.py).
import ts from 'typescript';
import type { CodeCheck, CheckResult } from './checkTypes';

interface Fn {
  name: string;
  node: ts.Node;
  params: readonly ts.ParameterDeclaration[];
  returnType: ts.TypeNode | undefined;
  async: boolean;
  arrow: boolean;
  topLevel: boolean;
  /** The statement JSDoc attaches to (the function, or the `const` holding it). */
  docHost: ts.Node;
}

const isAsync = (n: ts.Node): boolean => !!ts.getCombinedModifierFlags(n as ts.Declaration) && (ts.getCombinedModifierFlags(n as ts.Declaration) & ts.ModifierFlags.Async) !== 0;
const hasExport = (n: ts.Node): boolean => ts.canHaveModifiers(n) && !!ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
const hasDefault = (n: ts.Node): boolean => ts.canHaveModifiers(n) && !!ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);

function functionsOf(sf: ts.SourceFile): Fn[] {
  const out: Fn[] = [];
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name) {
      out.push({ name: st.name.text, node: st, params: st.parameters, returnType: st.type, async: isAsync(st), arrow: false, topLevel: true, docHost: st });
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const init = d.initializer;
        if (ts.isIdentifier(d.name) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) {
          out.push({ name: d.name.text, node: init, params: init.parameters, returnType: init.type, async: isAsync(init), arrow: ts.isArrowFunction(init), topLevel: true, docHost: st });
        }
      }
    } else if (ts.isClassDeclaration(st)) {
      for (const m of st.members) {
        if (ts.isMethodDeclaration(m) && m.name && (ts.isIdentifier(m.name) || ts.isPrivateIdentifier(m.name))) {
          out.push({ name: m.name.text, node: m, params: m.parameters, returnType: m.type, async: isAsync(m), arrow: false, topLevel: false, docHost: m });
        }
      }
    }
  }
  return out;
}

function constantsOf(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st) || !(st.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const d of st.declarationList.declarations) {
      const init = d.initializer;
      if (ts.isIdentifier(d.name) && !(init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)))) out.push(d.name.text);
    }
  }
  return out;
}

function importsOf(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'require' && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const moduleMatches = (mods: string[], m: string) => mods.some((x) => x === m || x.startsWith(m + '/'));

function dotted(e: ts.Node): string {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return `${dotted(e.expression)}.${e.name.text}`;
  if (e.kind === ts.SyntaxKind.ThisKeyword) return 'this';
  if (ts.isCallExpression(e)) return dotted(e.expression);
  return '';
}

function walk(n: ts.Node, f: (n: ts.Node) => void): void {
  f(n);
  ts.forEachChild(n, (c) => walk(c, f));
}

const callMatches = (name: string, wanted: string) => name === wanted || name.endsWith('.' + wanted);

function every<T extends { name?: string }>(items: T[], ok: (x: T) => boolean, what: string): CheckResult {
  if (!items.length) return { ok: false, why: `no ${what} to check` };
  const bad = items.filter((x) => !ok(x));
  return { ok: !bad.length, why: bad.length ? `${what}: ${bad.slice(0, 4).map((b) => b.name ?? '?').join(', ')}` : '' };
}

function jsDocOf(sf: ts.SourceFile, host: ts.Node): string | undefined {
  const ranges = ts.getLeadingCommentRanges(sf.text, host.getFullStart()) ?? [];
  const docs = ranges.map((r) => sf.text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
  return docs.at(-1);
}

export function checkTypescript(code: string, checks: CodeCheck[]): CheckResult[] {
  const sf = ts.createSourceFile('task.ts', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const diagnostics = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (!code.trim() || !sf.statements.length) return checks.map(() => ({ ok: false, why: 'no code' }));
  if (diagnostics.length) return checks.map(() => ({ ok: false, why: `does not parse: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, ' ')}` }));
  const fns = functionsOf(sf);
  const top = fns.filter((f) => f.topLevel);
  const classes = sf.statements.filter(ts.isClassDeclaration);
  const interfaces = sf.statements.filter(ts.isInterfaceDeclaration);
  const types = sf.statements.filter(ts.isTypeAliasDeclaration);
  const calls: string[] = [];
  walk(sf, (n) => {
    if (ts.isCallExpression(n)) calls.push(dotted(n.expression));
  });
  return checks.map((c): CheckResult => {
    switch (c.check) {
      case 'function-name':
        return every(fns, (f) => new RegExp(c.pattern!).test(f.name), 'functions');
      case 'class-name':
        return every(classes.map((x) => ({ name: x.name?.text ?? '' })), (x) => new RegExp(c.pattern!).test(x.name), 'classes');
      case 'interface-name':
        return every(interfaces.map((x) => ({ name: x.name.text })), (x) => new RegExp(c.pattern!).test(x.name), 'interfaces');
      case 'type-name':
        return every(types.map((x) => ({ name: x.name.text })), (x) => new RegExp(c.pattern!).test(x.name), 'type aliases');
      case 'constant-name':
        return every(constantsOf(sf).map((name) => ({ name })), (x) => new RegExp(c.pattern!).test(x.name), 'constants');
      case 'exports': {
        const defaults = sf.statements.filter((s) => ts.isExportAssignment(s) && !s.isExportEquals).length + sf.statements.filter((s) => hasExport(s) && hasDefault(s)).length;
        const named = sf.statements.filter((s) => (hasExport(s) && !hasDefault(s)) || (ts.isExportDeclaration(s) && !!s.exportClause)).length;
        if (c.style === 'default') return { ok: defaults === 1, why: `${defaults} default exports` };
        return { ok: defaults === 0 && named > 0, why: defaults ? 'has a default export' : 'no named export' };
      }
      case 'import-required':
        return { ok: moduleMatches(importsOf(sf), c.module!), why: `${c.module} not imported` };
      case 'import-forbidden':
        return { ok: !moduleMatches(importsOf(sf), c.module!), why: `${c.module} imported` };
      case 'docstring':
        return every(fns, (f) => {
          const doc = jsDocOf(sf, f.docHost);
          return !!doc && (!c.pattern || new RegExp(c.pattern).test(doc));
        }, 'functions');
      case 'annotations':
        return every(fns, (f) => !!f.returnType && f.params.every((p) => !!p.type), 'functions');
      case 'arrow-functions':
        return every(top, (f) => f.arrow, 'top-level functions');
      case 'function-declarations':
        return every(top, (f) => !f.arrow && ts.isFunctionDeclaration(f.node), 'top-level functions');
      case 'async':
        return every(top, (f) => f.async, 'top-level functions');
      case 'no-any': {
        let any = 0;
        walk(sf, (n) => void (n.kind === ts.SyntaxKind.AnyKeyword && any++));
        return { ok: any === 0, why: `${any} uses of any` };
      }
      case 'decorator':
        return every(classes.map((x) => ({ name: x.name?.text ?? '', node: x })), (x) => (ts.getDecorators(x.node) ?? []).some((d) => dotted(d.expression).split('.').pop() === c.name!.replace(/^@/, '').split('.').pop()), 'classes');
      case 'call-required':
        return { ok: calls.some((n) => callMatches(n, c.name!)), why: `no call to ${c.name}` };
      case 'call-forbidden':
        return { ok: !calls.some((n) => callMatches(n, c.name!)), why: `calls ${c.name}` };
      case 'raises': {
        let found = false;
        walk(sf, (n) => {
          if (ts.isThrowStatement(n) && n.expression && ts.isNewExpression(n.expression) && dotted(n.expression.expression).split('.').pop() === c.name) found = true;
        });
        return { ok: found, why: `never throws ${c.name}` };
      }
      default:
        return { ok: false, why: `unknown check ${c.check}` };
    }
  });
}
