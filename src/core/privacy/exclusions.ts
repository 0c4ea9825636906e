// Files whose content is never captured: secrets and credentials, dependencies, build output, VCS internals,
// minified and generated files. Paths are workspace-relative with `/` separators.
import picomatch from 'picomatch';

export const DEFAULT_EXCLUDE_GLOBS: string[] = [
  // Environment and secret files
  '**/.env',
  '**/.env.*',
  '**/*.env',
  '**/.envrc',
  '**/secrets.*',
  '**/secret.*',
  '**/*.secret',
  '**/*.secrets',
  '**/credentials',
  '**/credentials.*',
  '**/*credentials*.json',
  '**/client_secret*.json',
  '**/service-account*.json',
  '**/*.tfvars',
  '**/*.tfvars.json',
  '**/*.tfstate',
  '**/*.tfstate.*',
  '**/terraform.tfstate*',
  '**/.vault-token',
  '**/vault.yml',
  '**/*.vault.yml',
  '**/.aws/**',
  '**/.azure/**',
  '**/.gcloud/**',
  '**/.config/gcloud/**',
  '**/.kube/config',
  '**/kubeconfig',
  '**/*.kubeconfig',
  '**/.docker/config.json',
  '**/.git-credentials',
  '**/.htpasswd',
  '**/wp-config.php',
  // Package manager and tool credentials
  '**/.npmrc',
  '**/.yarnrc',
  '**/.yarnrc.yml',
  '**/.pypirc',
  '**/.netrc',
  '**/_netrc',
  '**/.pgpass',
  '**/.my.cnf',
  '**/.gem/credentials',
  '**/.cargo/credentials',
  '**/.cargo/credentials.toml',
  '**/.m2/settings.xml',
  '**/.gradle/gradle.properties',
  '**/.composer/auth.json',
  '**/auth.json',
  // Keys and certificates
  '**/*.pem',
  '**/*.key',
  '**/*.p12',
  '**/*.pfx',
  '**/*.jks',
  '**/*.keystore',
  '**/*.truststore',
  '**/*.crt',
  '**/*.cer',
  '**/*.der',
  '**/*.csr',
  '**/*.p8',
  '**/*.ppk',
  '**/*.asc',
  '**/*.gpg',
  '**/*.pgp',
  '**/*.kdbx',
  '**/*.age',
  '**/id_rsa*',
  '**/id_dsa*',
  '**/id_ecdsa*',
  '**/id_ed25519*',
  '**/.ssh/**',
  '**/.gnupg/**',
  // Dependencies and caches
  '**/node_modules/**',
  '**/bower_components/**',
  '**/jspm_packages/**',
  '**/vendor/**',
  '**/.venv/**',
  '**/venv/**',
  '**/__pycache__/**',
  '**/*.pyc',
  '**/.tox/**',
  '**/.mypy_cache/**',
  '**/.pytest_cache/**',
  '**/.cache/**',
  '**/.parcel-cache/**',
  '**/.turbo/**',
  '**/.gradle/**',
  '**/.yarn/**',
  '**/.pnpm-store/**',
  // Build output
  '**/dist/**',
  '**/out/**',
  '**/build/**',
  '**/target/**',
  '**/bin/Debug/**',
  '**/bin/Release/**',
  '**/obj/**',
  '**/.next/**',
  '**/.nuxt/**',
  '**/.svelte-kit/**',
  '**/.output/**',
  '**/coverage/**',
  '**/.nyc_output/**',
  '**/*.tsbuildinfo',
  '**/*.map',
  // Version control and editor internals
  '**/.git/**',
  '**/.hg/**',
  '**/.svn/**',
  '**/.idea/**',
  '**/.vscode-test/**',
  '**/.DS_Store',
  // Minified / generated files
  '**/*.min.js',
  '**/*.min.mjs',
  '**/*.min.css',
  '**/*.bundle.js',
  '**/*.chunk.js',
  // Lock files
  '**/package-lock.json',
  '**/npm-shrinkwrap.json',
  '**/yarn.lock',
  '**/pnpm-lock.yaml',
  '**/bun.lockb',
  '**/bun.lock',
  '**/Cargo.lock',
  '**/poetry.lock',
  '**/Pipfile.lock',
  '**/uv.lock',
  '**/pdm.lock',
  '**/composer.lock',
  '**/Gemfile.lock',
  '**/go.sum',
  '**/packages.lock.json',
  '**/Podfile.lock',
  '**/flake.lock',
  '**/*.lock',
  // Databases and dumps
  '**/*.sqlite',
  '**/*.sqlite3',
  '**/*.db',
  '**/*.dump',
  '**/*.sql.gz',
  '**/*.bak',
];

/** Normalises a workspace-relative path: back-slashes to `/`, no leading `./` or `/`. */
export function normalizeRelativePath(relativePath: string): string {
  let p = relativePath.replace(/\\/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  p = p.replace(/^\/+/, '').replace(/\/{2,}/g, '/');
  return p;
}

/**
 * Returns a predicate that is true for paths matched by any of `globs` (picomatch syntax, dot files included,
 * case-sensitive). Invalid globs throw here, when the matcher is built, with the offending glob named.
 */
export function createExclusionMatcher(globs: string[]): (relativePath: string) => boolean {
  const cleaned = globs.map((g) => g.trim()).filter((g) => g.length > 0 && !g.startsWith('#'));
  const matchers = cleaned.map((glob) => {
    try {
      return picomatch(normalizeRelativePath(glob), { dot: true });
    } catch (err) {
      throw new Error(`Invalid exclusion glob ${JSON.stringify(glob)}: ${(err as Error).message}`);
    }
  });
  return (relativePath: string) => {
    const p = normalizeRelativePath(relativePath);
    if (!p) return false;
    return matchers.some((m) => m(p));
  };
}
