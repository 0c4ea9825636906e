// Secret redaction for everything the engine captures or stores. Never imports vscode.
//
// Policy (documented decisions):
// - A secret is replaced by `[REDACTED:<kind>]`; the text around it (`API_KEY=`, `Authorization: Bearer `,
//   `postgres://user:` ... `@host`) is kept so the event still says what happened.
// - Placeholders are not secrets and stay: empty values, `${VAR}`, `$VAR`, `{{ x }}`, `%VAR%`, `<your-password>`,
//   `****`, `xxxx`, `changeme`/`changeit` (well-known defaults, public knowledge), values equal to the key word
//   (`password: password`), type annotations (`password: string`), references (`process.env.X`, `config.apiKey`,
//   `secrets.GITHUB_TOKEN`) and values containing `example`/`placeholder`/`dummy` (e.g. AWS's documented example keys).
// - Vendor tokens with a recognisable prefix (ghp_, sk_live_, xoxb- ...) are redacted wherever they appear.
//   Values next to strong key names (PASSWORD, SECRET, TOKEN, API_KEY ...) are redacted whatever they look like;
//   values next to weak names (FOO_KEY, AUTH, SALT, SIGNATURE) only when they are high-entropy.
// - Bare hex strings, UUIDs, git SHAs, lockfile integrity hashes and base64 blobs with no key-like name nearby are
//   left alone: they are almost always identifiers, and redacting them would destroy useful context.
// - Every regex has bounded quantifiers and no nested ambiguous repetition, so matching is linear in the input.
//   Input beyond MAX_SCAN_CHARS is not scanned and is therefore dropped (replaced by a marker), never passed through.
import { isHighEntropySecret } from './entropy';
import { classifySecretName, isCodeLikeUnquotedValue, isPlaceholderShape, isPlaceholderValue, isTokenOnlyName } from './secretNames';

export interface RedactionFinding {
  kind: string;
  /** Offsets in the ORIGINAL text (UTF-16 code units), end exclusive. */
  start: number;
  end: number;
}

/** Longest text scanned per call; anything after it is replaced by `[REDACTED:unscanned]`. */
export const MAX_SCAN_CHARS = 4_000_000;

const KINDS = {
  'aws-access-key-id': 'AWS access key id (AKIA/ASIA...)',
  'aws-secret-access-key': 'AWS secret access key next to its name or its key id',
  'aws-session-token': 'AWS session/security token',
  'gcp-api-key': 'Google Cloud / Firebase API key (AIza...)',
  'gcp-service-account-private-key': 'private_key field of a Google service-account JSON key',
  'azure-storage-account-key': 'AccountKey= in an Azure storage connection string',
  'azure-shared-access-key': 'SharedAccessKey= in an Azure Service Bus / Event Hubs / IoT connection string',
  'azure-sas-signature': 'sig= of an Azure shared access signature (SAS) URL or token',
  'github-pat': 'GitHub classic personal access token (ghp_)',
  'github-oauth-token': 'GitHub OAuth access token (gho_)',
  'github-user-token': 'GitHub App user-to-server token (ghu_)',
  'github-server-token': 'GitHub App installation / Actions token (ghs_)',
  'github-refresh-token': 'GitHub refresh token (ghr_)',
  'github-fine-grained-pat': 'GitHub fine-grained personal access token (github_pat_)',
  'gitlab-pat': 'GitLab personal/project/group access token (glpat-)',
  'gitlab-deploy-token': 'GitLab deploy token (gldt-)',
  'gitlab-runner-token': 'GitLab runner authentication or registration token (glrt-, GR1348941)',
  'gitlab-other-token': 'Other GitLab tokens (glptt-, glft-, glsoat-, glimt-, glagent-, gloas-, glcbt-, glffct-)',
  'slack-bot-token': 'Slack bot token (xoxb-)',
  'slack-user-token': 'Slack user token (xoxp-)',
  'slack-app-token': 'Slack app-level token (xapp-)',
  'slack-legacy-token': 'Slack legacy/workspace/refresh tokens (xoxa-, xoxr-, xoxs-, xoxe-)',
  'slack-webhook-url': 'Slack incoming webhook / workflow URL',
  'stripe-secret-key': 'Stripe secret key (sk_live_, sk_test_)',
  'stripe-restricted-key': 'Stripe restricted key (rk_live_, rk_test_)',
  'stripe-publishable-key': 'Stripe live publishable key (pk_live_)',
  'stripe-webhook-secret': 'Stripe webhook signing secret (whsec_)',
  'twilio-api-key': 'Twilio API key SID (SK + 32 hex)',
  'twilio-auth-token': 'Twilio auth token next to its name',
  'sendgrid-api-key': 'SendGrid API key (SG.x.y)',
  'mailgun-api-key': 'Mailgun API key (key-...)',
  'npm-token': 'npm access token (npm_)',
  'npmrc-auth': '_authToken / _auth / _password in an .npmrc',
  'pypi-token': 'PyPI upload token (pypi-Ag...)',
  'dockerhub-pat': 'Docker Hub personal / organisation access token (dckr_pat_, dckr_oat_)',
  'openai-api-key': 'OpenAI legacy user API key (sk-...)',
  'openai-project-key': 'OpenAI project / service-account / admin key (sk-proj-, sk-svcacct-, sk-admin-)',
  'anthropic-api-key': 'Anthropic API key (sk-ant-)',
  'huggingface-token': 'Hugging Face access token (hf_, api_org_)',
  'google-oauth-client-secret': 'Google OAuth client secret (GOCSPX-)',
  'google-oauth-access-token': 'Google OAuth access token (ya29.)',
  'google-oauth-refresh-token': 'Google OAuth refresh token (1//0...)',
  'shopify-token': 'Shopify access token / shared secret (shpat_, shpca_, shppa_, shpss_)',
  'square-access-token': 'Square access token (EAAA..., sq0atp-)',
  'square-oauth-secret': 'Square OAuth application secret (sq0csp-)',
  'discord-bot-token': 'Discord bot token (three dot-separated base64 parts)',
  'discord-webhook-url': 'Discord webhook URL',
  'telegram-bot-token': 'Telegram bot token (123456789:AA...)',
  'heroku-api-key': 'Heroku API key (HRKU-, or a UUID next to a Heroku key name)',
  'digitalocean-token': 'DigitalOcean personal / OAuth / refresh token (dop_v1_, doo_v1_, dor_v1_)',
  'datadog-api-key': 'Datadog API key next to its name',
  'datadog-app-key': 'Datadog application key next to its name',
  'newrelic-api-key': 'New Relic user / insights keys (NRAK-, NRII-)',
  'newrelic-license-key': 'New Relic ingest license key (...NRAL)',
  'sentry-dsn-secret': 'Secret part of a legacy Sentry DSN (https://public:secret@host)',
  'sentry-auth-token': 'Sentry auth token (sntrys_, sntryu_)',
  'age-secret-key': 'age encryption secret key (AGE-SECRET-KEY-1...)',
  'atlassian-api-token': 'Atlassian / Jira / Confluence API token (ATATT3...)',
  'linear-api-key': 'Linear API key (lin_api_)',
  'postman-api-key': 'Postman API key (PMAK-)',
  'terraform-cloud-token': 'Terraform Cloud / Enterprise token (x.atlasv1.y)',
  'vault-token': 'HashiCorp Vault service / batch token (hvs., hvb.)',
  'grafana-token': 'Grafana Cloud / service-account token (glc_, glsa_)',
  'databricks-token': 'Databricks personal access token (dapi...)',
  'pulumi-token': 'Pulumi access token (pul-)',
  'doppler-token': 'Doppler token (dp.pt., dp.st. ...)',
  jwt: 'JSON Web Token (eyJ...eyJ...sig)',
  'private-key': 'PEM private key block (RSA, EC, DSA, OPENSSH, PKCS#8, encrypted), also truncated',
  'pgp-private-key': 'PGP private key block, also truncated',
  'postgres-url-password': 'Password in a postgres:// connection URL',
  'mysql-url-password': 'Password in a mysql:// / mariadb:// connection URL',
  'mongodb-url-password': 'Password in a mongodb:// / mongodb+srv:// connection URL',
  'redis-url-password': 'Password in a redis:// / rediss:// connection URL',
  'amqp-url-password': 'Password in an amqp:// / amqps:// connection URL',
  'url-password': 'Password in any scheme://user:password@host URL',
  'url-query-secret': 'Secret-named query parameter (?password=, &access_token=, &api_key= ...)',
  'connection-string-password': 'Password=/Pwd= in an ADO.NET / ODBC / JDBC-style connection string',
  'basic-auth-header': 'Credentials of an HTTP Basic Authorization header',
  'bearer-token': 'Token of an HTTP Bearer Authorization header or a "Bearer <token>" string',
  'api-key-header': 'API key HTTP header (X-Api-Key, PRIVATE-TOKEN, X-Auth-Token ...)',
  'cli-password-flag': 'Password/token given on a command line (--password=, mysql -p, curl -u user:pass, sshpass -p)',
  'secret-assignment': 'Value assigned to a strong secret name (PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE_KEY, CLIENT_SECRET ...) in .env, shell, YAML, JSON, INI or code',
  'high-entropy-assignment': 'High-entropy value (Shannon entropy threshold) assigned to a weak key-like name (FOO_KEY, AUTH, SALT, SIGNATURE ...)',
  'prose-credential': 'A credential written in prose: "the staging db password is Tr0ub4dor-77", "the token for CI: x9..." (a value with a digit or symbol, or high entropy)',
} as const;

export type SecretKind = keyof typeof KINDS;

/** Every kind of secret the redactor recognises. */
export const SECRET_PATTERNS: ReadonlyArray<{ kind: string; description: string }> = Object.entries(KINDS).map(([kind, description]) => ({
  kind,
  description,
}));

interface MatchContext {
  text: string;
  /** Offsets of the secret in `text`. */
  start: number;
  end: number;
  groups: Record<string, string | undefined>;
}

interface RegexDetector {
  kind: SecretKind;
  /** A vendor token with a distinctive prefix: also looked for across line breaks and string concatenations. */
  splittable?: boolean;
  /** Lower-case substrings; the regex runs only when the lower-cased text contains one of them. */
  keywords: string[];
  /** Global regex (the `d` flag is added). The secret is the first of the groups s, s1, s2, s3 that matched, else the whole match. */
  regex: RegExp;
  /** Return false to drop the match, or another kind to relabel it. */
  validate?: (secret: string, ctx: MatchContext) => boolean | SecretKind;
}

interface ScanDetector {
  kind: SecretKind;
  keywords: string[];
  scan: (text: string) => Array<{ kind: SecretKind; start: number; end: number }>;
}

type Detector = RegexDetector | ScanDetector;

// Token boundaries: a vendor token is not part of a longer identifier. A hyphen before it is a boundary
// (`model-ghp_...`, `prod-sk_live_...`): the prefixes are distinctive enough that a glued token is still one.
const B = '(?<![A-Za-z0-9_])';
const E = '(?![A-Za-z0-9_\\-])';
const SEP = `["']?\\s{0,5}(?:=>|:=|[:=])\\s{0,5}["']?`;

function tok(kind: SecretKind, keywords: string[], body: string, flags = ''): RegexDetector {
  return { kind, keywords, splittable: true, regex: new RegExp(`${B}(?<s>${body})${E}`, 'g' + flags) };
}

function named(kind: SecretKind, keywords: string[], namePattern: string, valuePattern: string, valueEnd = E): RegexDetector {
  return { kind, keywords, regex: new RegExp(`${namePattern}${SEP}(?<s>${valuePattern})${valueEnd}`, 'gi') };
}

const notPlaceholder = (secret: string): boolean => !isPlaceholderValue(secret);
/** `this.apiKey`, `config.auth.token`: code that reads a secret, not the secret. */
const MEMBER_PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/;

/** The line around [start, end), at most 500 characters either side (bounded, so it stays linear on huge lines). */
function lineAround(text: string, start: number, end: number): string {
  const windowStart = Math.max(0, start - 500);
  const before = text.slice(windowStart, start);
  const after = text.slice(end, end + 500);
  const nl = after.indexOf('\n');
  return before.slice(before.lastIndexOf('\n') + 1) + text.slice(start, end) + (nl < 0 ? after : after.slice(0, nl));
}

// ---- URL credentials ------------------------------------------------------------------------------------

const URL_USER = `[^\\s:/?#@'"\`<>\\\\]{0,256}`;
const URL_PASSWORD = `[^\\s/?'"\`<>\\\\]{1,256}`;

function urlPassword(kind: SecretKind, schemes: string): RegexDetector {
  return {
    kind,
    keywords: ['://'],
    regex: new RegExp(`(?<![A-Za-z0-9+.\\-])(?<scheme>${schemes})://${URL_USER}:(?<s>${URL_PASSWORD})@(?=[A-Za-z0-9\\[_%])`, 'gi'),
    // Only placeholder syntax is spared: `postgres://user:password@host` uses the password "password".
    validate: (secret) => !isPlaceholderShape(decodeURIComponentSafe(secret)) && !/^\d{1,5}$/.test(secret),
  };
}

// ---- PEM / PGP private key blocks (scanned procedurally: header, then body until END or non-body text) ------

const PEM_BEGIN = /-----BEGIN (?<label>(?:[A-Z0-9]{1,12} ){0,3})PRIVATE KEY(?<block> BLOCK)?-----/g;
// Base64, whitespace, escaped newlines (keys inside JSON strings) and `Proc-Type: ...` header lines.
const PEM_BODY = /(?:(?<=\n|\\n)[A-Za-z\-]{1,40}: [^\n\\]{0,200}|[A-Za-z0-9+/=\s]|\\[nr])*/y;

/**
 * End of a key block that has no END line: body lines (base64, armor headers) up to the first blank line after the
 * body started, so a shell prompt or log line after a blank line survives. Trailing whitespace is kept out.
 */
function truncatedKeyEnd(text: string, bodyStart: number, limit: number): number {
  let end = bodyStart;
  let seenBody = false;
  for (let pos = bodyStart; pos < limit; ) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0 || nl > limit) nl = limit;
    const line = text.slice(pos, nl).trim();
    if (line === '') {
      if (seenBody) break;
    } else {
      if (!/^[A-Za-z\-]{1,40}: /.test(line)) seenBody = true;
      end = nl;
    }
    pos = nl + 1;
  }
  while (end > bodyStart && /\s/.test(text[end - 1])) end--;
  return end;
}

function scanPrivateKeys(text: string): Array<{ kind: SecretKind; start: number; end: number }> {
  const out: Array<{ kind: SecretKind; start: number; end: number }> = [];
  PEM_BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  let endMarker = -2; // next '-----END ' at or after the current body; -1 once none is left (keeps this linear)
  while ((m = PEM_BEGIN.exec(text))) {
    const kind: SecretKind = m.groups?.label?.includes('PGP') ? 'pgp-private-key' : 'private-key';
    const bodyStart = m.index + m[0].length;
    if (endMarker === -2 || (endMarker >= 0 && endMarker < bodyStart)) endMarker = text.indexOf('-----END ', bodyStart);
    PEM_BODY.lastIndex = bodyStart;
    const body = PEM_BODY.exec(text);
    let end = bodyStart + (body ? body[0].length : 0);
    if (endMarker >= 0 && endMarker <= end + 1) {
      const close = text.indexOf('-----', endMarker + 9);
      end = close >= 0 && close - endMarker < 80 ? close + 5 : endMarker + 9;
    } else {
      end = truncatedKeyEnd(text, bodyStart, end);
    }
    out.push({ kind, start: m.index, end });
    PEM_BEGIN.lastIndex = Math.max(end, PEM_BEGIN.lastIndex);
  }
  return out;
}

/**
 * The first characters of a private key's DER (or OpenSSH) encoding in base64: PKCS#1 RSA (`MII..IBAAK`: version 0
 * then the modulus), PKCS#8 (`MII...IBADANBgkqhkiG9w0BAQEF`, and EC `MIG.AgEAMBMGByqGSM49`), SEC1 EC (`MHcCAQEE`)
 * and `openssh-key-v1`. Certificates and public keys start differently (`MII..CCA`, `MIIBIjANBgkq`), so they stay.
 */
const KEY_BODY_START = /(?<![A-Za-z0-9+/])(?:MII[A-Za-z0-9+/]{2}[A-Za-z0-9+/]IBAAK|MII[A-Za-z0-9+/]{3}IBADANBgkqhkiG9w0BAQEF|MIG[A-Za-z0-9+/]AgEAMBMGByqGSM49|MHcCAQEE|b3BlbnNzaC1rZXktdjEAAAAA)/g;
/** Base64 lines of a key body (with `\n` escapes, as inside a JSON string). */
const KEY_BODY = /(?:[A-Za-z0-9+/=]|\r?\n[ \t]{0,8}(?=[A-Za-z0-9+/])|\\n(?=[A-Za-z0-9+/]))*/y;

function scanHeaderlessKeys(text: string): Array<{ kind: SecretKind; start: number; end: number }> {
  const out: Array<{ kind: SecretKind; start: number; end: number }> = [];
  KEY_BODY_START.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = KEY_BODY_START.exec(text))) {
    KEY_BODY.lastIndex = m.index;
    const body = KEY_BODY.exec(text);
    const end = m.index + (body ? body[0].length : m[0].length);
    // A real key body is long (a 256-bit EC key is ~160 characters); a short match is a word that happens to fit.
    if (end - m.index >= 100) out.push({ kind: 'private-key', start: m.index, end });
    KEY_BODY_START.lastIndex = Math.max(end, m.index + 1);
  }
  return out;
}

// ---- Credentials written in prose ------------------------------------------------------------------------

/**
 * "The staging db password is Tr0ub4dor-horse-77-Qx.", "The password for admin is: hunter2", "our CI token: 9f...".
 * The credential word, up to five words (whose / for what), a copula or `:`/`=`, then one value. Prose uses the same
 * words for policies and places ("the password policy is in docs/auth.md", "the token is valid for an hour"), so the
 * value must look like a credential: 6+ characters with a digit or a symbol, or high entropy; not a path, URL,
 * version, number, constant name or code.
 */
const PROSE_CREDENTIAL =
  /(?<![A-Za-z0-9_$.\-])(?<name>pass(?:word|phrase)s?|passwd|pwd|secret(?:[ _\-]key)?|(?:access|auth|api|bot|bearer|personal[ _\-]access|deploy)?[ _\-]?tokens?|api[ _\-]?keys?|access[ _\-]keys?|client[ _\-]secret|credentials?)(?![A-Za-z0-9_])(?<mid>(?:[ \t]{1,3}[A-Za-z0-9_.@'’\-]{1,30}){0,5}?)(?:[ \t]{1,3}(?:is|was|are|=)[ \t]{0,3}:?|[ \t]{0,3}[:=])[ \t]{1,3}(?:now[ \t]{1,3}|still[ \t]{1,3}|set[ \t]{1,3}to[ \t]{1,3})?["'`“‘]?(?<s>[^\s"'`”’]{6,200}?)["'`”’]?(?=[.,;!?)]?(?:\s|$))/gi;

function looksLikeProseCredential(value: string, ctx: MatchContext): boolean {
  const v = value.replace(/[.,;:!?)]+$/, '');
  if (v.length < 6 || isPlaceholderValue(v)) return false;
  if (/^\[REDACTED:/.test(v)) return false;
  if (/:\/\/|^www\./i.test(v)) return false; // a URL (credentials inside URLs have their own detectors)
  if (/^(?:\.{0,2}\/|~\/)|\/[^/]*\.[a-z]{1,5}$|^[\w.-]+\.(?:md|txt|json|ya?ml|toml|ini|env|cfg|conf|ts|js|py|rs|go|sh)$/i.test(v)) return false; // a path or file
  if (/^v?\d+(?:[.,:]\d+)*(?:%|ms|s|m|h|d|w|k|x|px|kb|mb|gb|tb|rem|em|mins?|hrs?|days?|hours?|secs?|minutes?|seconds?|weeks?)?$/i.test(v) || /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?$/.test(v)) return false; // a number, version, duration (3600s), date
  if (/^[A-Za-z_][\w.-]*=/.test(v)) return false; // an assignment of its own (`username=x`): the assignment detectors judge it
  if (/^[A-Z][A-Z0-9_]{2,}$/.test(v) || /^\$|^%\w+%$/.test(v)) return false; // a constant or variable name
  if (MEMBER_PATH.test(v) || isCodeLikeUnquotedValue(v, ctx.text[ctx.end] ?? '')) return false;
  if (/^\d+-(?:characters?|chars?|digits?|bits?|bytes?|days?|hours?|minutes?)$/i.test(v)) return false; // "a 32-character"
  const digit = /\d/.test(v);
  const symbol = /[^A-Za-z0-9]/.test(v);
  const mixed = /[a-z]/.test(v) && /[A-Z]/.test(v.slice(1));
  return (digit && /[A-Za-z]/.test(v)) || (symbol && (digit || mixed)) || isHighEntropySecret(v);
}

// ---- Generic `name = value` assignments -------------------------------------------------------------------

const NAME = `(?<name>[A-Za-z_$@][A-Za-z0-9_.\\-]{0,80})`;
const NAME_START = `(?<![A-Za-z0-9_.\\-$@/])`;
/** Shell-style names have no dots (`t.token=p` in minified code is not an assignment to redact). */
const SHELL_NAME = `(?<name>[A-Za-z_][A-Za-z0-9_\\-]{0,80})`;
const DQ = `"(?<s1>(?:[^"\\\\\\r\\n]|\\\\.){1,1000})"`;
const SQ = `'(?<s2>(?:[^'\\\\\\r\\n]|\\\\.){1,1000})'`;
const BQ = '`(?<s3>(?:[^`\\\\\\r\\n$]|\\\\.){1,1000})`';
const ASSIGNMENT_KEYWORDS = ['pass', 'pwd', 'pw', 'secret', 'token', 'key', 'auth', 'cred', 'sig', 'salt', 'cookie', 'sid', 'hmac', 'license', 'licence', 'seed', 'pat'];

/** Decides strong/weak/none for an assignment and returns the kind, or false. */
function assignmentKind(name: string, value: string, quoted: boolean, nextChar: string): SecretKind | false {
  const strength = classifySecretName(name);
  if (!strength) return false;
  const v = value.trim();
  if (isPlaceholderValue(v)) return false;
  if (!quoted && isCodeLikeUnquotedValue(v, nextChar)) return false;
  if (quoted && /^[A-Za-z][A-Za-z ,.'!?:-]*$/.test(v) && /\s\S+\s/.test(v)) return false; // prose: "Enter your password"
  if (quoted && /^[A-Z][A-Z_]*$/.test(v) && v.length <= 24) return false; // enum constant: token: "IDENT"
  // Names that are secret only because they say "token" also name lexer tokens (`token: "ident"`): want a token-shaped value.
  if (strength === 'strong' && isTokenOnlyName(name) && !(v.length >= 20 || (v.length >= 8 && /\d/.test(v)))) return false;
  if (strength === 'strong') return 'secret-assignment';
  return isHighEntropySecret(v) ? 'high-entropy-assignment' : false;
}

function validateAssignment(quotedByDefault: boolean) {
  return (secret: string, ctx: MatchContext): boolean | SecretKind => {
    const quoted = quotedByDefault || ctx.groups.s1 !== undefined || ctx.groups.s2 !== undefined || ctx.groups.s3 !== undefined;
    return assignmentKind(ctx.groups.name ?? ctx.groups.name2 ?? '', secret, quoted, ctx.text[ctx.end] ?? '');
  };
}

const ASSIGNMENTS: RegexDetector[] = [
  // "password": "x" | password: 'x' | api_key = "x" | 'token' => 'x' | $password = "x" (anywhere, quoted value)
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: new RegExp(`${NAME_START}${NAME}["']?[ \\t]{0,5}(?:=>|:=|\\?\\?=|\\|\\|=|[:=])(?:[ \\t]{0,5}|[ \\t]{0,5}\\r?\\n[ \\t]{0,40})(?:${DQ}|${SQ}|${BQ})`, 'g'),
    validate: validateAssignment(true),
  },
  // JSON inside a JSON string (a logged request body, a trajectory's prompt): {\"password\": \"x\"}
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: /\\"(?<name>[A-Za-z_$@][A-Za-z0-9_.\-]{0,80})\\"[ \t]{0,5}:[ \t]{0,5}\\"(?<s1>(?:[^"\\\r\n]|\\[^"\r\n]){1,1000})\\"/g,
    validate: validateAssignment(true),
  },
  // NAME=value  (dotenv, shell, Dockerfile ENV, docker -e): no spaces around '=', at a shell word boundary
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: new RegExp(`(?<![^\\s;&|("'])${SHELL_NAME}=(?<s>[^\\s"'\`;&|<>()]{1,1000})`, 'g'),
    validate: validateAssignment(false),
  },
  // name = value  (INI, TOML-ish, properties) at line start, value to end of line or comment
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: new RegExp(`^[ \\t]{0,40}${NAME}[ \\t]{0,20}=[ \\t]{0,20}(?<s>[^\\s"'\`#;][^\\s"'\`]{0,999})(?=[ \\t]{0,20}(?:$|[#;]))`, 'gm'),
    validate: validateAssignment(false),
  },
  // YAML: name: value  at line start (optionally a list item), plain scalar to end of line / comment
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: new RegExp(`^[ \\t]{0,40}(?:-[ \\t]{1,5})?${NAME}[ \\t]{0,5}:[ \\t]{1,20}(?<s>[^\\s"'#|>&*!%@\`{\\[][^\\r\\n]{0,999}?)[ \\t]{0,20}(?=$|[ \\t]#)`, 'gm'),
    validate: validateAssignment(false),
  },
  // Kubernetes / compose env lists: name: DB_PASSWORD \n value: x
  {
    kind: 'secret-assignment',
    keywords: ['value'],
    regex: /name:[ \t]{0,5}["']?(?<name>[A-Za-z_][A-Za-z0-9_.-]{0,80})["']?[ \t]{0,20}\r?\n[ \t]{0,40}value:[ \t]{0,5}(?:"(?<s1>[^"\r\n]{1,1000})"|'(?<s2>[^'\r\n]{1,1000})'|(?<s>[^\s"'#][^\r\n]{0,999}?))[ \t]{0,20}(?=$|[ \t]#)/gm,
    validate: validateAssignment(false),
  },
  // Keyed APIs: setProperty("password", "x"), config.set('api_key', 'x'), os.environ["API_TOKEN"] = "x"
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: /(?:(?:[sS]et|[pP]ut|[aA]dd|[sS]tore|[wW]rite|[sS]ave)[A-Za-z]{0,20}\([ \t]{0,5}["'](?<name>[A-Za-z_][A-Za-z0-9_.\-]{0,80})["'][ \t]{0,5},|\[[ \t]{0,5}["'](?<name2>[A-Za-z_][A-Za-z0-9_.\-]{0,80})["'][ \t]{0,5}\][ \t]{0,5}=)[ \t]{0,5}(?:"(?<s1>(?:[^"\\\r\n]|\\.){1,1000})"|'(?<s2>(?:[^'\\\r\n]|\\.){1,1000})')/g,
    validate: validateAssignment(true),
  },
  // XML / HTML-ish config: <password>x</password>, <add key="ApiKey" value="x" />
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: /<(?<name>[A-Za-z_][A-Za-z0-9_.\-]{0,60})>(?<s>[^<>\s][^<>\r\n]{0,500})<\/\k<name>>/g,
    validate: validateAssignment(true),
  },
  {
    kind: 'secret-assignment',
    keywords: ASSIGNMENT_KEYWORDS,
    regex: /key[ \t]{0,5}=[ \t]{0,5}"(?<name>[A-Za-z_][A-Za-z0-9_.:\-]{0,80})"[ \t]{1,5}value[ \t]{0,5}=[ \t]{0,5}"(?<s1>[^"\r\n]{1,1000})"/g,
    validate: validateAssignment(true),
  },
  // .netrc: machine host login user password secret
  {
    kind: 'secret-assignment',
    keywords: ['machine', 'login'],
    regex: /(?:^|[ \t])(?<name>password|passwd)[ \t]{1,20}(?<s>[^\s"'$][^\s]{2,500})/gm,
    validate: (s, ctx) => /\b(?:machine|login|default)\b/.test(lineAround(ctx.text, ctx.start, ctx.end)) && !isPlaceholderValue(s),
  },
  // JSON env lists: {"name": "API_TOKEN", "value": "x"}
  {
    kind: 'secret-assignment',
    keywords: ['value'],
    regex: /"name"\s{0,5}:\s{0,5}"(?<name>[A-Za-z_][A-Za-z0-9_.-]{0,80})"\s{0,5},\s{0,5}"value"\s{0,5}:\s{0,5}"(?<s1>(?:[^"\\\r\n]|\\.){1,1000})"/g,
    validate: validateAssignment(true),
  },
];

// ---- The detector table, most specific first (a lower index wins the label when findings overlap) ---------

const DETECTORS: Detector[] = [
  {
    kind: 'gcp-service-account-private-key',
    keywords: ['private_key'],
    regex: /"private_key"\s{0,5}:\s{0,5}"(?<s>(?:[^"\\\r\n]|\\.){16,10000})"/g,
  },
  { kind: 'private-key', keywords: ['private key'], scan: scanPrivateKeys },
  // A key's base64 body pasted without its BEGIN line: recognised by the DER/OpenSSH structure it starts with.
  { kind: 'private-key', keywords: ['miie', 'miic', 'miij', 'miig', 'mhcc', 'b3blbnnzac1rzxktdjea', 'miik', 'miif', 'miid'], scan: scanHeaderlessKeys },
  tok('aws-access-key-id', ['akia', 'asia', 'abia', 'acca'], '(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}'),
  named('aws-secret-access-key', ['secret'], '(?:aws[_\\-.]?)?secret[_\\-.]?(?:access[_\\-.]?)?key', '[A-Za-z0-9/+]{40}', '(?![A-Za-z0-9/+=])'),
  // In prose: "AWS secret key wJalr...", "aws secret access key is ..." (no `=` or `:`; the 40-character shape decides).
  {
    kind: 'aws-secret-access-key',
    keywords: ['secret'],
    regex: /aws[ _\-.]{0,3}secret[ _\-.]{0,3}(?:access[ _\-.]{0,3})?key(?:[ \t]{1,5}(?:is|was|=|:)?[ \t]{0,5}|[ \t]{0,5}[:=][ \t]{0,5})["']?(?<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    validate: (s) => /\d/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s),
  },
  {
    kind: 'aws-secret-access-key',
    keywords: ['akia', 'asia'],
    regex: /(?:AKIA|ASIA)[A-Z2-7]{16}["']?[ \t]{0,5}[,:;|\t][ \t]{0,5}["']?(?<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/g,
  },
  named('aws-session-token', ['token'], '(?:aws[_\\-.]?session[_\\-.]?token|aws[_\\-.]?security[_\\-.]?token|session[_\\-.]?token)', '[A-Za-z0-9/+=]{100,4000}', '(?![A-Za-z0-9/+=])'),
  { kind: 'aws-session-token', keywords: ['fwogzxivyxdz', 'iqojb3jpz2lu'], regex: /(?<![A-Za-z0-9/+])(?<s>(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{100,4000})/g },
  tok('gcp-api-key', ['aiza'], 'AIza[0-9A-Za-z_\\-]{35}'),
  { kind: 'azure-storage-account-key', keywords: ['accountkey'], regex: /AccountKey=(?<s>[A-Za-z0-9+/]{20,120}={0,2})/gi },
  { kind: 'azure-shared-access-key', keywords: ['sharedaccesskey'], regex: /SharedAccessKey=(?<s>[A-Za-z0-9+/]{20,120}={0,2})/gi },
  {
    kind: 'azure-sas-signature',
    keywords: ['sig='],
    regex: /(?<![A-Za-z0-9_])sig=(?<s>[A-Za-z0-9%+/]{20,200}(?:%3[Dd]|=){0,2})/g,
    validate: (_s, ctx) => /(?:^|[?&;\s"'])(?:sv|se|sp|sr|srt|ss|spr|st|skoid)=/.test(ctx.text.slice(Math.max(0, ctx.start - 600), ctx.start)) || /[?&](?:sv|se|sp|sr)=/.test(ctx.text.slice(ctx.end, ctx.end + 300)),
  },
  tok('github-pat', ['ghp_'], 'ghp_[A-Za-z0-9]{36,255}'),
  tok('github-oauth-token', ['gho_'], 'gho_[A-Za-z0-9]{36,255}'),
  tok('github-user-token', ['ghu_'], 'ghu_[A-Za-z0-9]{36,255}'),
  tok('github-server-token', ['ghs_'], 'ghs_[A-Za-z0-9]{36,255}'),
  tok('github-refresh-token', ['ghr_'], 'ghr_[A-Za-z0-9]{36,255}'),
  tok('github-fine-grained-pat', ['github_pat_'], 'github_pat_[A-Za-z0-9_]{60,255}'),
  tok('gitlab-pat', ['glpat-'], 'glpat-[A-Za-z0-9_\\-]{20,64}'),
  tok('gitlab-deploy-token', ['gldt-'], 'gldt-[A-Za-z0-9_\\-]{20,64}'),
  tok('gitlab-runner-token', ['glrt-', 'gr1348941'], '(?:glrt-|GR1348941)[A-Za-z0-9_\\-]{20,64}'),
  tok('gitlab-other-token', ['glptt-', 'glft-', 'glsoat-', 'glimt-', 'glagent-', 'gloas-', 'glcbt-', 'glffct-'], '(?:glptt|glft|glsoat|glimt|glagent|gloas|glcbt|glffct)-[A-Za-z0-9_\\-]{20,80}'),
  tok('slack-legacy-token', ['xoxa-', 'xoxr-', 'xoxs-', 'xoxe'], 'xox(?:a|r|s|e(?:\\.xox[bp])?)-[0-9A-Za-z\\-]{20,255}'),
  tok('slack-bot-token', ['xoxb-'], 'xoxb-[0-9A-Za-z\\-]{20,255}'),
  tok('slack-user-token', ['xoxp-'], 'xoxp-[0-9A-Za-z\\-]{20,255}'),
  tok('slack-app-token', ['xapp-'], 'xapp-\\d-[A-Z0-9]{6,20}-\\d{6,20}-[A-Za-z0-9]{32,128}'),
  { kind: 'slack-webhook-url', keywords: ['hooks.slack.com'], regex: /(?<s>https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/_\-]{20,200})/g },
  tok('stripe-secret-key', ['sk_live_', 'sk_test_'], 'sk_(?:live|test)_[0-9A-Za-z]{16,247}'),
  tok('stripe-restricted-key', ['rk_live_', 'rk_test_'], 'rk_(?:live|test)_[0-9A-Za-z]{16,247}'),
  tok('stripe-publishable-key', ['pk_live_'], 'pk_live_[0-9A-Za-z]{16,247}'),
  tok('stripe-webhook-secret', ['whsec_'], 'whsec_[A-Za-z0-9+/=]{24,128}'),
  { kind: 'twilio-api-key', keywords: ['sk'], regex: /(?<![A-Za-z0-9_\-])(?<s>SK[0-9a-f]{32})(?![A-Za-z0-9_\-])/g },
  named('twilio-auth-token', ['twilio'], 'twilio[_\\-.]?(?:auth[_\\-.]?)?token', '[0-9a-f]{32}', '(?![0-9A-Za-z])'),
  tok('sendgrid-api-key', ['sg.'], 'SG\\.[A-Za-z0-9_\\-]{16,32}\\.[A-Za-z0-9_\\-]{30,50}'),
  tok('mailgun-api-key', ['key-'], 'key-[0-9a-zA-Z]{32}'),
  tok('npm-token', ['npm_'], 'npm_[A-Za-z0-9]{36}'),
  {
    kind: 'npmrc-auth',
    keywords: ['_auth', '_password'],
    regex: /(?:^|[\s:])_(?:authToken|auth|password)[ \t]{0,5}=[ \t]{0,5}["']?(?<s>[^\s"']{4,2000})/gm,
    validate: notPlaceholder,
  },
  tok('pypi-token', ['pypi-ag'], 'pypi-Ag[A-Za-z0-9_\\-]{70,500}'),
  tok('dockerhub-pat', ['dckr_'], 'dckr_(?:pat|oat)_[A-Za-z0-9_\\-]{20,64}'),
  tok('anthropic-api-key', ['sk-ant-'], 'sk-ant-[A-Za-z0-9_\\-]{32,250}'),
  tok('openai-project-key', ['sk-proj-', 'sk-svcacct-', 'sk-admin-'], 'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\\-]{40,250}'),
  tok('openai-api-key', ['sk-'], 'sk-[A-Za-z0-9]{32,64}'),
  tok('huggingface-token', ['hf_', 'api_org_'], '(?:hf_|api_org_)[A-Za-z0-9]{30,40}'),
  tok('google-oauth-client-secret', ['gocspx-'], 'GOCSPX-[A-Za-z0-9_\\-]{24,40}'),
  tok('google-oauth-access-token', ['ya29.'], 'ya29\\.[A-Za-z0-9_\\-]{20,2000}'),
  { kind: 'google-oauth-refresh-token', keywords: ['1//0'], regex: /(?<![A-Za-z0-9_\-/:])(?<s>1\/\/0[A-Za-z0-9_\-]{40,500})(?![A-Za-z0-9_\-])/g },
  tok('shopify-token', ['shpat_', 'shpca_', 'shppa_', 'shpss_'], 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}'),
  tok('square-access-token', ['eaaa', 'sq0atp-'], '(?:EAAA[A-Za-z0-9_\\-]{60}|sq0atp-[A-Za-z0-9_\\-]{22})'),
  tok('square-oauth-secret', ['sq0csp-'], 'sq0csp-[A-Za-z0-9_\\-]{43}'),
  {
    kind: 'discord-bot-token',
    keywords: ['.'],
    regex: /(?<![A-Za-z0-9_\-.])(?<s>[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,40})(?![A-Za-z0-9_\-.])/g,
    validate: (s) => /\d/.test(s.slice(0, s.indexOf('.'))) && /[a-z]/.test(s) && /[A-Z]/.test(s.slice(1)),
  },
  { kind: 'discord-webhook-url', keywords: ['discord'], regex: /(?<s>https?:\/\/(?:(?:canary|ptb)\.)?discord(?:app)?\.com\/api\/webhooks\/\d{5,30}\/[A-Za-z0-9_\-]{40,100})/g },
  { kind: 'telegram-bot-token', keywords: [':aa'], regex: /(?<![0-9:_\-])(?<s>\d{8,10}:AA[A-Za-z0-9_\-]{33})(?![A-Za-z0-9_\-])/g },
  tok('heroku-api-key', ['hrku-'], 'HRKU-[A-Za-z0-9_\\-]{40,80}'),
  named('heroku-api-key', ['heroku'], 'heroku[A-Za-z0-9_\\-.]{0,30}', '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '(?![0-9a-fA-F\\-])'),
  tok('digitalocean-token', ['_v1_'], 'do[opr]_v1_[a-f0-9]{64}'),
  named('datadog-api-key', ['dd', 'datadog'], '(?:dd|datadog)[_\\-.]?api[_\\-.]?key', '[a-f0-9]{32}', '(?![0-9a-zA-Z])'),
  named('datadog-app-key', ['dd', 'datadog'], '(?:dd|datadog)[_\\-.]?app(?:lication)?[_\\-.]?key', '[a-f0-9]{40}', '(?![0-9a-zA-Z])'),
  tok('newrelic-api-key', ['nrak-', 'nrii-'], '(?:NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_\\-]{32})'),
  tok('newrelic-license-key', ['nral'], '[a-f0-9]{36}NRAL'),
  {
    kind: 'sentry-dsn-secret',
    keywords: ['://'],
    regex: /https?:\/\/[0-9a-f]{32}:(?<s>[0-9a-f]{32})@[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?\/\d{1,20}/g,
  },
  tok('sentry-auth-token', ['sntrys_', 'sntryu_'], '(?:sntrys_[A-Za-z0-9+/=_]{50,500}|sntryu_[a-f0-9]{64})'),
  { kind: 'age-secret-key', keywords: ['age-secret-key-1'], regex: /(?<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})/g },
  tok('atlassian-api-token', ['atatt3'], 'ATATT3[A-Za-z0-9_\\-=]{150,300}'),
  tok('linear-api-key', ['lin_api_'], 'lin_api_[A-Za-z0-9]{40}'),
  tok('postman-api-key', ['pmak-'], 'PMAK-[a-f0-9]{24}-[a-f0-9]{34}'),
  tok('terraform-cloud-token', ['.atlasv1.'], '[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_\\-=]{60,70}'),
  tok('vault-token', ['hvs.', 'hvb.'], 'hv[sb]\\.[A-Za-z0-9_\\-]{24,300}'),
  tok('grafana-token', ['glc_', 'glsa_'], '(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})'),
  tok('databricks-token', ['dapi'], 'dapi[a-f0-9]{32}(?:-\\d)?'),
  tok('pulumi-token', ['pul-'], 'pul-[a-f0-9]{40}'),
  tok('doppler-token', ['dp.'], 'dp\\.(?:pt|st|sa|ct|scim|audit)\\.(?:[a-z0-9_\\-]{1,40}\\.)?[A-Za-z0-9]{40,44}'),
  tok('jwt', ['eyj'], 'eyJ[A-Za-z0-9_\\-]{8,4000}\\.ey[A-Za-z0-9_\\-]{8,8000}\\.[A-Za-z0-9_\\-]{0,2000}'),
  urlPassword('postgres-url-password', 'postgres(?:ql)?(?:\\+[a-z0-9]{1,20})?'),
  urlPassword('mysql-url-password', '(?:mysql|mariadb)(?:\\+[a-z0-9]{1,20})?'),
  urlPassword('mongodb-url-password', 'mongodb(?:\\+srv)?'),
  urlPassword('redis-url-password', 'rediss?'),
  urlPassword('amqp-url-password', 'amqps?'),
  urlPassword('url-password', '[A-Za-z][A-Za-z0-9+.\\-]{0,30}'),
  {
    kind: 'connection-string-password',
    keywords: ['password', 'pwd'],
    regex: /(?:^|[;"'\s])(?:Password|Pwd)[ \t]{0,5}=[ \t]{0,5}(?<s>[^;"'\r\n]{1,256})(?=;|"|'|$)/gim,
    validate: (secret, ctx) =>
      !isPlaceholderValue(secret) &&
      /(?:server|host|data source|database|databasename|user id|user|uid|initial catalog|driver|dsn|port|address)\s*=/i.test(lineAround(ctx.text, ctx.start, ctx.end)),
  },
  {
    kind: 'url-query-secret',
    keywords: ['pass', 'pwd', 'token', 'secret', 'key', 'auth'],
    regex: /[?&;](?<name>[A-Za-z_\-]{0,30}(?:password|passwd|pwd|token|secret|api_?key|apikey|api-key|auth))=(?<s>[^&\s#"'<>;]{4,2000})/gi,
    validate: (secret, ctx) => !isPlaceholderValue(decodeURIComponentSafe(secret)) && classifySecretName(ctx.groups.name ?? '') !== null,
  },
  {
    kind: 'basic-auth-header',
    keywords: ['basic'],
    regex: /Authorization["']?[ \t]{0,5}[:=][ \t]{0,5}["']?Basic[ \t]{1,5}(?<s>[A-Za-z0-9+/]{6,1000}={0,2})/gi,
    validate: notPlaceholder,
  },
  {
    kind: 'bearer-token',
    keywords: ['bearer'],
    regex: /Authorization["']?[ \t]{0,5}[:=][ \t]{0,5}["']?Bearer[ \t]{1,5}(?<s>[A-Za-z0-9\-._~+/]{8,4000}={0,2})/gi,
    validate: notPlaceholder,
  },
  {
    kind: 'bearer-token',
    keywords: ['bearer'],
    regex: /(?<![A-Za-z0-9])[Bb]earer[ \t]{1,5}(?<s>[A-Za-z0-9\-._~+/]{20,4000}={0,2})/g,
    validate: (s) => /\d/.test(s) && /[A-Za-z]/.test(s) && !isPlaceholderValue(s),
  },
  {
    kind: 'api-key-header',
    keywords: ['api-key', 'token', 'apim'],
    regex: /(?:X-Api-Key|Api-Key|X-Auth-Token|X-Access-Token|X-Goog-Api-Key|Ocp-Apim-Subscription-Key|PRIVATE-TOKEN|X-Vault-Token|X-Figma-Token|X-Shopify-Access-Token|X-Gitlab-Token|X-Postmark-Server-Token|X-Insert-Key)["']?[ \t]{0,5}:[ \t]{0,5}["']?(?<s>[A-Za-z0-9\-._~+/=]{8,1000})/gi,
    validate: (s) => !isPlaceholderValue(s) && !MEMBER_PATH.test(s),
  },
  {
    kind: 'cli-password-flag',
    keywords: ['--'],
    regex: /(?<![A-Za-z0-9])--(?<name>[A-Za-z][A-Za-z0-9\-]{0,40})(?:=|[ \t]{1,5})["']?(?<s>[^\s"'$<{\-][^\s"']{2,500})/g,
    validate: (s, ctx) => classifySecretName(ctx.groups.name ?? '') === 'strong' && !isPlaceholderValue(s) && !MEMBER_PATH.test(s) && !(isTokenOnlyName(ctx.groups.name ?? '') && !/\d/.test(s) && s.length < 20),
  },
  {
    kind: 'cli-password-flag',
    keywords: ['securestring'],
    regex: /ConvertTo-SecureString[ \t]{1,5}(?:-String[ \t]{1,5})?["'](?<s>[^"'\r\n]{1,500})["'][ \t]{1,5}-AsPlainText/gi,
    validate: notPlaceholder,
  },
  {
    kind: 'cli-password-flag',
    keywords: ['mysql', 'mariadb'],
    regex: /(?:mysql|mysqldump|mysqladmin|mariadb)(?![A-Za-z0-9_])[^\n]{0,200}?[ \t]-p(?<s>[^\s"'$<\-][^\s"']{2,200})/g,
    validate: notPlaceholder,
  },
  {
    kind: 'cli-password-flag',
    keywords: ['-u', '--user'],
    regex: /(?:[ \t]-u|--user)[ \t]{1,5}["']?[^\s:"'$]{1,100}:(?<s>[^\s"'$@][^\s"']{1,200}?)["']?(?=\s|$)/g,
    validate: (s, ctx) => !isPlaceholderValue(s) && /\b(?:curl|wget|http|https|httpie)\b/.test(lineAround(ctx.text, ctx.start, ctx.end)) && !/^\d+$/.test(s),
  },
  { kind: 'cli-password-flag', keywords: ['sshpass'], regex: /sshpass[ \t]{1,5}-p[ \t]{0,5}["']?(?<s>[^\s"'$]{3,200})/g, validate: notPlaceholder },
  ...ASSIGNMENTS,
  {
    kind: 'prose-credential',
    keywords: ['pass', 'pwd', 'secret', 'token', 'key', 'credential'],
    regex: PROSE_CREDENTIAL,
    validate: looksLikeProseCredential,
  },
];

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// Compile once with the `d` flag so group offsets are available.
for (const d of DETECTORS) {
  if ('regex' in d && !d.regex.flags.includes('d')) d.regex = new RegExp(d.regex.source, d.regex.flags + 'd');
}

/** Vendor-documented sample credentials (AKIAIOSFODNN7EXAMPLE, .../XXXXXXXX) are not secrets. */
const DOCUMENTATION_MARKERS = /example|placeholder|dummy|redacted|xxxxxxxx|your[_-]?(?:api[_-]?)?(?:key|token|secret)/i;

interface Candidate extends RedactionFinding {
  priority: number;
}

function collect(text: string, only?: (d: Detector) => boolean): Candidate[] {
  const lower = text.toLowerCase();
  const out: Candidate[] = [];
  DETECTORS.forEach((d, priority) => {
    if (only && !only(d)) return;
    if (!d.keywords.some((k) => lower.includes(k))) return;
    if ('scan' in d) {
      for (const f of d.scan(text)) out.push({ ...f, priority });
      return;
    }
    const re = d.regex;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const groups = (m.groups ?? {}) as Record<string, string | undefined>;
      const ind = m.indices?.groups ?? {};
      const key = ['s', 's1', 's2', 's3'].find((g) => groups[g] !== undefined);
      const range = key ? ind[key] : [m.index, m.index + m[0].length];
      if (!range) continue;
      let [start, end] = range;
      while (end > start && /\s/.test(text[end - 1])) end--;
      if (end <= start) continue;
      const secret = text.slice(start, end);
      if (DOCUMENTATION_MARKERS.test(secret)) continue;
      let kind: SecretKind = d.kind;
      if (d.validate) {
        const verdict = d.validate(secret, { text, start, end, groups });
        if (verdict === false) continue;
        if (typeof verdict === 'string') kind = verdict;
      }
      out.push({ kind, start, end, priority });
    }
  });
  return out;
}

/** Overlapping candidates merge into one span (so no fragment of a secret survives), labelled by the most specific detector. */
function merge(candidates: Candidate[]): RedactionFinding[] {
  candidates.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Candidate[] = [];
  for (const c of candidates) {
    const last = merged[merged.length - 1];
    if (last && c.start < last.end) {
      if (c.end > last.end) last.end = c.end;
      if (c.priority < last.priority) {
        last.priority = c.priority;
        last.kind = c.kind;
      }
    } else {
      merged.push({ ...c });
    }
  }
  return merged.map(({ kind, start, end }) => ({ kind, start, end }));
}

/**
 * Where one token is cut in two: a line break with the next line's indentation, a shell line continuation,
 * or a string closed and reopened (`"sk_live_ab" +\n "cd"`, Python's implicit concatenation).
 */
const JOINT = /(?<=[A-Za-z0-9_\-+/=.])(?:\\\r?\n[ \t]{0,40}|\r?\n[ \t]{0,40}|["'`][ \t]{0,5}\+[ \t]{0,5}(?:\r?\n[ \t]{0,40})?["'`]|["'`][ \t]{0,5}\r?\n[ \t]{0,40}["'`])(?=[A-Za-z0-9_\-+/=])/g;

/**
 * Vendor tokens split across lines or string pieces: the prefixed-token detectors run once more on the
 * text with the joints removed. A match counts only if it spans a joint and touches no finding of the
 * normal scan (so a whole token followed by a line of text never swallows that line).
 */
function splitTokens(text: string, found: Candidate[]): Candidate[] {
  if (!text.includes('\n') && !text.includes('+')) return [];
  // Segments of the joined text: joined offset jStart maps to original offset oStart.
  const segs: { jStart: number; oStart: number }[] = [{ jStart: 0, oStart: 0 }];
  const parts: string[] = [];
  let at = 0;
  let jAt = 0;
  JOINT.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = JOINT.exec(text))) {
    parts.push(text.slice(at, m.index));
    jAt += m.index - at;
    at = m.index + m[0].length;
    segs.push({ jStart: jAt, oStart: at });
  }
  if (segs.length === 1) return [];
  parts.push(text.slice(at));
  const joined = parts.join('');
  const toOrig = (j: number): number => {
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid].jStart <= j) lo = mid;
      else hi = mid - 1;
    }
    return segs[lo].oStart + (j - segs[lo].jStart);
  };
  const out: Candidate[] = [];
  for (const c of collect(joined, (d) => 'regex' in d && !!d.splittable)) {
    const start = toOrig(c.start);
    const end = toOrig(c.end - 1) + 1;
    if (end - start === c.end - c.start) continue; // no joint inside: the normal scan decides
    // A whole vendor token found by the normal scan is complete: it does not run on into the next line.
    if (found.some((f) => f.start < end && start < f.end && (DETECTORS[f.priority] as RegexDetector).splittable)) continue;
    // The piece before the first cut must already look random (12+ characters, a digit or mixed case): an identifier
    // such as `sk_live_mode` at a line's end does not borrow the next line's words.
    const cut = segs.find((sg) => sg.jStart > c.start && sg.jStart < c.end)!;
    const head = joined.slice(c.start, cut.jStart);
    if (head.length < 12 || !(/\d/.test(head) || (/[a-z]/.test(head) && /[A-Z]/.test(head)))) continue;
    out.push({ ...c, start, end });
  }
  return out;
}

/** Finds secrets without changing the text. Offsets refer to `text`. */
export function findSecrets(text: string): RedactionFinding[] {
  const scanned = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
  const candidates = collect(scanned);
  candidates.push(...splitTokens(scanned, candidates));
  const findings = merge(candidates);
  if (text.length > MAX_SCAN_CHARS) findings.push({ kind: 'unscanned', start: MAX_SCAN_CHARS, end: text.length });
  return findings;
}

/**
 * Replaces every secret in `text` with `[REDACTED:<kind>]`, keeping the text around it.
 * Idempotent: redacting already-redacted text finds nothing new.
 */
export function redactSecrets(text: string): { text: string; findings: RedactionFinding[] } {
  if (typeof text !== 'string') throw new TypeError(`redactSecrets expects a string, got ${text === null ? 'null' : typeof text}`);
  const findings = findSecrets(text);
  if (!findings.length) return { text, findings };
  const parts: string[] = [];
  let at = 0;
  for (const f of findings) {
    parts.push(text.slice(at, f.start), `[REDACTED:${f.kind}]`);
    at = f.end;
  }
  parts.push(text.slice(at));
  return { text: parts.join(''), findings };
}
