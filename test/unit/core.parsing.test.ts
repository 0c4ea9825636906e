import { describe, expect, it } from 'vitest';
import { extractJson } from '../../src/core/util/jsonExtract';
import { parseAnswerOutput, parseFacts, parseManagerOutput, withoutLoop } from '../../src/core/agents/managerOutput';
import type { CandidateView } from '../../src/core/types';

const cands: CandidateView[] = [
  { key: '0', memoryId: 'm-a', text: 'The API uses REST.' },
  { key: '1', memoryId: 'm-b', text: 'Tests run with vitest.' },
];

describe('extractJson', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['```json\n{"a":2}\n```', { a: 2 }],
    ['<think>let me think {not json}</think>\n{"a":3}', { a: 3 }],
    ['Sure! Here you go: {"a": "b}"} hope it helps', { a: 'b}' }],
    ['[1,2,3] trailing', [1, 2, 3]],
    ['prefix {"x": {"y": [1, {"z": 2}]}} suffix', { x: { y: [1, { z: 2 }] } }],
  ])('extracts from %j', (input, expected) => {
    expect(extractJson(input)).toEqual(expected);
  });

  it.each(['', 'no json here', '{"a": ', '{"a": 1', '<think>{"a":1}', '```json\n{"a":\n```'])('returns undefined for %j', (input) => {
    expect(extractJson(input)).toBeUndefined();
  });
});

describe('parseManagerOutput', () => {
  it('maps small integer ids to candidate memories', () => {
    const d = parseManagerOutput(
      JSON.stringify({ memory: [{ id: '0', text: 'The API uses GraphQL.', event: 'UPDATE', old_memory: 'The API uses REST.' }, { id: 1, text: 'Tests run with vitest.', event: 'DELETE' }, { id: '7', text: 'New fact.', event: 'ADD' }] }),
      cands,
    );
    expect(d.ops).toEqual([
      { type: 'UPDATE', memoryId: 'm-a', text: 'The API uses GraphQL.', reason: undefined },
      { type: 'DELETE', memoryId: 'm-b', reason: undefined },
      { type: 'ADD', text: 'New fact.', reason: undefined },
    ]);
    expect(d.rejected).toEqual([]);
  });

  it('rejects invented ids, raw uuids, wrong types and a second op on one memory', () => {
    const d = parseManagerOutput(
      JSON.stringify({
        memory: [
          { id: '5', text: 'x', event: 'DELETE' },
          { id: 'm-a', text: 'x', event: 'DELETE' },
          { id: '0', text: 42, event: 'UPDATE' },
          { id: '0', text: 'The API uses gRPC.', event: 'UPDATE' },
          { id: '0', text: '', event: 'DELETE' },
          { id: '1', text: 'x', event: 'EXPLODE' },
          'just a string',
          null,
        ],
      }),
      cands,
    );
    expect(d.ops).toEqual([{ type: 'UPDATE', memoryId: 'm-a', text: 'The API uses gRPC.', reason: undefined }]);
    expect(d.rejected.map((r) => r.reason)).toEqual([
      'id "5" is not one of the candidate memories',
      'id "m-a" is not one of the candidate memories',
      'UPDATE without text',
      'second operation on memory 0',
      'unknown event "EXPLODE"',
      'not an object',
      'not an object',
    ]);
  });

  it('turns an echo of an existing memory and a same-text UPDATE into NOOP', () => {
    const d = parseManagerOutput('{"memory":[{"id":"9","text":"the api uses REST","event":"ADD"},{"id":"1","text":"Tests run with vitest!","event":"UPDATE"}]}', cands);
    expect(d.ops.map((o) => [o.type, o.memoryId])).toEqual([
      ['NOOP', 'm-a'],
      ['NOOP', 'm-b'],
    ]);
  });

  it('flags unusable output without throwing', () => {
    for (const raw of ['', 'I think you should add it.', '{"memory": "nope"}', '{"memory": [', '\u0000\u0001']) {
      const d = parseManagerOutput(raw, cands);
      expect(d.ops).toEqual([]);
      expect(d.unparseable).toBe(true);
    }
  });
});

describe('parseFacts', () => {
  it('reads lists in several shapes, dropping empties and duplicates', () => {
    expect(parseFacts('{"facts": ["A uses B.", "", "a uses b", 3, "C."]}')).toEqual(['A uses B.', 'C.']);
    expect(parseFacts('```json\n["X."]\n```')).toEqual(['X.']);
    expect(parseFacts('{"facts": [{"fact": "Y."}]}')).toEqual(['Y.']);
    expect(parseFacts('nothing')).toEqual([]);
  });

  it('keeps the facts completed before max_tokens cut the list off, never the cut one', () => {
    // What SmolLM2-135M returned for "We moved the billing database from PostgreSQL 15 to 16".
    const looping = `{\n  "facts": [\n    "The billing database moved to PostgreSQL 16.",\n    "The billing database moved to PostgreSQL 16.",\n    "The billing database moved to \\"PG\\" 16",\n    "The billing datab`;
    expect(parseFacts(looping)).toEqual(['The billing database moved to PostgreSQL 16.', 'The billing database moved to "PG" 16']);
    expect(parseFacts('{"facts": ["Only one, cut')).toEqual([]);
    expect(parseFacts('{"facts": [')).toEqual([]);
    expect(parseFacts('{"other": ["A."')).toEqual([]);
    // A whole JSON value without facts is an answer, not a cut-off list.
    expect(parseFacts('{"facts": "A."} {"facts": ["B."]')).toEqual([]);
  });
});

describe('facts from a model stuck in a loop', () => {
  it('keeps a fact up to its first repeated clause, so the cut-off variants become one fact', () => {
    // What the 1.5B model wrote for a team conversation about a cake (convention benchmark, dev run).
    const loop = 'The hosts are sending us a cake, the cake is in the kitchen, the cake is in the kitchen, the cake is in the kitchen';
    expect(withoutLoop(loop)).toBe('The hosts are sending us a cake, the cake is in the kitchen.');
    expect(parseFacts(JSON.stringify({ facts: [loop, 'The hosts are sending us a cake, the cake is in the kitchen, the cake is in the kitchen.'] }))).toEqual(['The hosts are sending us a cake, the cake is in the kitchen.']);
    // Lists are not loops.
    expect(withoutLoop('Builds use Node 20, pnpm 9, and Vitest 2.')).toBe('Builds use Node 20, pnpm 9, and Vitest 2.');
  });
});

describe('parseAnswerOutput', () => {
  const keys = new Set(['1', '2', '3']);
  it('splits selected memories and the answer', () => {
    expect(parseAnswerOutput('**Selected memories:** 1, 3, 9\n**Answer:** In May 2023.', keys)).toEqual({ answer: 'In May 2023.', selectedKeys: ['1', '3'] });
    // A small model that drops the label and writes the ids alone on the first line still cites them.
    expect(parseAnswerOutput('[1]', keys)).toEqual({ answer: '', selectedKeys: ['1'] });
    expect(parseAnswerOutput('[3], [1]\nIn May 2023.', keys)).toEqual({ answer: 'In May 2023.', selectedKeys: ['3', '1'] });
    expect(parseAnswerOutput('In May 2023, see [1].', keys)).toEqual({ answer: 'In May 2023, see [1].', selectedKeys: [] });
  });
  it('tolerates missing bold, think blocks and no selection', () => {
    expect(parseAnswerOutput('<think>hmm</think>Selected memories: none\nAnswer: Blue', keys)).toEqual({ answer: 'Blue', selectedKeys: [] });
    expect(parseAnswerOutput('Just prose.', keys)).toEqual({ answer: 'Just prose.', selectedKeys: [] });
  });
});

describe('AnswerStreamFilter', () => {
  it('streams only the answer, however the marker is split across chunks', async () => {
    const { AnswerStreamFilter } = await import('../../src/core/engine');
    const raw = '**Selected memories:** 1, 2\n**Answer:** The build uses esbuild.';
    for (const size of [1, 3, 7, 100]) {
      const out: string[] = [];
      const f = new AnswerStreamFilter((d) => out.push(d));
      for (let i = 0; i < raw.length; i += size) f.push(raw.slice(i, i + size));
      f.end('The build uses esbuild.');
      expect(out.join('').replace(/^\*+\s*/, '')).toBe('The build uses esbuild.');
    }
    const out: string[] = [];
    const f = new AnswerStreamFilter((d) => out.push(d));
    f.push('No marker at all.');
    f.end('No marker at all.');
    expect(out.join('')).toBe('No marker at all.');
  });
});
