import type { GbnfJsonSchema } from 'node-llama-cpp';

/** A JSON Schema that cannot be turned into a decoding grammar; the message names the place. */
export class UnsupportedSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedSchemaError';
  }
}

type Json = Record<string, unknown>;

/** Keywords that only annotate, or constrain what a grammar cannot (numeric ranges, patterns): dropped. */
const IGNORED = new Set([
  '$schema', '$id', '$comment', 'title', 'default', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'pattern', 'uniqueItems',
  'contentEncoding', 'contentMediaType', 'strict', 'nullable', 'propertyNames', 'format',
]);
/** Keywords whose meaning a grammar would silently break: refused. */
const REFUSED = ['not', 'if', 'then', 'else', 'patternProperties', 'dependentRequired', 'dependentSchemas', 'contains', 'unevaluatedProperties', 'unevaluatedItems'];
const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const STRING_FORMATS = new Set(['date-time', 'time', 'date']);

const ANY: GbnfJsonSchema = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', additionalProperties: true },
    { type: 'array' },
  ],
};

/**
 * Maps a JSON Schema as clients send it in `response_format.json_schema.schema` (draft 2020-12 /
 * OpenAI structured outputs) onto the subset node-llama-cpp compiles to a grammar: `anyOf` becomes
 * `oneOf`, `definitions` become `$defs`, type lists become alternatives, annotations and numeric or
 * pattern bounds are dropped (a grammar cannot hold them), and keywords whose meaning would be lost
 * (`not`, `if`, `patternProperties`, …) are refused. An object without `additionalProperties` gets
 * only its declared properties. node-llama-cpp writes every declared property, optional ones too:
 * the output is still valid for the schema, only never without them.
 */
export function toGrammarSchema(schema: unknown): GbnfJsonSchema {
  if (!isObject(schema) && typeof schema !== 'boolean') throw new UnsupportedSchemaError('The JSON schema must be an object.');
  const defs: Record<string, GbnfJsonSchema> = {};
  const rawDefs = isObject(schema) ? { ...(asObject(schema.definitions) ?? {}), ...(asObject(schema.$defs) ?? {}) } : {};
  for (const [name, def] of Object.entries(rawDefs)) defs[name] = convert(def, `#/$defs/${name}`);
  const root = convert(schema, '#');
  if (Object.keys(defs).length === 0) return root;
  if ('$ref' in root || 'oneOf' in root || ('type' in root && (root.type === 'object' || root.type === 'array'))) {
    return { ...root, $defs: defs } as GbnfJsonSchema;
  }
  return { oneOf: [root], $defs: defs } as GbnfJsonSchema;
}

function convert(node: unknown, at: string): GbnfJsonSchema {
  if (node === true) return ANY;
  if (node === false) throw new UnsupportedSchemaError(`The schema at ${at} is \`false\`: no value can match it.`);
  if (!isObject(node)) throw new UnsupportedSchemaError(`The schema at ${at} must be an object.`);
  for (const key of REFUSED) {
    if (key in node) throw new UnsupportedSchemaError(`The keyword "${key}" at ${at} is not supported for constrained decoding.`);
  }
  const description = typeof node.description === 'string' ? { description: node.description } : {};

  if (typeof node.$ref === 'string') {
    const m = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(node.$ref);
    if (!m) throw new UnsupportedSchemaError(`Only local references like "#/$defs/Name" are supported; ${at} has "${node.$ref}".`);
    return { $ref: `#/$defs/${m[1]}`, ...description } as GbnfJsonSchema;
  }
  if ('const' in node) return { const: primitive(node.const, `${at}/const`), ...description };
  if (Array.isArray(node.enum)) {
    if (node.enum.length === 0) throw new UnsupportedSchemaError(`The enum at ${at} is empty.`);
    return { enum: node.enum.map((v, i) => primitive(v, `${at}/enum/${i}`)), ...description };
  }
  const alternatives = (node.anyOf ?? node.oneOf) as unknown;
  if (alternatives !== undefined) {
    if (!Array.isArray(alternatives) || alternatives.length === 0) throw new UnsupportedSchemaError(`anyOf/oneOf at ${at} must be a non-empty array.`);
    const options = alternatives.map((a, i) => convert(mergeSiblings(node, a), `${at}/anyOf/${i}`));
    return options.length === 1 ? options[0] : { oneOf: options, ...description };
  }
  if (node.allOf !== undefined) {
    if (!Array.isArray(node.allOf) || node.allOf.length !== 1) throw new UnsupportedSchemaError(`allOf at ${at} is supported only with a single schema.`);
    return convert(mergeSiblings(node, node.allOf[0]), `${at}/allOf/0`);
  }

  let type = node.type as unknown;
  if (type === undefined) {
    if ('properties' in node || 'additionalProperties' in node || 'required' in node) type = 'object';
    else if ('items' in node || 'prefixItems' in node) type = 'array';
    else if (node.nullable === true) return { type: 'null' };
    else return ANY;
  }
  if (Array.isArray(type)) {
    if (type.length === 0) throw new UnsupportedSchemaError(`The type list at ${at} is empty.`);
    const stringBounds = 'minLength' in node || 'maxLength' in node || 'format' in node;
    if (type.every((t) => typeof t === 'string' && PRIMITIVES.has(t)) && !stringBounds) {
      return { type: type as ('string' | 'number' | 'integer' | 'boolean' | 'null')[], ...description };
    }
    return { oneOf: type.map((t, i) => convert({ ...node, type: t }, `${at}/type/${i}`)), ...description };
  }
  if (typeof type !== 'string') throw new UnsupportedSchemaError(`The type at ${at} must be a string or a list of strings.`);
  if (node.nullable === true && type !== 'null') {
    return { oneOf: [convert({ ...node, nullable: false }, at), { type: 'null' }], ...description };
  }
  rejectUnknown(node, at);

  switch (type) {
    case 'string': {
      if (typeof node.format === 'string' && STRING_FORMATS.has(node.format)) {
        return { type: 'string', format: node.format as 'date-time' | 'time' | 'date', ...description };
      }
      return {
        type: 'string',
        ...(typeof node.minLength === 'number' ? { minLength: node.minLength } : {}),
        ...(typeof node.maxLength === 'number' ? { maxLength: node.maxLength } : {}),
        ...description,
      };
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type, ...description };
    case 'object': {
      const props = asObject(node.properties) ?? {};
      const properties: Record<string, GbnfJsonSchema> = {};
      for (const [k, v] of Object.entries(props)) properties[k] = convert(v, `${at}/properties/${k}`);
      const required = Array.isArray(node.required) ? node.required.filter((k): k is string => typeof k === 'string') : [];
      for (const k of required) {
        if (!(k in properties)) properties[k] = ANY; // required but undeclared: any value
      }
      let additionalProperties: boolean | GbnfJsonSchema;
      if (node.additionalProperties === undefined) additionalProperties = Object.keys(properties).length === 0;
      else if (typeof node.additionalProperties === 'boolean') additionalProperties = node.additionalProperties;
      else additionalProperties = convert(node.additionalProperties, `${at}/additionalProperties`);
      return {
        type: 'object',
        properties,
        required,
        additionalProperties,
        ...(typeof node.minProperties === 'number' ? { minProperties: node.minProperties } : {}),
        ...(typeof node.maxProperties === 'number' ? { maxProperties: node.maxProperties } : {}),
        ...description,
      } as GbnfJsonSchema;
    }
    case 'array': {
      let items: GbnfJsonSchema | undefined;
      let prefixItems: GbnfJsonSchema[] | undefined;
      if (Array.isArray(node.items)) prefixItems = node.items.map((s, i) => convert(s, `${at}/items/${i}`)); // draft-07 tuples
      else if (node.items !== undefined && node.items !== true) items = convert(node.items, `${at}/items`);
      if (Array.isArray(node.prefixItems)) prefixItems = node.prefixItems.map((s, i) => convert(s, `${at}/prefixItems/${i}`));
      return {
        type: 'array',
        ...(items ? { items } : {}),
        ...(prefixItems ? { prefixItems } : {}),
        ...(typeof node.minItems === 'number' ? { minItems: node.minItems } : {}),
        ...(typeof node.maxItems === 'number' ? { maxItems: node.maxItems } : {}),
        ...description,
      } as GbnfJsonSchema;
    }
    default:
      throw new UnsupportedSchemaError(`Unknown type "${type}" at ${at}.`);
  }
}

/** `{type: 'object', anyOf: [...]}`: each alternative inherits the keywords beside anyOf. */
function mergeSiblings(parent: Json, child: unknown): unknown {
  if (!isObject(child)) return child;
  const { anyOf: _a, oneOf: _o, allOf: _l, description: _d, ...rest } = parent;
  return Object.keys(rest).length ? { ...rest, ...child } : child;
}

const KNOWN = new Set([
  ...IGNORED, 'type', 'description', 'properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties',
  'items', 'prefixItems', 'minItems', 'maxItems', 'minLength', 'maxLength', '$defs', 'definitions', 'enum', 'const',
  'anyOf', 'oneOf', 'allOf', '$ref',
]);

function rejectUnknown(node: Json, at: string): void {
  for (const key of Object.keys(node)) {
    if (!KNOWN.has(key)) throw new UnsupportedSchemaError(`The keyword "${key}" at ${at} is not supported for constrained decoding.`);
  }
}

function primitive(v: unknown, at: string): string | number | boolean | null {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw new UnsupportedSchemaError(`Only strings, numbers, booleans and null can be enum or const values (${at}).`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asObject(v: unknown): Json | undefined {
  return isObject(v) ? v : undefined;
}
