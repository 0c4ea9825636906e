import pg from 'pg';
import { toSql as vectorToSql } from 'pgvector';
import { BankError } from '../../errors';
import type { StoredRecord } from '../historyLog';
import type { VectorEntry, VectorVisitor } from '../vectorLog';
import type { ScrubOptions, ScrubReport } from '../scrub';
import type { BankStorage, RecordBatch, SideDocName, SideLogName, StorageTx, VectorBatch } from './types';

const LOCK_NAMESPACE = 0x504d; // "PM": keeps our advisory locks apart from other applications'
const PAGE = 2000;

const SCHEMA = `
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS pm_banks (
  bank_id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS pm_records (
  bank_id text NOT NULL REFERENCES pm_banks(bank_id),
  seq bigint NOT NULL,
  op_id text NOT NULL,
  memory_id text NOT NULL,
  action text NOT NULL,
  actor text,
  time timestamptz NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (bank_id, seq)
);
CREATE INDEX IF NOT EXISTS pm_records_memory ON pm_records (bank_id, memory_id);
CREATE SEQUENCE IF NOT EXISTS pm_vectors_pos;
CREATE TABLE IF NOT EXISTS pm_vectors (
  bank_id text NOT NULL REFERENCES pm_banks(bank_id),
  embedder text NOT NULL,
  memory_id text NOT NULL,
  text_hash text NOT NULL,
  embedding vector NOT NULL,
  pos bigint NOT NULL DEFAULT nextval('pm_vectors_pos'),
  PRIMARY KEY (bank_id, embedder, memory_id)
);
CREATE INDEX IF NOT EXISTS pm_vectors_pos_idx ON pm_vectors (bank_id, embedder, pos);
CREATE TABLE IF NOT EXISTS pm_side (
  bank_id text NOT NULL REFERENCES pm_banks(bank_id),
  name text NOT NULL,
  pos bigserial,
  body jsonb NOT NULL,
  PRIMARY KEY (bank_id, name, pos)
);
CREATE TABLE IF NOT EXISTS pm_docs (
  bank_id text NOT NULL REFERENCES pm_banks(bank_id),
  name text NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (bank_id, name)
);
`;

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * A bank shared by a team in PostgreSQL + pgvector. Records are rows keyed by (bank, seq); the
 * seq the bank assigns under `pg_advisory_xact_lock` is the catch-up cursor. Vectors are one row
 * per (bank, embedder, memory), upserted with a fresh `pos` from a sequence (the vector cursor),
 * so a later vector wins as in the file store. Records and vectors of a batch commit together.
 */
export class PgStorage implements BankStorage {
  readonly kind = 'postgres' as const;
  readonly recoveryNotes: string[] = [];
  readonly location: string;
  private readonly pool: pg.Pool;
  private embedderId = '';
  private dims = 0;
  private side: Record<SideLogName, { cursor: number; items: unknown[] }> = {
    feedback: { cursor: 0, items: [] },
    trajectories: { cursor: 0, items: [] },
    evidence: { cursor: 0, items: [] },
    sources: { cursor: 0, items: [] },
  };
  private docs = new Map<SideDocName, unknown>();

  constructor(
    readonly url: string,
    readonly bankId: string,
    poolSize = 4,
  ) {
    if (!bankId.trim()) throw new BankError('INVALID_INPUT', 'A postgres bank needs a bank id (e.g. the repository name).');
    this.location = `${redactUrl(url)}#${bankId}`;
    this.pool = new pg.Pool({ connectionString: url, max: poolSize });
    this.pool.on('error', () => undefined); // an idle client's lost connection is reported by the next query
  }

  async init(meta: { embedder: string; dimensions: number }): Promise<void> {
    this.embedderId = meta.embedder;
    this.dims = meta.dimensions;
    await this.run(async (c) => {
      // Two processes creating the schema at once would race on CREATE ... IF NOT EXISTS.
      await c.query('BEGIN');
      try {
        await c.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_NAMESPACE]);
        await c.query(SCHEMA);
        await c.query('INSERT INTO pm_banks (bank_id) VALUES ($1) ON CONFLICT DO NOTHING', [this.bankId]);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    await this.refreshSide();
    const pending = await this.run((c) => readDocWith(c, this.bankId, 'pending'));
    if (pending !== undefined) this.docs.set('pending', pending);
  }

  async withLock<T>(fn: (tx: StorageTx) => Promise<T> | T): Promise<T> {
    return this.run(async (c) => {
      await c.query('BEGIN');
      let done = false;
      try {
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, this.bankId]);
        const pendingDocs = new Map<SideDocName, unknown>();
        const pendingSide: { name: SideLogName; entry: unknown }[] = [];
        const rewritten = new Set<SideLogName>();
        const tx: StorageTx = {
          readRecords: (cursor) => this.readRecordsWith(c, cursor),
          readVectors: (cursor) => this.readVectorsWith(c, cursor),
          append: async (records, vectors) => {
            await this.insertRecords(c, records);
            const vectorCursor = await this.upsertVectors(c, vectors);
            return { recordCursor: records.length ? records[records.length - 1].seq : await this.maxSeq(c), vectorCursor };
          },
          appendVectors: (vectors) => this.upsertVectors(c, vectors),
          cutTornTail: async () => undefined, // a transaction is never half-committed
          appendSide: async (name, entry) => {
            await c.query('INSERT INTO pm_side (bank_id, name, body) VALUES ($1, $2, $3)', [this.bankId, name, JSON.stringify(entry)]);
            pendingSide.push({ name, entry });
          },
          rewriteSide: async (name, entries) => {
            await c.query('DELETE FROM pm_side WHERE bank_id = $1 AND name = $2', [this.bankId, name]);
            for (const entry of entries) await c.query('INSERT INTO pm_side (bank_id, name, body) VALUES ($1, $2, $3)', [this.bankId, name, JSON.stringify(entry)]);
            rewritten.add(name);
          },
          readDoc: <D>(name: SideDocName) => readDocWith(c, this.bankId, name) as Promise<D | undefined>,
          writeDoc: async (name, value) => {
            await c.query(
              'INSERT INTO pm_docs (bank_id, name, body) VALUES ($1, $2, $3) ON CONFLICT (bank_id, name) DO UPDATE SET body = excluded.body',
              [this.bankId, name, JSON.stringify(value)],
            );
            pendingDocs.set(name, value);
          },
        };
        const result = await fn(tx);
        await c.query('COMMIT');
        done = true;
        for (const [name, value] of pendingDocs) this.docs.set(name, value);
        // A rewritten log is read again from the start (its rows have new positions).
        for (const name of rewritten) this.side[name] = { cursor: 0, items: [] };
        if (pendingSide.length || rewritten.size) await this.refreshSideWith(c);
        return result;
      } finally {
        if (!done) await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  async hasRecordsAfter(cursor: number): Promise<boolean> {
    const r = await this.pool.query('SELECT EXISTS (SELECT 1 FROM pm_records WHERE bank_id = $1 AND seq > $2) AS more', [this.bankId, cursor]);
    return r.rows[0].more as boolean;
  }

  readRecords(cursor: number): Promise<RecordBatch> {
    return this.run((c) => this.readRecordsWith(c, cursor));
  }

  readVectors(cursor: number): Promise<VectorBatch> {
    return this.run((c) => this.readVectorsWith(c, cursor));
  }

  async scanVectors(cursor: number, visit: VectorVisitor): Promise<{ cursor: number; damaged: number }> {
    const res = await this.readVectors(cursor);
    for (const e of res.entries) visit(e.memoryId, e.textHash, e.vector);
    return { cursor: res.cursor, damaged: res.damaged };
  }

  sideLog<T>(name: SideLogName): T[] {
    return [...this.side[name].items] as T[];
  }

  sideDoc<T>(name: SideDocName): T | undefined {
    return this.docs.get(name) as T | undefined;
  }

  async refreshSide(): Promise<void> {
    await this.run(async (c) => {
      await this.refreshSideWith(c);
      const pending = await readDocWith(c, this.bankId, 'pending');
      if (pending !== undefined) this.docs.set('pending', pending);
    });
  }

  /** Export files are files: a shared bank scrubs its rows only. */
  async scrub(opts: ScrubOptions): Promise<ScrubReport> {
    const { scrubRowStore } = await import('../scrub');
    return scrubRowStore(this, opts);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** For benchmarks: exact top-k by inner product in the database (pgvector `<#>`), over current vectors. */
  async searchInDatabase(query: Float32Array, topK: number): Promise<{ id: string; score: number }[]> {
    const r = await this.pool.query(
      `SELECT memory_id, -(embedding <#> $3::vector) AS score FROM pm_vectors
       WHERE bank_id = $1 AND embedder = $2 ORDER BY embedding <#> $3::vector, memory_id LIMIT $4`,
      [this.bankId, this.embedderId, vectorToSql(Array.from(query)), topK],
    );
    return r.rows.map((row) => ({ id: row.memory_id as string, score: Number(row.score) }));
  }

  /**
   * Rewrites this bank's rows with `redactRow` applied (Scrub Secrets), in one transaction under the
   * bank's advisory lock: records, side logs and documents whose text changes are updated, the vectors
   * of memories whose current text changed are deleted (recomputed when a bank next opens), and
   * `finalRecord` (the SCRUB record, given the next seq) is inserted. Without `apply` it only reads.
   */
  async rewriteRows(opts: {
    apply: boolean;
    redactRecord: (r: StoredRecord) => StoredRecord | undefined;
    redactSide: (name: string, body: unknown, pos: number) => unknown | undefined;
    finalRecord: (seq: number) => StoredRecord | undefined;
  }): Promise<{ vectorsDropped: number }> {
    return this.run(async (c) => {
      await c.query('BEGIN');
      let done = false;
      try {
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, this.bankId]);
        const records = await this.readRecordsWith(c, 0);
        const changed: StoredRecord[] = [];
        const changedMemories = new Set<string>();
        for (const r of records.records) {
          const clean = opts.redactRecord(r);
          if (!clean) continue;
          changed.push(clean);
          if (clean.after && clean.after.text !== r.after?.text) changedMemories.add(clean.memoryId);
        }
        const side = await c.query('SELECT name, pos, body FROM pm_side WHERE bank_id = $1 ORDER BY pos', [this.bankId]);
        const sideChanges: { pos: number; body: unknown }[] = [];
        for (const row of side.rows) {
          const clean = opts.redactSide(row.name as string, row.body, Number(row.pos));
          if (clean !== undefined) sideChanges.push({ pos: Number(row.pos), body: clean });
        }
        const docs = await c.query('SELECT name, body FROM pm_docs WHERE bank_id = $1', [this.bankId]);
        const docChanges: { name: string; body: unknown }[] = [];
        for (const row of docs.rows) {
          const clean = opts.redactSide(row.name as string, row.body, -1);
          if (clean !== undefined) docChanges.push({ name: row.name as string, body: clean });
        }
        // A memory's vector is only used while it matches the text: the ones of changed texts go.
        const current = new Map<string, string>();
        for (const r of records.records) if (r.after && r.memoryId) current.set(r.memoryId, r.after.text);
        const stale = [...changedMemories].filter((id) => current.has(id));
        const v = await c.query('SELECT count(*) AS n FROM pm_vectors WHERE bank_id = $1 AND memory_id = ANY($2::text[])', [this.bankId, stale]);
        const vectorsDropped = Number(v.rows[0].n);
        if (opts.apply) {
          for (const r of changed) await c.query('UPDATE pm_records SET body = $3 WHERE bank_id = $1 AND seq = $2', [this.bankId, r.seq, JSON.stringify(r)]);
          for (const sc of sideChanges) await c.query('UPDATE pm_side SET body = $3 WHERE bank_id = $1 AND pos = $2', [this.bankId, sc.pos, JSON.stringify(sc.body)]);
          for (const d of docChanges) await c.query('UPDATE pm_docs SET body = $3 WHERE bank_id = $1 AND name = $2', [this.bankId, d.name, JSON.stringify(d.body)]);
          await c.query('DELETE FROM pm_vectors WHERE bank_id = $1 AND memory_id = ANY($2::text[])', [this.bankId, stale]);
          const fin = opts.finalRecord((await this.maxSeq(c)) + 1);
          if (fin) await this.insertRecords(c, [fin]);
          await c.query('COMMIT');
          done = true;
        }
        return { vectorsDropped };
      } finally {
        if (!done) await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  /** Removes every row of this bank (tests and benchmarks). */
  async dropBank(): Promise<void> {
    await this.run(async (c) => {
      for (const t of ['pm_records', 'pm_vectors', 'pm_side', 'pm_docs', 'pm_banks']) await c.query(`DELETE FROM ${t} WHERE bank_id = $1`, [this.bankId]);
    });
  }

  private async run<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      const e = err as Error & { code?: string };
      // A missing password surfaces as a SASL client error, a wrong one as 28P01: say which, plainly.
      if (e.code === '28P01' || e.code === '28000' || /password/i.test(e.message)) {
        const user = decodeURIComponent(new URL(this.url).username || 'the default user');
        throw new BankError('AUTH', `The memory bank database ${this.location} refused the login of ${user}: ${/must be a string|no password/i.test(e.message) ? 'it needs a password, and none was given' : e.message}.`);
      }
      throw new BankError('IO', `Cannot reach the memory bank database ${this.location}: ${e.message}`);
    }
    try {
      return await fn(c);
    } finally {
      c.release();
    }
  }

  private async readRecordsWith(c: Queryable, cursor: number): Promise<RecordBatch> {
    const records: StoredRecord[] = [];
    let next = cursor;
    for (;;) {
      const r = await c.query('SELECT seq, body FROM pm_records WHERE bank_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [this.bankId, next, PAGE * 5]);
      for (const row of r.rows) records.push(row.body as StoredRecord);
      if (r.rows.length) next = Number(r.rows[r.rows.length - 1].seq);
      if (r.rows.length < PAGE * 5) break;
    }
    return { records, cursor: next, corrupt: [], tornBytes: 0 };
  }

  private async readVectorsWith(c: Queryable, cursor: number): Promise<VectorBatch> {
    const entries: VectorEntry[] = [];
    let next = cursor;
    for (;;) {
      // vector_send gives the binary form (int16 dims, int16 unused, big-endian float4s): no text parsing.
      const r = await c.query(
        `SELECT memory_id, text_hash, vector_send(embedding) AS bin, pos FROM pm_vectors
         WHERE bank_id = $1 AND embedder = $2 AND pos > $3 ORDER BY pos LIMIT $4`,
        [this.bankId, this.embedderId, next, PAGE],
      );
      for (const row of r.rows) {
        const bin = row.bin as Buffer;
        const dims = bin.readUInt16BE(0);
        if (dims !== this.dims) throw new BankError('CORRUPT', `The database holds ${dims}-dimensional vectors for ${this.embedderId}; expected ${this.dims}.`);
        const v = new Float32Array(dims);
        for (let i = 0; i < dims; i++) v[i] = bin.readFloatBE(4 + i * 4);
        entries.push({ memoryId: row.memory_id as string, textHash: row.text_hash as string, vector: v });
      }
      if (r.rows.length) next = Number(r.rows[r.rows.length - 1].pos);
      if (r.rows.length < PAGE) break;
    }
    return { entries, cursor: next, damaged: 0 };
  }

  private async insertRecords(c: Queryable, records: StoredRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += PAGE) {
      const chunk = records.slice(i, i + PAGE);
      await c.query(
        `INSERT INTO pm_records (bank_id, seq, op_id, memory_id, action, actor, time, body)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[])`,
        [
          this.bankId,
          chunk.map((r) => r.seq),
          chunk.map((r) => r.opId),
          chunk.map((r) => r.memoryId),
          chunk.map((r) => r.action),
          chunk.map((r) => r.actor ?? r.source?.actor ?? null),
          chunk.map((r) => r.time),
          chunk.map((r) => JSON.stringify(r)),
        ],
      );
    }
  }

  private async upsertVectors(c: Queryable, vectors: VectorEntry[]): Promise<number> {
    // One row per memory: within a call the last vector for a memory wins.
    const latest = new Map<string, VectorEntry>();
    for (const v of vectors) {
      if (v.vector.length !== this.dims) throw new BankError('INVALID_INPUT', `A vector has ${v.vector.length} dimensions; the bank uses ${this.dims}.`);
      latest.delete(v.memoryId);
      latest.set(v.memoryId, v);
    }
    const all = [...latest.values()];
    for (let i = 0; i < all.length; i += PAGE) {
      const chunk = all.slice(i, i + PAGE);
      await c.query(
        `INSERT INTO pm_vectors (bank_id, embedder, memory_id, text_hash, embedding)
         SELECT $1, $2, m, h, e::vector FROM unnest($3::text[], $4::text[], $5::text[]) AS t(m, h, e)
         ON CONFLICT (bank_id, embedder, memory_id)
         DO UPDATE SET text_hash = excluded.text_hash, embedding = excluded.embedding, pos = nextval('pm_vectors_pos')`,
        [this.bankId, this.embedderId, chunk.map((v) => v.memoryId), chunk.map((v) => v.textHash), chunk.map((v) => vectorToSql(Array.from(v.vector)))],
      );
    }
    const r = await c.query('SELECT coalesce(max(pos), 0) AS pos FROM pm_vectors WHERE bank_id = $1 AND embedder = $2', [this.bankId, this.embedderId]);
    return Number(r.rows[0].pos);
  }

  private async maxSeq(c: Queryable): Promise<number> {
    const r = await c.query('SELECT coalesce(max(seq), 0) AS seq FROM pm_records WHERE bank_id = $1', [this.bankId]);
    return Number(r.rows[0].seq);
  }

  private async refreshSideWith(c: Queryable): Promise<void> {
    for (const name of Object.keys(this.side) as SideLogName[]) {
      const s = this.side[name];
      const r = await c.query('SELECT pos, body FROM pm_side WHERE bank_id = $1 AND name = $2 AND pos > $3 ORDER BY pos', [this.bankId, name, s.cursor]);
      for (const row of r.rows) s.items.push(row.body);
      if (r.rows.length) s.cursor = Number(r.rows[r.rows.length - 1].pos);
    }
  }
}

async function readDocWith(c: Queryable, bankId: string, name: SideDocName): Promise<unknown> {
  const r = await c.query('SELECT body FROM pm_docs WHERE bank_id = $1 AND name = $2', [bankId, name]);
  return r.rows[0]?.body;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}
