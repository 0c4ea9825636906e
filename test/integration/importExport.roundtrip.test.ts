import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBank, type BankBundle } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import { BankError } from '../../src/core/errors';
import type { HistoryRecord } from '../../src/core/types';

const open = (dir: string) => MemoryBank.open(dir, { embedder: new HashingEmbedder(128), watchIntervalMs: 0 });

function filesHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex');
}

/** The parts of a record an export must carry over unchanged. */
function recordView(r: HistoryRecord): unknown {
  return { opId: r.opId, batchId: r.batchId, action: r.action, memoryId: r.memoryId, before: r.before, after: r.after, reason: r.reason, fact: r.fact, time: r.time, undoes: r.undoes, source: r.source };
}

describe('export and import', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-ie-'));
    dirs.push(d);
    return d;
  };
  let src: MemoryBank;

  beforeEach(async () => {
    src = await open(tmp());
    const a = await src.addManual('The API is served by Fastify.', { tags: ['api'] });
    const b = await src.addManual('Releases happen on Fridays.', { pinned: true });
    const c = await src.addManual('Logs go to stdout in JSON.');
    await src.edit(a.memoryId, 'The API is served by Fastify 5.');
    await src.setTags(b.memoryId, ['process', 'release']);
    await src.delete(c.memoryId);
    await src.restore(c.memoryId);
    const d = await src.addManual('The cache is Redis.');
    const upd = await src.applyBatch(
      [
        { type: 'UPDATE', memoryId: d.memoryId, text: 'The cache is Valkey.' },
        { type: 'ADD', text: 'Feature flags live in LaunchDarkly.' },
        { type: 'NOOP', memoryId: a.memoryId },
      ],
      { fact: 'We moved the cache to Valkey.', model: 'mgr', source: { kind: 'chat', ref: 't1' }, eventTime: '2026-01-03' },
    );
    await src.undo(upd[0].opId);
    await src.applyBatch([{ type: 'DELETE', memoryId: b.memoryId, reason: 'no more fixed release day' }], { fact: 'Releases are continuous.', model: 'mgr' });
    await src.addManual('Unicode survives: ünïcödé 日本語 🙂.');
    await src.side.recordFeedback({ answerId: 'answer-1', kind: 'helpful', memoryIds: [a.memoryId] });
  });

  afterEach(async () => {
    await src.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('reproduces memories and history in an empty bank, also after reopening', async () => {
    const bundle = JSON.parse(JSON.stringify(src.exportBundle())) as BankBundle;
    const dir = tmp();
    let dst = await open(dir);
    expect(await dst.importBundle(bundle, 'merge')).toEqual({ imported: src.size, skipped: 0, dropped: [] });
    for (let pass = 0; pass < 2; pass++) {
      const want = src.list({ status: 'all' }).items;
      const got = dst.list({ status: 'all' }).items;
      expect(got.map((m) => m.id).sort()).toEqual(want.map((m) => m.id).sort());
      for (const m of want) {
        const g = dst.get(m.id)!;
        expect({ text: g.text, status: g.status, tags: g.tags, pinned: g.pinned, eventTime: g.eventTime, source: g.source, createdAt: g.createdAt }).toEqual({
          text: m.text,
          status: m.status,
          tags: m.tags,
          pinned: m.pinned,
          eventTime: m.eventTime,
          source: m.source,
          createdAt: m.createdAt,
        });
        // The memory's history comes over record for record, followed by one IMPORT record.
        const srcHist = src.history(m.id).map(recordView);
        const dstHist = dst.history(m.id);
        expect(dstHist.slice(0, -1).map(recordView)).toEqual(srcHist);
        expect(dstHist.at(-1)!.action).toBe('IMPORT');
      }
      expect(dst.side.feedback()).toHaveLength(1);
      expect((await dst.search('cache Valkey Redis'))[0]?.memory.text).toBe('The cache is Redis.');
      await dst.close();
      dst = await open(dir); // the second pass checks what was made durable
      expect(dst.recovery.messages).toEqual([]);
    }
    // Importing the same file again changes nothing but reports the skips.
    const before = filesHash(dir);
    expect(await dst.importBundle(bundle, 'merge')).toEqual({ imported: 0, skipped: src.size, dropped: [] });
    expect(filesHash(dir)).toBe(before);
    await dst.close();
  });

  it('replace soft-deletes the current memories first, undoably', async () => {
    const bundle = JSON.parse(JSON.stringify(src.exportBundle())) as BankBundle;
    const dst = await open(tmp());
    const mine = await dst.addManual('A memory that is replaced.');
    await dst.importBundle(bundle, 'replace');
    expect(dst.get(mine.memoryId)!.status).toBe('deleted');
    const del = dst.history(mine.memoryId).at(-1)!;
    expect(del.reason).toBe('replaced by import');
    await dst.undo(del.opId);
    expect(dst.get(mine.memoryId)!.status).toBe('active');
    await dst.close();
  });

  // Each variant is refused as a whole with a message naming the problem; the bank's files are unchanged.
  const variants: [string, (b: any) => unknown, RegExp][] = [
    ['not JSON at all', () => 'this is { not json', /not a JSON object/],
    ['null', () => null, /not a JSON object/],
    ['an array', (b) => [b], /not a JSON object/],
    ['a number', () => 42, /not a JSON object/],
    ['missing format', (b) => ({ ...b, format: undefined }), /"format" must be/],
    ['wrong format', (b) => ({ ...b, format: 'other-tool' }), /"format" must be/],
    ['future version', (b) => ({ ...b, version: 2 }), /"version" must be 1/],
    ['version as string', (b) => ({ ...b, version: '1' }), /"version" must be 1/],
    ['memories missing', (b) => ({ ...b, memories: undefined }), /"memories" must be an array/],
    ['memories an object', (b) => ({ ...b, memories: { a: b.memories[0] } }), /"memories" must be an array/],
    ['memory a string', (b) => ({ ...b, memories: [...b.memories, 'text'] }), /memories\[\d+\] is not an object/],
    ['numeric id', (b) => mutateMemory(b, 1, (m) => (m.id = 7)), /memories\[1\]\.id must be an id/],
    ['empty id', (b) => mutateMemory(b, 0, (m) => (m.id = '')), /memories\[0\]\.id is missing/],
    ['huge id', (b) => mutateMemory(b, 0, (m) => (m.id = 'x'.repeat(500))), /memories\[0\]\.id must be an id: 1-64/],
    ['id with control characters', (b) => mutateMemory(b, 0, (m) => (m.id = 'a\u0000b')), /memories\[0\]\.id/],
    ['duplicate ids', (b) => ({ ...b, memories: [...b.memories, { ...b.memories[0], text: 'another text' }] }), /\.id is duplicated/],
    ['missing text', (b) => mutateMemory(b, 2, (m) => delete m.text), /memories\[2\]\.text must be a non-empty string/],
    ['blank text', (b) => mutateMemory(b, 2, (m) => (m.text = ' \n ')), /memories\[2\]\.text must be a non-empty string/],
    ['text as object', (b) => mutateMemory(b, 2, (m) => (m.text = { value: 'x' })), /memories\[2\]\.text must be a non-empty string/],
    ['huge text', (b) => mutateMemory(b, 0, (m) => (m.text = 'y'.repeat(100_000))), /limited to 2000 characters; this one has 100000/],
    ['unknown status', (b) => mutateMemory(b, 0, (m) => (m.status = 'archived')), /\.status must be active, superseded or deleted/],
    ['bad createdAt', (b) => mutateMemory(b, 0, (m) => (m.createdAt = 'yesterday')), /\.createdAt must be an ISO 8601 time/],
    ['tags as string', (b) => mutateMemory(b, 0, (m) => (m.tags = 'a,b')), /\.tags must be an array of strings/],
    ['tags with a number', (b) => mutateMemory(b, 0, (m) => (m.tags = ['a', 1])), /\.tags must be an array of strings/],
    ['pinned as string', (b) => mutateMemory(b, 0, (m) => (m.pinned = 'yes')), /\.pinned must be true or false/],
    ['missing source', (b) => mutateMemory(b, 0, (m) => delete m.source), /\.source must be an object/],
    ['eventTime as number', (b) => mutateMemory(b, 0, (m) => (m.eventTime = 20260101)), /\.eventTime must be an ISO 8601 time/],
    ['history an object', (b) => ({ ...b, history: {} }), /"history" must be an array/],
    ['history item a number', (b) => ({ ...b, history: [...b.history, 5] }), /history\[\d+\] is not an object/],
    ['history without opId', (b) => mutateRecord(b, 0, (r) => delete r.opId), /history\[0\]\.opId is missing/],
    ['duplicate opIds', (b) => ({ ...b, history: [...b.history, b.history[0]] }), /\.opId is duplicated/],
    ['unknown action', (b) => mutateRecord(b, 1, (r) => (r.action = 'EXPLODE')), /history\[1\]\.action is not a known operation/],
    ['history memoryId a number', (b) => mutateRecord(b, 1, (r) => (r.memoryId = 3)), /history\[1\]\.memoryId must be an id/],
    ['history time invalid', (b) => mutateRecord(b, 1, (r) => (r.time = 'noon')), /history\[1\]\.time must be an ISO 8601 time/],
    ['after snapshot with bad status', (b) => mutateRecord(b, 0, (r) => (r.after = { ...r.after, status: 'gone' })), /history\[0\]\.after is not a memory snapshot/],
    ['huge text inside history', (b) => mutateRecord(b, 0, (r) => (r.after = { ...r.after, text: 'z'.repeat(1_000_000) })), /limited to 2000 characters/],
    ['candidates not a list', (b) => mutateRecord(b, 0, (r) => (r.candidates = 'all of them')), /history\[0\]\.candidates/],
    ['reason as nested junk', (b) => mutateRecord(b, 0, (r) => (r.reason = { a: [{ b: 1 }] })), /history\[0\]\.reason must be a string/],
    ['feedback an object', (b) => ({ ...b, feedback: { x: 1 } }), /"feedback" must be an array/],
    // Ids and times are stored as they are, so a credential can hide in none of them.
    ['an id that is a token', (b) => mutateMemory(b, 0, (m) => (m.id = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8')), /memories\[0\]\.id looks like a credential/],
    ['eventTime that is a secret', (b) => mutateMemory(b, 0, (m) => (m.eventTime = 'password=Tr0ub4dor&3')), /memories\[0\]\.eventTime must be an ISO 8601 time/],
    ['unknown source kind', (b) => mutateMemory(b, 0, (m) => (m.source = { kind: 'sk_live_' + 'a1B2c3D4e5F6g7H8i9J0k1L2' })), /memories\[0\]\.source\.kind must be one of/],
    ['source event that is a token', (b) => mutateRecord(b, 0, (r) => (r.source = { kind: 'chat', event: 'xoxb-1234567890-1234567890-abcdefABCDEF1234567890ab' })), /history\[0\]\.source\.event/],
    ['after.eventTime that is a secret', (b) => mutateRecord(b, 0, (r) => (r.after = { ...r.after, eventTime: 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' })), /history\[0\]\.after\.eventTime must be an ISO 8601 time/],
    ['candidate memoryId not an id', (b) => mutateRecord(b, 0, (r) => (r.candidates = [{ key: '0', memoryId: 'has spaces in it', text: 'x' }])), /history\[0\]\.candidates\[0\]\.memoryId must be an id/],
  ];

  it(`refuses ${variants.length} malformed files with a clear message and leaves the bank byte-for-byte untouched`, async () => {
    const good = JSON.parse(JSON.stringify(src.exportBundle()));
    const dir = tmp();
    const dst = await open(dir);
    await dst.addManual('Already here before the bad imports.');
    const before = filesHash(dir);
    const state = JSON.stringify(dst.list({ status: 'all' }));
    const problems: string[] = [];
    for (const [name, mutate, message] of variants) {
      const bad = mutate(JSON.parse(JSON.stringify(good)));
      for (const mode of ['merge', 'replace'] as const) {
        const err = await dst.importBundle(bad, mode).then(
          () => undefined,
          (e) => e,
        );
        if (!(err instanceof BankError)) problems.push(`${name} (${mode}): accepted or failed without a BankError (${err})`);
        else if (!message.test(err.message)) problems.push(`${name} (${mode}): unclear message "${err.message.slice(0, 200)}"`);
        if (filesHash(dir) !== before) problems.push(`${name} (${mode}): the bank files changed`);
        if (JSON.stringify(dst.list({ status: 'all' })) !== state) problems.push(`${name} (${mode}): the bank state changed`);
      }
    }
    expect(problems).toEqual([]);
    await dst.close();
    console.log(`import: ${variants.length} malformed variants refused in merge and replace mode, bank unchanged`);
  });
});

function mutateMemory(b: any, i: number, fn: (m: any) => void): unknown {
  fn(b.memories[i]);
  return b;
}

function mutateRecord(b: any, i: number, fn: (r: any) => void): unknown {
  fn(b.history[i]);
  return b;
}
