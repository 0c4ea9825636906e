import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Llama } from 'node-llama-cpp';
import { toGrammarSchema, UnsupportedSchemaError } from '../../src/server/jsonSchema';
import { EXTRACTION_SCHEMA, MANAGER_SCHEMA } from '../../src/core/agents/prompts';
import { JUDGE_SCHEMA } from '../../src/core/eval/judge';

describe('JSON Schema → node-llama-cpp grammar schema', () => {
  it('turns anyOf, definitions, type lists and nullable into what the grammar compiler takes', () => {
    const out = toGrammarSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'T',
      type: 'object',
      properties: {
        a: { anyOf: [{ type: 'string', pattern: '^x' }, { type: 'integer', minimum: 3 }] },
        b: { type: ['string', 'null'] },
        c: { $ref: '#/definitions/Item' },
        d: { type: 'string', nullable: true },
        e: { type: ['object', 'null'], properties: { z: { const: 1 } }, required: ['z'] },
      },
      required: ['a'],
      definitions: { Item: { type: 'array', items: { enum: ['x', 'y'] }, maxItems: 2 } },
    });
    expect(out).toEqual({
      type: 'object',
      properties: {
        a: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        b: { type: ['string', 'null'] },
        c: { $ref: '#/$defs/Item' },
        d: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        e: {
          oneOf: [
            { type: 'object', properties: { z: { const: 1 } }, required: ['z'], additionalProperties: false },
            { type: 'null' },
          ],
        },
      },
      required: ['a'],
      additionalProperties: false,
      $defs: { Item: { type: 'array', items: { enum: ['x', 'y'] }, maxItems: 2 } },
    });
  });

  it('lets an object without declared properties hold any keys, and keeps explicit additionalProperties', () => {
    expect(toGrammarSchema({ type: 'object' })).toMatchObject({ type: 'object', additionalProperties: true });
    expect(toGrammarSchema({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'number' } })).toMatchObject({
      additionalProperties: { type: 'number' },
    });
  });

  it('refuses what a grammar cannot keep, naming the place', () => {
    expect(() => toGrammarSchema({ type: 'object', properties: { a: { not: { type: 'string' } } } })).toThrow(/"not" at #\/properties\/a/);
    expect(() => toGrammarSchema({ type: 'object', patternProperties: { '^x': {} } })).toThrow(UnsupportedSchemaError);
    expect(() => toGrammarSchema({ $ref: 'https://example.com/s.json' })).toThrow(/local references/);
    expect(() => toGrammarSchema({ type: 'string', enum: [{ a: 1 }] })).toThrow(/enum or const/);
    expect(() => toGrammarSchema({ type: 'tuple' })).toThrow(/Unknown type "tuple"/);
    expect(() => toGrammarSchema({ type: 'string', contentSchema: {} })).toThrow(/"contentSchema"/);
    expect(() => toGrammarSchema('x')).toThrow(/must be an object/);
  });

  describe('with the project’s own schemas', () => {
    let llama: Llama;
    beforeAll(async () => {
      const { getLlama } = await import('node-llama-cpp');
      llama = await getLlama({ gpu: false, build: 'never' });
    }, 60_000);
    afterAll(async () => {
      await llama?.dispose();
    });

    it.each([
      ['extraction', EXTRACTION_SCHEMA, { facts: [{ text: 'Uses PostgreSQL 16', kind: 'architecture_or_requirement' }] }, { facts: 'one' }],
      // node-llama-cpp generates every declared property, optional ones too (still schema-valid output).
      ['manager', MANAGER_SCHEMA, { memory: [{ id: 'm1', text: 'Uses PostgreSQL 16', event: 'ADD', old_memory: '', reason: 'new' }] }, { memory: [{ id: 'm1', text: 't', event: 'MERGE' }] }],
      ['judge', JUDGE_SCHEMA, { label: 'CORRECT' }, { label: 'MAYBE' }],
    ])('compiles the %s schema to a grammar that accepts a valid value and rejects an invalid one', async (_name, schema, valid, invalid) => {
      const grammar = await llama.createGrammarForJsonSchema(toGrammarSchema(schema) as never);
      // The grammar object's parser validates against the converted schema.
      expect(grammar.parse(JSON.stringify(valid))).toEqual(valid);
      expect(() => grammar.parse(JSON.stringify(invalid))).toThrow();
    });
  });
});
