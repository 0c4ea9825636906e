import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_SCAN_CHARS, SECRET_PATTERNS, findSecrets, redactSecrets } from '../../src/core/privacy/redact';
import { parseCorpus } from '../../src/core/privacy/evaluation';
import { classifySecretName, isPlaceholderValue } from '../../src/core/privacy/secretNames';
import { isHighEntropySecret, shannonEntropy } from '../../src/core/privacy/entropy';

const corpus = parseCorpus(fs.readFileSync(path.join(__dirname, '../fixtures/redaction/corpus.jsonl'), 'utf8'));

describe('SECRET_PATTERNS', () => {
  it('lists at least 50 distinct, described kinds', () => {
    const kinds = SECRET_PATTERNS.map((p) => p.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kinds.length).toBeGreaterThanOrEqual(50);
    for (const p of SECRET_PATTERNS) expect(p.description.length).toBeGreaterThan(10);
  });

  describe.each(SECRET_PATTERNS.map((p) => p.kind))('kind %s', (kind) => {
    const examples = corpus.filter((e) => e.kinds?.includes(kind));
    it('has at least two corpus examples, each detected under this kind and replaced', () => {
      expect(examples.length).toBeGreaterThanOrEqual(2);
      for (const ex of examples) {
        const { text, findings } = redactSecrets(ex.text);
        const secret = ex.secrets[ex.kinds!.indexOf(kind)];
        expect(findings.map((f) => f.kind), ex.note).toContain(kind);
        expect(text, ex.note).toContain(`[REDACTED:${kind}]`);
        expect(text.includes(secret), `${kind} survived in: ${text}`).toBe(false);
      }
    });
  });
});

describe('redactSecrets', () => {
  it('keeps the text around a secret', () => {
    const token = 'ghp_' + 'aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5';
    expect(redactSecrets(`export GITHUB_TOKEN=${token} # ci`).text).toBe('export GITHUB_TOKEN=[REDACTED:github-pat] # ci');
    expect(redactSecrets('API_KEY=q8Zr2LmX0vTe').text).toBe('API_KEY=[REDACTED:secret-assignment]');
    expect(redactSecrets('postgres://app:Xk29vLq7@db:5432/app').text).toBe('postgres://app:[REDACTED:postgres-url-password]@db:5432/app');
    expect(redactSecrets('"password": "Xk29vLq7",').text).toBe('"password": "[REDACTED:secret-assignment]",');
    expect(redactSecrets('Authorization: Bearer Zx81kQ0pLr5tVb3nMw7y').text).toBe('Authorization: Bearer [REDACTED:bearer-token]');
  });

  it('reports findings as offsets into the original text', () => {
    const input = 'a=1\nSTRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc and DB_PASSWORD=Xk29vLq7';
    const findings = findSecrets(input);
    expect(findings.map((f) => [f.kind, input.slice(f.start, f.end)])).toEqual([
      ['stripe-secret-key', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
      ['secret-assignment', 'Xk29vLq7'],
    ]);
    expect(redactSecrets(input).findings).toEqual(findings);
  });

  it('merges overlapping detections so no fragment of a secret survives', () => {
    // The URL password contains a vendor token and an '@': both detectors fire, one span results.
    const pw = 'glpat-' + 'Zq81mXv0Lr5tYb3nKw7c';
    const out = redactSecrets(`git clone https://oauth2:${pw}@gitlab.example.com/g/p.git`);
    expect(out.findings).toHaveLength(1);
    expect(out.text).toBe('git clone https://oauth2:[REDACTED:gitlab-pat]@gitlab.example.com/g/p.git');
    const tricky = redactSecrets('postgresql://rep:ab12@cd34@analytics/warehouse');
    expect(tricky.text).toBe('postgresql://rep:[REDACTED:postgres-url-password]@analytics/warehouse');
  });

  it('is idempotent', () => {
    for (const ex of corpus.slice(0, 120)) {
      const once = redactSecrets(ex.text).text;
      const twice = redactSecrets(once);
      expect(twice.text, ex.note).toBe(once);
      expect(twice.findings, ex.note).toEqual([]);
    }
  });

  it('redacts whole private key blocks, also truncated ones, and keeps what follows', () => {
    const body = 'MIIEowIBAAKCAQEA' + 'x7Q9'.repeat(12);
    expect(redactSecrets(`-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\nnext`).text).toBe('[REDACTED:private-key]\nnext');
    expect(redactSecrets(`key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n\nls -la`).text).toBe('key:\n[REDACTED:private-key]\n\nls -la');
    expect(redactSecrets(`-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: 1\n\n${body}`).text).toBe('[REDACTED:pgp-private-key]');
    expect(redactSecrets('-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----').findings).toEqual([]);
  });

  it('leaves placeholders, references and code alone (documented policy)', () => {
    for (const text of [
      'DB_PASSWORD=changeme',
      'API_KEY=<your-api-key>',
      'password: ${DB_PASSWORD}',
      'token: ${{ secrets.GITHUB_TOKEN }}',
      'const apiKey = process.env.API_KEY;',
      'password: string;',
      'SECRET=****',
      'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
      'password = input("Password: ")',
      'max_tokens: 4096',
      'TOKEN_URL=https://auth.example.net/token',
      'commit 3f2a9c1b4d5e6f708192a3b4c5d6e7f8091a2b3c',
      'id: 550e8400-e29b-41d4-a716-446655440000',
    ]) {
      expect(redactSecrets(text).text, text).toBe(text);
    }
  });

  it('needs high entropy next to weak names, any value next to strong names', () => {
    expect(redactSecrets('SIGNING_SALT=abc').findings).toEqual([]);
    expect(redactSecrets('SIGNING_SALT=Zq81mXv0Lr5tYb3nKw7cPd2s').findings.map((f) => f.kind)).toEqual(['high-entropy-assignment']);
    expect(redactSecrets('SMTP_PASSWORD=sunflower').findings.map((f) => f.kind)).toEqual(['secret-assignment']);
  });

  it('drops text beyond MAX_SCAN_CHARS instead of passing it through unscanned', () => {
    const secret = 'ghp_' + 'aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5';
    const text = 'x'.repeat(MAX_SCAN_CHARS) + ` TOKEN=${secret}`;
    const out = redactSecrets(text);
    expect(out.text.endsWith('[REDACTED:unscanned]')).toBe(true);
    expect(out.text.includes(secret)).toBe(false);
    expect(out.findings.at(-1)).toEqual({ kind: 'unscanned', start: MAX_SCAN_CHARS, end: text.length });
  });

  it('rejects non-string input with a clear error', () => {
    expect(() => redactSecrets(undefined as unknown as string)).toThrow(/expects a string/);
    expect(() => redactSecrets(null as unknown as string)).toThrow(/got null/);
  });

  it('handles empty and unicode text', () => {
    expect(redactSecrets('')).toEqual({ text: '', findings: [] });
    expect(redactSecrets('пароль 🔑 PASSWORD=Zq81mXv0 ✓').text).toBe('пароль 🔑 PASSWORD=[REDACTED:secret-assignment] ✓');
  });
});

describe('1 MB adversarial inputs', () => {
  const M = 1_000_000;
  const rep = (s: string) => s.repeat(Math.ceil(M / s.length)).slice(0, M);
  const inputs: Record<string, string> = {
    'one long word': 'a'.repeat(M),
    'url prefix without @': 'postgres://' + rep('u:'),
    'user:pass@ with no host chars': 'x://' + rep('b:c@'),
    'private key header, no END': '-----BEGIN RSA PRIVATE KEY-----\n' + rep('QUJD\n'),
    'repeated key headers': rep('-----BEGIN PRIVATE KEY-----'),
    'unterminated quoted values': rep('password="aaaaaaaaa '),
    'one unterminated quote': 'token="' + 'a'.repeat(M),
    'yaml lines with comments': rep('  secret_token: abc def ghi #x\n'),
    'jwt-like segments': rep('eyJ' + 'a'.repeat(50) + '.'),
    'bearer with endless token': 'Authorization: Bearer ' + 'a'.repeat(M),
    'dotted segments': rep('M' + 'a'.repeat(25) + '.'),
    'query parameters': '?' + rep('token=abcd&'),
    'netrc words on one line': rep('machine a login b password '),
    'backslashes in a quote': 'password="' + rep('\\\\'),
  };
  it.each(Object.keys(inputs))('%s: finishes and never returns the input longer than it was redacted', (name) => {
    const out = redactSecrets(inputs[name]);
    expect(typeof out.text).toBe('string');
    for (const f of out.findings) expect(f.end).toBeGreaterThan(f.start);
  }, 20_000);
});

describe('helpers', () => {
  it('classifies secret names', () => {
    expect(classifySecretName('DB_PASSWORD')).toBe('strong');
    expect(classifySecretName('dbPassword')).toBe('strong');
    expect(classifySecretName('spring.datasource.password')).toBe('strong');
    expect(classifySecretName('GITHUB_TOKEN')).toBe('strong');
    expect(classifySecretName('client_secret')).toBe('strong');
    expect(classifySecretName('MAPS_KEY')).toBe('weak');
    expect(classifySecretName('primary_key')).toBeNull();
    expect(classifySecretName('max_tokens')).toBeNull();
    expect(classifySecretName('tokenizer')).toBeNull();
    expect(classifySecretName('TOKEN_URL')).toBeNull();
    expect(classifySecretName('passwordMinLength')).toBeNull();
  });

  it('recognises placeholders', () => {
    for (const v of ['changeme', '${X}', '$X', '{{ x }}', '<token>', '****', 'your_api_key_here', '%(pw)s', '^1.2.3', 'mock-token']) expect(isPlaceholderValue(v), v).toBe(true);
    for (const v of ['Xk29vLq7', 'sunflower', 'ghp_abc123def456']) expect(isPlaceholderValue(v), v).toBe(false);
  });

  it('measures entropy', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
    expect(isHighEntropySecret('Zq81mXv0Lr5tYb3nKw7cPd2s')).toBe(true);
    expect(isHighEntropySecret('aaaaaaaaaaaaaaaaaaaa1')).toBe(false);
    expect(isHighEntropySecret('short1A')).toBe(false);
  });
});
