// Scrub Secrets on a shared PostgreSQL bank: one transaction rewrites records, trajectories, feedback
// and held batches, drops the vectors of changed texts and adds the SCRUB record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { scrubBank } from '../../src/core/config';

/** The shared bank's scrub, through its store (BankStorage.scrub) as the CLI and the extension call it. */
const scrubPostgresBank = (url: string, bankId: string, opts: { apply?: boolean; actor?: string } = {}) => scrubBank({ bank: { folder: 'unused', postgres: { url, bankId } } }, opts);
import { startPostgres, type PostgresServer } from '../support/postgres';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

const STRIPE = 'sk_live_51Nq8ZkLmQ2pR7sT9vWxY3zA4bC6dE8fG0hJ';
const PG_PW = 'Tr0ub4dor-Pg-2024';

async function dump(bankId: string): Promise<string> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    const parts: string[] = [];
    for (const t of ['pm_records', 'pm_side', 'pm_docs']) parts.push(JSON.stringify((await c.query(`SELECT body FROM ${t} WHERE bank_id = $1`, [bankId])).rows));
    return parts.join('\n');
  } finally {
    await c.end();
  }
}

describe('scrub on PostgreSQL', () => {
  it('reports, then rewrites the bank in one transaction and records a SCRUB', async () => {
    const bankId = `scrub-${randomUUID()}`;
    const open = () => MemoryBank.open(`pg:${bankId}`, { embedder: new HashingEmbedder(64), watchIntervalMs: 0, storage: { kind: 'postgres', url: server.url, bankId } });
    const raw = await MemoryBank.open(`pg:${bankId}`, { embedder: new HashingEmbedder(64), watchIntervalMs: 0, storage: { kind: 'postgres', url: server.url, bankId }, redaction: 'off' });
    await raw.addManual(`Payments use ${STRIPE}`);
    await raw.addManual(`DB is postgres://app:${PG_PW}@db:5432/app`);
    await raw.addManual('We deploy on Fridays.');
    await raw.side.recordTrajectory({ kind: 'answer', question: `is ${STRIPE} live?` });
    await raw.close();
    expect(await dump(bankId)).toContain(STRIPE);

    const dry = await scrubPostgresBank(server.url, bankId);
    expect(dry.applied).toBe(false);
    expect(dry.total).toBe(3);
    expect(dry.vectorsDropped).toBe(2);
    expect(await dump(bankId)).toContain(STRIPE);

    const done = await scrubPostgresBank(server.url, bankId, { apply: true, actor: 'ada' });
    expect(done.total).toBe(3);
    const after = await dump(bankId);
    expect(after.includes(STRIPE) || after.includes(PG_PW)).toBe(false);

    const bank = await open();
    expect(bank.list().items.map((m) => m.text).sort()).toEqual(['DB is postgres://app:[REDACTED:postgres-url-password]@db:5432/app', 'Payments use [REDACTED:stripe-secret-key]', 'We deploy on Fridays.']);
    expect(bank.history().at(-1)?.action).toBe('SCRUB');
    expect(bank.recovery.missingVectors).toBe(2);
    expect((await scrubPostgresBank(server.url, bankId)).total).toBe(0);
    await bank.close();
  }, 60_000);
});
