// Scrub of a bank written raw (as versions before the privacy boundary did): dry run changes nothing,
// apply removes every secret and keeps everything else, records a SCRUB, is idempotent, keeps the
// capture queue's pending events, drops vectors of secret texts, and a bank opened before refuses to write.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { EventQueue } from '../../src/core/capture/eventQueue';
import { formatScrubReport, scrubFileBank } from '../../src/core/bank/scrub';
import { RedactingStream, PrivacyBoundary } from '../../src/core/privacy/boundary';

const PG = 'postgres://app:Tr0ub4dor-Pg-2024@db.internal:5432/app';
const PG_PW = 'Tr0ub4dor-Pg-2024';
const STRIPE = 'sk_live_51Nq8ZkLmQ2pR7sT9vWxY3zA4bC6dE8fG0hJ';
const GH = 'ghp_R7sT9vWxY3zA4bC6dE8fG0hJ2kL4mN6pQ8rS';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(folder)) out[f] = fs.readFileSync(path.join(folder, f)).toString('latin1');
  return out;
}
const hasSecret = (s: string) => [PG_PW, STRIPE, GH].some((x) => s.includes(x));

async function rawBank(folder: string): Promise<void> {
  const bank = await MemoryBank.open(folder, { embedder: new HashingEmbedder(64), watchIntervalMs: 0, redaction: 'off' });
  const a = await bank.addManual(`The app database is ${PG}`);
  await bank.addManual(`Payments use ${STRIPE}`, { tags: ['billing'] });
  await bank.edit(a.memoryId, `The app database is ${PG} (primary)`);
  await bank.addManual('We deploy on Fridays.');
  await bank.side.recordTrajectory({ kind: 'answer', question: `is ${GH} still valid?`, output: JSON.stringify({ text: `token ${GH}` }) });
  await bank.side.recordFeedback({ answerId: 'x', kind: 'helpful', question: `what is ${PG}?` });
  await bank.close();
  // The capture queue as an older version wrote it (raw): one event processed (acknowledged), one pending.
  EventQueue.open(folder); // writes the queue's header
  fs.appendFileSync(
    path.join(folder, 'capture-queue.jsonl'),
    [
      JSON.stringify({ id: 'e1', source: { kind: 'terminal' }, text: `psql ${PG}`, time: '2024-01-01T00:00:00Z' }),
      JSON.stringify({ id: 'e2', source: { kind: 'terminal' }, text: `export GITHUB_TOKEN=${GH}`, time: '2024-01-01T00:00:00Z' }),
    ].join('\n') + '\n',
  );
  const q2 = EventQueue.open(folder);
  expect(q2.length).toBe(2);
  q2.ack('e1');
}

describe('scrub', () => {
  it('reports without changing a byte, then scrubs every file, keeps the rest, records it, and is idempotent', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-scrub-'));
    const folder = path.join(dir, 'bank');
    await rawBank(folder);
    // A writer that crashed mid-line left an unacknowledged tail holding a secret.
    fs.appendFileSync(path.join(folder, 'history.jsonl'), `0badc0de {"seq":99,"fact":"token ${GH}`);
    const exportFile = path.join(dir, 'project-memory.md');
    fs.writeFileSync(exportFile, `# Project memory\n\n- Payments use ${STRIPE}\n`);
    const before = snapshot(folder);
    expect(hasSecret(Object.values(before).join('\n'))).toBe(true);

    const dry = await scrubFileBank(folder, { exports: [exportFile] });
    expect(snapshot(folder)).toEqual(before);
    expect(dry.applied).toBe(false);
    const lines = formatScrubReport(dry).join('\n');
    expect(lines).toMatch(/history\.jsonl: \d+ in \d+ history records \(seq 1, seq 2/);
    expect(lines).toMatch(/trajectories\.jsonl/);
    expect(lines).toMatch(/capture-queue\.jsonl/);
    expect(lines).toMatch(/project-memory\.md/);
    expect(hasSecret(lines)).toBe(false);
    expect(dry.kinds['postgres-url-password']).toBeGreaterThanOrEqual(3);
    expect(dry.vectorsDropped).toBeGreaterThan(0);

    const done = await scrubFileBank(folder, { exports: [exportFile], apply: true, actor: 'ada' });
    expect(done.applied).toBe(true);
    expect(done.total).toBe(dry.total);
    const after = snapshot(folder);
    expect(hasSecret(Object.values(after).join('\n') + fs.readFileSync(exportFile, 'utf8'))).toBe(false);
    expect(Object.keys(after).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const bank = await MemoryBank.open(folder, { embedder: new HashingEmbedder(64), watchIntervalMs: 0 });
    expect(bank.list().items.map((m) => m.text).sort()).toEqual([
      'Payments use [REDACTED:stripe-secret-key]',
      'The app database is postgres://app:[REDACTED:postgres-url-password]@db.internal:5432/app (primary)',
      'We deploy on Fridays.',
    ]);
    const last = bank.history().at(-1)!;
    expect(last.action).toBe('SCRUB');
    expect(last.actor).toBe('ada');
    expect(last.redactions).toEqual(done.kinds);
    expect(bank.recovery.missingVectors).toBe(2); // the two texts that changed, re-embedded
    expect(bank.recovery.tornBytes).toBe(0);
    expect(bank.recovery.corruptRecords).toBe(0);
    expect((await bank.search('deploy Fridays', { topK: 1 }))[0].memory.text).toBe('We deploy on Fridays.');
    // Undo still works across the rewritten history (the edit is undone to the scrubbed text).
    const edit = bank.history().find((r) => r.action === 'EDIT')!;
    await bank.undo(edit.opId);
    expect(bank.get(edit.memoryId)!.text).toBe('The app database is postgres://app:[REDACTED:postgres-url-password]@db.internal:5432/app');
    await bank.close();

    const q = EventQueue.open(folder);
    expect(q.peek(5).map((e) => e.id)).toEqual(['e2']);
    expect(q.peek(1)[0].text).toBe('export GITHUB_TOKEN=[REDACTED:github-pat]');

    const again = await scrubFileBank(folder, { apply: true });
    expect(again.total).toBe(0);
    expect(formatScrubReport(again)).toEqual([`No secrets found in ${folder}.`]);
  });

  it('a bank opened before the scrub refuses to write until it is reopened', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-scrub-open-'));
    const folder = path.join(dir, 'bank');
    await rawBank(folder);
    const open = await MemoryBank.open(folder, { embedder: new HashingEmbedder(64), watchIntervalMs: 0 });
    await scrubFileBank(folder, { apply: true });
    await expect(open.addManual('after the scrub')).rejects.toThrow(/rewritten by "Scrub Secrets"/);
    await open.close();
    const reopened = await MemoryBank.open(folder, { embedder: new HashingEmbedder(64), watchIntervalMs: 0 });
    await reopened.addManual('after the scrub');
    expect(reopened.list().counts.active).toBe(4);
    await reopened.close();
  });

  it('refuses a folder that is not a bank', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-scrub-none-'));
    await expect(scrubFileBank(path.join(dir, 'nothing'))).rejects.toThrow(/No memory bank/);
  });
});

describe('streamed answers', () => {
  it('never shows a secret, even one that arrives in pieces, and shows everything else', () => {
    const text = `The database is ${PG} and\nthe key block is:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEogIBAAKCAQEAxDDkvBg1PVAu5tO2uwcHU3Yx6EQ57yTgz8t5c6wjZ\n-----END RSA PRIVATE KEY-----\nand payments use ${STRIPE} today.`;
    for (const size of [1, 3, 7, 50]) {
      let shown = '';
      const s = new RedactingStream(new PrivacyBoundary('on'), (d) => (shown += d));
      for (let i = 0; i < text.length; i += size) s.push(text.slice(i, i + size));
      s.end();
      expect(hasSecret(shown) || shown.includes('MIIEog')).toBe(false);
      expect(shown).toContain('payments use [REDACTED:stripe-secret-key] today.');
      expect(shown).toContain('The database is postgres://app:[REDACTED:postgres-url-password]@db.internal');
    }
  });
});
