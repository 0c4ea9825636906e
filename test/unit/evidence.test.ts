// Evidence found in a memory's text and checked against a workspace: what is cited, what a change flags,
// and what it must not flag (a bump that still agrees with the memory, an edit that keeps a cited name).
import { describe, expect, it } from 'vitest';
import { findEvidence, inspectEvidence, versionAgrees, type Evidence } from '../../src/core/evidence/evidence';

const checkEvidence = (e: Evidence, w: MapWorkspace) => inspectEvidence(e, w)?.text;
import { MapWorkspace } from '../../src/core/evidence/workspace';

const pkg = (o: Record<string, unknown>) => JSON.stringify(o, null, 2);

function ws(files: Record<string, string>, commits?: string[]): MapWorkspace {
  return new MapWorkspace('test', new Map(Object.entries(files)), commits ? new Set(commits) : undefined);
}

const base = {
  'package.json': pkg({ engines: { node: '>=20.11' }, scripts: { test: 'vitest run', lint: 'eslint src', build: 'tsc -p .' }, dependencies: { react: '^18.2.0', express: '^4.19.2' }, devDependencies: { typescript: '~5.4.0' } }),
  '.nvmrc': 'v20.11.1\n',
  'src/utils/dates.ts': 'export function formatDate(d: Date) {}\nexport const parseDate = () => 0;\n',
  'tsconfig.json': pkg({ compilerOptions: { strict: true, noUncheckedIndexedAccess: true } }),
  Makefile: 'test:\n\tpytest -q\nrelease: build\n\t./scripts/release.sh\n',
  Dockerfile: 'FROM node:20-alpine\nRUN npm ci\n',
};

const kinds = (e: Evidence[]) => e.map((x) => x.kind);

describe('findEvidence', () => {
  it('cites files, the names a cited file has, dependencies with the version named, tools, scripts and commits', () => {
    const w = ws(base);
    expect(findEvidence('The date helpers (`formatDate`, parseDate()) are in src/utils/dates.ts.', undefined, w)).toEqual([
      { kind: 'file', path: 'src/utils/dates.ts', hash: expect.any(String) },
      { kind: 'symbol', path: 'src/utils/dates.ts', name: 'formatDate', defines: true },
      { kind: 'symbol', path: 'src/utils/dates.ts', name: 'parseDate', defines: true },
    ]);
    const react = findEvidence('The UI is built with React 18 and served by Express.', undefined, w);
    expect(react).toContainEqual({ kind: 'version', manifest: 'package.json', key: 'dependencies.react', value: '^18.2.0', claim: '18' });
    expect(react).toContainEqual({ kind: 'version', manifest: 'package.json', key: 'dependencies.express', value: '^4.19.2' });
    const node = findEvidence('The project runs on Node 20.', undefined, w);
    expect(node.map((e) => (e.kind === 'version' ? e.manifest : ''))).toEqual(['.nvmrc', 'package.json', 'Dockerfile']);
    expect(findEvidence('Run the tests with `npm test`; they use vitest.', undefined, w)).toEqual([{ kind: 'script', manifest: 'package.json', name: 'test', value: 'vitest run', words: ['vitest'] }]);
    expect(kinds(findEvidence('Releases are cut with make release.', undefined, w))).toEqual(['script']);
    expect(findEvidence('tsconfig.json turns on `noUncheckedIndexedAccess`.', undefined, w)).toContainEqual({ kind: 'config', path: 'tsconfig.json', key: 'compilerOptions.noUncheckedIndexedAccess', value: 'true' });
    expect(findEvidence('Switched the router.', { kind: 'commit', ref: 'ABCDEF1234' }, w)).toEqual([{ kind: 'commit', sha: 'abcdef1234' }]);
  });

  it('cites nothing the workspace does not confirm', () => {
    const w = ws(base);
    expect(findEvidence('The helpers are in src/utils/time.ts and we plan to try Vue 3.', undefined, w)).toEqual([]);
    expect(findEvidence('Install with npm install and run npm run deploy.', undefined, w)).toEqual([]);
    expect(findEvidence('Version 1.2.3 shipped on Friday.', undefined, w)).toEqual([]);
  });
});

describe('checkEvidence', () => {
  const cite = (text: string) => findEvidence(text, undefined, ws(base));
  const changes = (ev: Evidence[], files: Record<string, string | undefined>) => {
    const next = Object.fromEntries(Object.entries({ ...base, ...files }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return ev.map((e) => checkEvidence(e, ws(next))).filter(Boolean);
  };

  it('flags a removed file, a removed name, a version the memory names that changed, a removed or changed script', () => {
    expect(changes(cite('The date helpers are in src/utils/dates.ts.'), { 'src/utils/dates.ts': undefined })).toEqual(['src/utils/dates.ts no longer exists']);
    expect(changes(cite('`formatDate` lives in src/utils/dates.ts.'), { 'src/utils/dates.ts': 'export function fmt() {}' })).toEqual(['src/utils/dates.ts no longer defines formatDate']);
    // A file that keeps only a re-export of the name no longer holds its definition.
    expect(changes(cite('`formatDate` lives in src/utils/dates.ts.'), { 'src/utils/dates.ts': "export { formatDate } from './time';" })).toEqual(['src/utils/dates.ts no longer defines formatDate']);
    expect(changes(cite('The UI is built with React 18.'), { 'package.json': pkg({ dependencies: { react: '^19.0.0' } }) })).toEqual(['package.json dependencies.react changed from ^18.2.0 to ^19.0.0']);
    expect(changes(cite('The project runs on Node 20.'), { '.nvmrc': '22\n' })).toEqual(['.nvmrc node changed from 20.11.1 to 22']);
    expect(changes(cite('Run the tests with npm test (vitest).'), { 'package.json': pkg({ scripts: { test: 'jest' } }) })).toEqual(['the script "test" changed from "vitest run" to "jest"']);
    expect(changes(cite('Lint with npm run lint.'), { 'package.json': pkg({ scripts: {} }) })).toEqual(['the script "lint" was removed from package.json']);
    expect(changes(cite('tsconfig.json sets `noUncheckedIndexedAccess`.'), { 'tsconfig.json': pkg({ compilerOptions: { noUncheckedIndexedAccess: false } }) })).toEqual(['tsconfig.json compilerOptions.noUncheckedIndexedAccess changed from true to false']);
  });

  it('says whether a change only tells that the cited thing is gone', () => {
    const [file] = cite('The date helpers are in src/utils/dates.ts.');
    expect(inspectEvidence(file, ws({}))).toEqual({ text: 'src/utils/dates.ts no longer exists', gone: true });
    const [react] = cite('The UI is built with React 18.');
    expect(inspectEvidence(react, ws({ 'package.json': pkg({ dependencies: { react: '^19.0.0' } }) }))).toEqual({ text: 'package.json dependencies.react changed from ^18.2.0 to ^19.0.0', gone: false });
    expect(inspectEvidence(react, ws({ 'package.json': pkg({ dependencies: {} }) }))).toEqual({ text: 'dependencies.react was removed from package.json', gone: true });
  });

  it('does not flag changes that keep the memory true', () => {
    expect(changes(cite('The UI is built with React 18.'), { 'package.json': pkg({ ...JSON.parse(base['package.json']), dependencies: { react: '^18.3.1', express: '^4.19.2' } }) })).toEqual([]);
    expect(changes(cite('The UI uses React.'), { 'package.json': pkg({ ...JSON.parse(base['package.json']), dependencies: { react: '^19.0.0', express: '^4.19.2' } }) })).toEqual([]);
    expect(changes(cite('The date helpers are in src/utils/dates.ts.'), { 'src/utils/dates.ts': '// edited\nexport function formatDate() {}' })).toEqual([]);
    expect(changes(cite('Run the tests with npm test.'), { 'package.json': pkg({ ...JSON.parse(base['package.json']), scripts: { test: 'vitest run --coverage' } }) })).toEqual([]);
    expect(changes(cite('`formatDate` lives in src/utils/dates.ts.'), { 'tsconfig.json': '{ not json' })).toEqual([]);
  });

  it('flags a commit that left the checked-out history only when git can tell', () => {
    const ev: Evidence = { kind: 'commit', sha: 'abc1234' };
    expect(checkEvidence(ev, ws(base))).toBeUndefined();
    expect(checkEvidence(ev, ws(base, ['abc1234ff']))).toBeUndefined();
    expect(checkEvidence(ev, ws(base, ['ffff']))).toBe('commit abc1234 is not in the checked-out history');
  });

  it('compares versions by the parts the memory names', () => {
    expect(versionAgrees('>=20.11', '20')).toBe(true);
    expect(versionAgrees('^18.3.1', '18.2')).toBe(false);
    expect(versionAgrees('3.11-slim', '3.11')).toBe(true);
    expect(versionAgrees('22', '20')).toBe(false);
  });
});

describe('evidence beyond the basics', () => {
  const py = {
    'setup.cfg': '[options]\npython_requires = >= 3.7\ninstall_requires =\n    click >= 8.0\n',
    'setup.py': 'setup(install_requires=["Werkzeug >= 2.2.2", "Jinja2>=3.0"])\n',
    '.pre-commit-config.yaml': 'repos:\n  - repo: https://github.com/pycqa/flake8\n    hooks:\n      - id: flake8\n        additional_dependencies: [flake8-bugbear]\n',
  };
  const check = (ev: Evidence[], files: Record<string, string>) => ev.map((e) => checkEvidence(e, ws(files))).filter(Boolean);

  it('reads Python pins in setup.cfg and setup.py, and follows a pin that moves to pyproject.toml', () => {
    const ev = findEvidence('We support Python 3.7 and need Werkzeug 2.', undefined, ws(py));
    expect(ev).toEqual([
      { kind: 'version', manifest: 'setup.py', key: 'werkzeug', value: '>= 2.2.2', claim: '2' },
      { kind: 'version', manifest: 'setup.cfg', key: 'python_requires', value: '>= 3.7', claim: '3.7' },
    ]);
    const moved = { 'pyproject.toml': '[project]\nrequires-python = ">=3.7"\ndependencies = ["Werkzeug>=2.3"]\n' };
    expect(check(ev, moved)).toEqual([]);
    expect(check(ev, { 'pyproject.toml': '[project]\nrequires-python = ">=3.8"\ndependencies = ["Werkzeug>=3.0"]\n' })).toEqual([
      'pyproject.toml werkzeug changed from >= 2.2.2 to >=3.0',
      'pyproject.toml requires-python is now >=3.8 (setup.cfg python_requires was >= 3.7)',
    ]);
  });

  it('cites keys and values a memory names in a YAML config, and a quoted section of package.json', () => {
    const w = { ...py, 'package.json': pkg({ jest: { testEnvironment: 'node' } }) };
    const yaml = findEvidence('Lint runs flake8 with the bugbear plugin from .pre-commit-config.yaml.', undefined, ws(w));
    expect(yaml).toContainEqual({ kind: 'mention', path: '.pre-commit-config.yaml', words: ['flake8'] });
    expect(check(yaml, { '.pre-commit-config.yaml': 'repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    hooks:\n      - id: ruff\n' })).toEqual([
      '.pre-commit-config.yaml no longer mentions flake8',
    ]);
    // A comment that says the word is not a setting.
    expect(check(yaml, { '.pre-commit-config.yaml': '# flake8 was replaced\nrepos: []\n' })).toEqual(['.pre-commit-config.yaml no longer mentions flake8']);
    const jest = findEvidence('Jest is configured in the "jest" section of package.json.', undefined, ws(w));
    expect(jest).toContainEqual({ kind: 'config', path: 'package.json', key: 'jest', value: '{…}' });
    expect(check(jest, { 'package.json': pkg({ jest: { testEnvironment: 'jsdom' } }) })).toEqual([]);
    expect(check(jest, { 'package.json': pkg({}) })).toEqual(['jest was removed from package.json']);
  });

  it('cites a setting whose key and value the memory writes out, and a script named in a package folder', () => {
    const w = {
      'packages/app/tsconfig.json': pkg({ compilerOptions: { target: 'ES2022' } }),
      'packages/app/package.json': pkg({ scripts: { 'build-bundle': 'rollup --config rollup.config.ts' } }),
    };
    // tsconfig.json is JSON with comments.
    w['packages/app/tsconfig.json'] = '{\n  // build settings\n  "compilerOptions": { "target": "ES2022", },\n}\n';
    const ev = findEvidence('packages/app/tsconfig.json sets the compiler target to ES2022.', undefined, ws(w));
    expect(ev).toContainEqual({ kind: 'config', path: 'packages/app/tsconfig.json', key: 'compilerOptions.target', value: '"ES2022"' });
    const script = findEvidence('In packages/app the build-bundle script bundles with rollup.', undefined, ws(w));
    expect(script).toContainEqual({ kind: 'script', manifest: 'packages/app/package.json', name: 'build-bundle', value: 'rollup --config rollup.config.ts', words: ['rollup'] });
    // The config file keeps its name: only the program counts.
    expect(check(script, { 'packages/app/package.json': pkg({ scripts: { 'build-bundle': 'rolldown --config rollup.config.ts' } }) })).toEqual([
      'the script "build-bundle" changed from "rollup --config rollup.config.ts" to "rolldown --config rollup.config.ts"',
    ]);
  });

  it('takes a version named with a few words between, and does not cite a pin that does not allow it', () => {
    const w = { 'package.json': pkg({ devDependencies: { 'lint-staged': '^15.5.0' }, engines: { node: '^18.0.0 || ^20.0.0 || >=22.0.0' } }) };
    expect(findEvidence('lint-staged is on v15 in the root devDependencies.', undefined, ws(w))).toEqual([
      { kind: 'version', manifest: 'package.json', key: 'devDependencies.lint-staged', value: '^15.5.0', claim: '15' },
    ]);
    expect(findEvidence('We will move to lint-staged 16 next month.', undefined, ws(w))).toEqual([]);
    // "Node 22" is allowed by the range: dropping 18 from it does not touch the memory.
    const node = findEvidence('CI also runs the tests on Node 22.', undefined, ws(w));
    expect(check(node, { 'package.json': pkg({ engines: { node: '^20.0.0 || >=22.0.0' } }) })).toEqual([]);
  });

  it('names from prose count only where the cited file defines them, and a path is not a name', () => {
    const w = { 'index.js': "class Help {}\n// the base class for the command\nexports.Help = Help;\n", 'src/publicUtils.ts': 'export { mergeConfig } from "./config";\n' };
    expect(findEvidence('The Help class, which formats the help output, is defined in index.js.', undefined, ws(w))).toEqual([
      { kind: 'file', path: 'index.js', hash: expect.any(String) },
      { kind: 'symbol', path: 'index.js', name: 'Help', defines: true },
    ]);
    expect(findEvidence('mergeConfig is exported from src/publicUtils.ts.', undefined, ws(w)).map((e) => (e.kind === 'symbol' ? e.name : e.kind))).toEqual(['file', 'mergeConfig']);
  });
});

