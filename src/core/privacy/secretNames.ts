// Decides whether a variable/key name announces a secret, and whether a value is only a placeholder.
// Used by the generic assignment detectors in redact.ts.

/** `strong`: any real value is a secret (PASSWORD, API_KEY, ...); `weak`: only high-entropy values are (FOO_KEY, AUTH). */
export type SecretNameStrength = 'strong' | 'weak';

/** Substrings of the compacted name (separators removed, lower case) that make it a strong secret name. */
const STRONG_FRAGMENTS = ['password', 'passwd', 'passphrase', 'secret', 'apikey', 'privatekey', 'accesskey', 'secretkey', 'signingkey', 'encryptionkey', 'masterkey', 'sessionkey', 'accountkey', 'credential', 'authkey'];
/** Whole words that make a name strong (kept word-level so `tokenizer`, `max_tokens`, `passage` don't count). */
const STRONG_WORDS = new Set(['pwd', 'pass', 'token', 'creds', 'pat']);
/** Strong words too common alone in code (`pass: "passed"`, `pat: pattern`) to count without another word. */
const STRONG_ONLY_WITH_CONTEXT = new Set(['pass', 'pat']);
/** A word ending in `token` (authtoken, pgtoken) also counts. */
const TOKEN_SUFFIX = /token$/;
/** Last words that turn a secret-looking name into metadata about the secret (TOKEN_URL, PASSWORD_MIN_LENGTH). */
const NON_SECRET_LAST_WORDS = new Set([
  'url', 'uri', 'urls', 'endpoint', 'host', 'path', 'file', 'filename', 'files', 'dir', 'directory', 'name', 'names', 'type', 'types', 'kind',
  'length', 'len', 'size', 'ttl', 'seconds', 'secs', 'sec', 'ms', 'millis', 'minutes', 'mins', 'hours', 'days', 'in', 'expiry', 'expires', 'expiration', 'lifetime', 'timeout', 'age', 'header', 'headers', 'prefix', 'suffix',
  'field', 'fields', 'env', 'var', 'variable', 'count', 'limit', 'min', 'max', 'policy', 'rotation', 'id', 'ids', 'arn', 'version', 'enabled',
  'enable', 'disabled', 'required', 'mode', 'label', 'hint', 'placeholder', 'message', 'msg', 'text', 'title', 'error', 'errors', 'prompt',
  'description', 'desc', 'regex', 'pattern', 'format', 'hash', 'hashed', 'digest', 'input', 'button', 'btn', 'icon', 'link', 'route', 'page', 'component',
  'form', 'visible', 'visibility', 'strength', 'validator', 'validation', 'changed', 'updated', 'at', 'location', 'ref', 'provider', 'store',
  'manager', 'service', 'handler', 'class', 'schema', 'column', 'table', 'selector', 'source', 'algorithm', 'alg', 'method', 'scheme',
  'encoding', 'rounds', 'bits', 'usage', 'scope', 'scopes', 'issuer', 'audience', 'helper', 'cmd', 'command', 'template', 'option', 'options',
  'param', 'params', 'parameter', 'manifest', 'index', 'position', 'pos', 'start', 'end', 'offset', 'kinds', 'list', 'map', 'set',
  'filter', 'stdin', 'login', 'reset', 'style', 'class', 'css', 'color', 'width', 'height', 'sent', 'received', 'valid', 'invalid', 'exists',
  'present', 'missing', 'set', 'loaded', 'status', 'state', 'name', 'account', 'user', 'username', 'email', 'region', 'project', 'registry',
]);
/** First words that make a name a function, flag or counter rather than a value holder. */
const NON_SECRET_FIRST_WORDS = new Set([
  'max', 'min', 'num', 'show', 'hide', 'has', 'is', 'use', 'enable', 'disable', 'require', 'requires', 'forgot', 'reset', 'change', 'on',
  'handle', 'validate', 'get', 'set', 'fetch', 'generate', 'toggle', 'no', 'should', 'can', 'allow', 'check', 'verify', 'hash', 'mask', 'count',
  'total', 'input', 'output', 'prompt', 'completion', 'cached', 'expected', 'invalid', 'empty', 'missing', 'bad', 'wrong', 'test', 'mock', 'fake',
  'dummy', 'sample', 'example', 'placeholder', 'next', 'prev', 'previous', 'last', 'cancel', 'parse', 'read', 'write', 'load', 'save',
  'store', 'render', 'format', 'encode', 'decode', 'create', 'update', 'delete', 'remove', 'rotate', 'revoke',
]);
/** Last words that, with at least one word before them, make a weak (entropy-gated) secret name. */
const WEAK_LAST_WORDS = new Set(['key', 'auth', 'sig', 'signature', 'salt', 'cookie', 'sid', 'hmac', 'license', 'licence', 'seed']);
/** First words of `<x>_key` names that are data-structure or crypto-public keys, not secrets. */
const NON_SECRET_KEY_FIRST_WORDS = new Set([
  'public', 'pub', 'primary', 'foreign', 'sort', 'partition', 'cache', 'composite', 'unique', 'lookup', 'object', 'row', 'i18n',
  'translation', 'map', 'dict', 'index', 'hot', 'short', 'idempotency', 'react', 'list', 'item', 'group', 'tab', 'menu', 'route', 'query',
  'file', 'column', 'table', 'attribute', 'attr', 'field', 'entity', 'config', 'setting', 'settings', 'meta', 'node', 'storage', 'local',
  'session', 'state', 'context', 'event', 'message', 'menu', 'shortcut', 'keyboard', 'api', 'foreign', 'dedupe', 'dedup', 'bucket', 's3',
  'redis', 'memcache', 'path', 'sort', 'id', 'name', 'label', 'value', 'data', 'type', 'hash', 'record', 'prop', 'property', 'component',
  'element', 'child', 'parent', 'root', 'media', 'locale', 'lang', 'search', 'filter', 'order', 'key', 'next', 'prev', 'first', 'last',
]);

/** Splits `dbPassword`, `DB_PASSWORD`, `spring.datasource.password`, `$api-key` into lower-case words. */
export function nameWords(name: string): string[] {
  const words: string[] = [];
  for (const part of name.split(/[^A-Za-z0-9]+/)) {
    for (const w of part.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? []) words.push(w.toLowerCase());
  }
  return words;
}

/** How strongly a name announces a secret value, or null when it does not. */
export function classifySecretName(name: string): SecretNameStrength | null {
  const words = nameWords(name);
  if (!words.length || name.length > 80) return null;
  const first = words[0];
  const last = words[words.length - 1];
  if (NON_SECRET_LAST_WORDS.has(last)) return null;
  if (words.length > 1 && NON_SECRET_FIRST_WORDS.has(first)) return null;
  const compact = words.join('');
  if (STRONG_FRAGMENTS.some((f) => compact.includes(f))) return 'strong';
  if (words.some((w) => (STRONG_WORDS.has(w) && (words.length > 1 || !STRONG_ONLY_WITH_CONTEXT.has(w))) || (TOKEN_SUFFIX.test(w) && w.length <= 16))) return 'strong';
  if (words.length >= 2 && WEAK_LAST_WORDS.has(last) && !(last === 'key' && NON_SECRET_KEY_FIRST_WORDS.has(words[words.length - 2]))) return 'weak';
  if (words.length === 1 && (last === 'auth' || last === 'salt')) return 'weak';
  return null;
}

/** True when a strong name is strong only through the word "token" (no password/secret/key in it). */
export function isTokenOnlyName(name: string): boolean {
  const words = nameWords(name);
  const compact = words.join('');
  return words.some((w) => TOKEN_SUFFIX.test(w)) && !STRONG_FRAGMENTS.some((f) => compact.includes(f)) && !words.some((w) => w !== 'token' && STRONG_WORDS.has(w));
}

/** Values that are documentation, references or templates, never real secrets. Documented policy, see redact.ts. */
const PLACEHOLDER_WORDS = new Set([
  'changeme', 'change_me', 'change-me', 'changeit', 'password', 'passwd', 'pass', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'key',
  'null', 'none', 'nil', 'undefined', 'true', 'false', 'yes', 'no', 'on', 'off', 'todo', 'tbd', 'fixme', 'empty', 'blank', 'required',
  'optional', 'string', 'str', 'number', 'int', 'bool', 'boolean', 'any', 'unknown', 'object', 'bytes', 'text', 'value', 'secretstr',
  'hidden', 'masked', 'redacted', 'omitted', 'unset', 'default', 'mypassword', 'yourpassword', 'my-password', 'your-password', 'mysecret',
  'supersecret', 'secretpassword', 'foobar', 'foo', 'bar', 'baz', 'test', 'testing', 'abc', 'abc123', 'string?', 'str?', 'env',
  // fetch() credentials modes and GitHub Actions permission levels
  'include', 'omit', 'same-origin', 'read', 'write', 'read-all', 'write-all', 'passed', 'failed', 'skip', 'skipped',
  // dummy keys for local OpenAI-compatible servers (Ollama, LM Studio, vLLM, llama.cpp) that ignore the key
  'unused', 'not-needed', 'not-used', 'notneeded', 'ignored', 'n/a', 'anything', 'no-key', 'nokey', 'ollama', 'lm-studio', 'lmstudio', 'sk-no-key-required', 'local',
]);
const PLACEHOLDER_SHAPES: RegExp[] = [
  /^\$\{.*\}$/s, // ${VAR}
  /^\$[A-Za-z_][A-Za-z0-9_]*$/, // $VAR
  /^\$\(.*\)$/s, // $(command)
  /^\{\{.*\}\}$/s, // {{ template }}
  /^\$\{\{.*\}\}$/s, // ${{ secrets.X }}
  /^%[A-Za-z_][A-Za-z0-9_]*%$/, // %VAR%
  /^%\([A-Za-z_]+\)s$/, // %(name)s
  /^<[^<>]*>$/, // <your-password>
  /^\[[^\]]*\]$/, // [REDACTED:kind], [your token]
  /^([*xX.#_\-•0])\1{2,}$/, // ****, xxxx, ....
  /^(your|my)[-_ ]?(own[-_ ]?)?[a-z_\- ]*(password|passwd|pass|secret|token|key|here|value|id)$/i, // your_api_key_here
  /^(insert|enter|put|add|replace|paste)[-_ ][a-z_\- ]+$/i, // insert-token-here
  /(example|placeholder|dummy|sample|redacted|xxxxx|not[-_ ]?a[-_ ]?real|fake[-_ ]?(key|token|secret|password))/i,
  /^(process\.env|os\.environ|os\.getenv|env\(|getenv\(|secrets\.|vault:|ref\+|arn:aws:secretsmanager|projects\/[^/]+\/secrets\/|keyvault:|op:\/\/|!vault|!secret|!Ref|!Sub|!GetAtt)/i,
  /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/, // ANOTHER_ENV_NAME (a reference to a variable, not a value)
  /^(mock|fake|test|testing|dummy|sample|stub|demo)[-_ ]/i, // mock-token, test_password
  /[-_ ](token|password|passwd|secret|key|pass|pwd)$/i, // db-password (a name, not a value)
  /^[\^~<>=v]{0,2}\d+(\.\d+){1,3}[-+.\w]*(\s*(\|\||<=?|>=?|-)\s*[\^~<>=v]{0,2}\d+(\.\d+){0,3}[-+.\w]*)*$/, // ^10.1.2, >=3.9 <4
  /^\d{1,5}$/, // small numbers are counts and ports, not secrets
];

/**
 * Placeholders by their shape only (`${VAR}`, `<password>`, `****`, `your_password`, `example`), not by
 * dictionary word: in a URL's credentials even `password` or `changeme` is the password actually used.
 */
export function isPlaceholderShape(value: string): boolean {
  const v = value.trim();
  if (!v) return true;
  return PLACEHOLDER_SHAPES.slice(0, 13).some((re) => re.test(v));
}

export function isPlaceholderValue(value: string): boolean {
  const v = value.trim();
  if (v.length < 3) return true;
  if (PLACEHOLDER_WORDS.has(v.toLowerCase())) return true;
  return PLACEHOLDER_SHAPES.some((re) => re.test(v));
}

const TYPE_ANNOTATION = /^(string|number|boolean|str|int|bool|bytes|any|unknown|null|undefined|SecretStr|Optional\[.*\]|Option<.*>|String|&str|\[\]byte|char\s*\*)(\s*[|;,=)]|\s*$)/;

/**
 * True when an unquoted value is code rather than data: a call, a member path (`config.apiKey`), a
 * type annotation, or an identifier that itself names a secret (`password = dbPassword`).
 */
export function isCodeLikeUnquotedValue(value: string, nextChar: string): boolean {
  const v = value.trim();
  if (TYPE_ANNOTATION.test(v)) return true;
  if (/^[A-Za-z_$][\w$.]*\s*\(/.test(v)) return true; // getToken(, key.trim(
  if (/^[A-Za-z_$][\w$.]*(\[[^\]]*\])*\s*(\|\||&&|\?\?|[-+*/%?<>|=]|[=!]==?)\s/.test(v)) return true; // opts.apiKey || 'x', Foo.Key | null
  if (/,[A-Za-z_$][\w$.]*=/.test(v) || /^![01](?!\w)/.test(v)) return true; // minified code: a=1,b.c=2
  if (/^(new|await|this|self|require|import|function|lambda|fn|async)\b/.test(v)) return true;
  if (/^[A-Za-z_$][\w$]*(\??\.[A-Za-z_$][\w$]*)+[;,)]?$/.test(v)) return true; // config.apiKey
  if (/^[A-Za-z_$][\w$]*(\[[^\]]*\])+[;,]?$/.test(v)) return true; // env["X"]
  if (/^[A-Za-z_$][\w$]*[;,]$/.test(v)) return true; // token;  (a statement)
  if ((nextChar === ';' || nextChar === ',' || nextChar === ')') && /^[A-Za-z_$][\w$]*$/.test(v)) return true;
  if (/^[A-Za-z_$][\w$]*$/.test(v) && classifySecretName(v) !== null) return true; // password = dbPassword
  if (/^[A-Za-z_$][\w$]*$/.test(v) && /[a-z][A-Z]/.test(v) && !/\d/.test(v)) return true; // camelCase identifier
  return false;
}
