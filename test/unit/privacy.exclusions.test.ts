import { describe, expect, it } from 'vitest';
import { DEFAULT_EXCLUDE_GLOBS, createExclusionMatcher, normalizeRelativePath } from '../../src/core/privacy/exclusions';

describe('DEFAULT_EXCLUDE_GLOBS', () => {
  const excluded = createExclusionMatcher(DEFAULT_EXCLUDE_GLOBS);

  it.each([
    '.env', '.env.local', 'apps/web/.env.production', 'config/secrets.yml', 'secrets.json', 'certs/server.pem', 'tls/server.key',
    'keys/client.p12', 'keys/client.pfx', 'home/.ssh/id_rsa', 'id_rsa.pub', 'id_ed25519', 'android/app/release.keystore', '.npmrc',
    'sub/.pypirc', '.netrc', 'node_modules/lodash/index.js', 'packages/a/node_modules/x/y.js', 'dist/extension.js', 'out/main.js',
    'build/index.html', 'app/build/output.txt', '.git/config', '.git/objects/ab/cdef', 'vendor/jquery.min.js', 'public/app.min.js',
    'package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'Cargo.lock', 'poetry.lock', 'go.sum', 'infra/terraform.tfstate', 'prod.tfvars',
    '.aws/credentials', '.docker/config.json', 'coverage/lcov.info', 'target/debug/app', '.vscode-test/x',
  ])('excludes %s', (p) => {
    expect(excluded(p)).toBe(true);
  });

  it.each([
    'src/extension.ts', 'README.md', 'package.json', 'src/env.ts', 'docs/environment.md', 'src/secretsManager.ts', 'src/keys.ts',
    'src/distance.ts', 'src/output/format.ts', 'tsconfig.json', '.github/workflows/ci.yml', 'test/unit/build.test.ts', 'src/lock.ts',
  ])('keeps %s', (p) => {
    expect(excluded(p)).toBe(false);
  });
});

describe('createExclusionMatcher', () => {
  it('normalises Windows back-slashes and leading ./', () => {
    const m = createExclusionMatcher(['**/.env', 'docs/private/**']);
    expect(m('config\\.env')).toBe(true);
    expect(m('.\\docs\\private\\plan.md')).toBe(true);
    expect(m('./docs/private/plan.md')).toBe(true);
    expect(m('docs/public/plan.md')).toBe(false);
    expect(normalizeRelativePath('.\\a\\\\b/c')).toBe('a/b/c');
  });

  it('matches dot files and user globs, ignores blank and comment entries', () => {
    const m = createExclusionMatcher(['', '  ', '# comment', '**/*.sqlite', 'notes/*.txt']);
    expect(m('.hidden/db.sqlite')).toBe(true);
    expect(m('notes/a.txt')).toBe(true);
    expect(m('notes/deep/a.txt')).toBe(false);
    expect(m('')).toBe(false);
  });

  it('matches nothing with no globs', () => {
    expect(createExclusionMatcher([])('.env')).toBe(false);
  });
});
