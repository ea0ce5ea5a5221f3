/**
 * How requests are read and checked before a handler sees them:
 *
 * - Bodies are JSON parsed by our own parser: an empty body is `{}`, nesting deeper than
 *   MAX_BODY_DEPTH or a `__proto__` / `constructor.prototype` key is a 400 naming `body`,
 *   and bad JSON says where it broke. Nothing deeper than the bound ever reaches a handler or
 *   the store (a 20,000-deep object once overflowed the stack while being stored in a job).
 * - Bodies are validated without type coercion: `hostname: 12345`, `tags: "solo"` or
 *   `vlan: true` are refused, not turned into "12345", ["solo"] or 1.
 * - Query strings are text, so a number field accepts a canonical decimal numeral and nothing
 *   else: `limit=1e309`, `Infinity`, `0x10` or `1.0` are refused. (Ajv's own coercion turns
 *   "1e309" into Infinity, which then passes `maximum`.)
 *
 * - Uploads (images, bundles) take the body as a stream, and only as
 *   `application/octet-stream` (`uploadBody`): any other body, or none, is a 415 before the
 *   upload is registered, so a refused upload writes nothing.
 *
 * Fastify takes one validator compiler per server; this one picks the Ajv instance by the
 * part of the request it checks.
 */
import { Readable } from 'node:stream';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyRequest } from 'fastify';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';

/** Deepest nesting of objects and arrays a JSON body may have. */
export const MAX_BODY_DEPTH = 32;

// ajv-formats is CommonJS: its default export is the plugin, wrapped once more under ESM.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

function newAjv(externalSchemas: Record<string, unknown>): Ajv {
  const ajv = new Ajv({
    coerceTypes: false,
    useDefaults: true,
    removeAdditional: false,
    // One error per request: with allErrors a crafted body makes Ajv list (and us format)
    // every failing item, which costs more than it tells.
    allErrors: false,
    // TypeBox adds keywords such as `writeOnly` and `~kind`-style metadata Ajv does not know.
    strict: false,
  });
  addFormats(ajv);
  for (const s of Object.values(externalSchemas)) ajv.addSchema(s as SchemaObject);
  return ajv;
}

const INTEGER = /^-?(0|[1-9][0-9]{0,15})$/;
const DECIMAL = /^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,15})?$/;

function types(schema: SchemaObject | undefined): string[] {
  if (!schema) return [];
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type;
  const alts = (schema.anyOf ?? schema.oneOf) as SchemaObject[] | undefined;
  return alts ? alts.flatMap(types) : [];
}

/**
 * Turns query-string text into the numbers and booleans the schema asks for, when (and only
 * when) the text is the canonical form: anything else stays text and fails validation.
 */
function convertQuery(schema: SchemaObject, data: unknown): void {
  if (!data || typeof data !== 'object') return;
  const props = (schema.properties ?? {}) as Record<string, SchemaObject>;
  const q = data as Record<string, unknown>;
  for (const [key, prop] of Object.entries(props)) {
    const v = q[key];
    if (typeof v !== 'string') continue;
    const t = types(prop);
    if (t.includes('string')) continue;
    if (t.includes('integer') && INTEGER.test(v)) q[key] = Number(v);
    else if (t.includes('number') && DECIMAL.test(v)) q[key] = Number(v);
    else if (t.includes('boolean') && (v === 'true' || v === 'false')) q[key] = v === 'true';
  }
}

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Fastify's `schemaController.compilersFactory.buildValidator`. */
export function buildValidator(externalSchemas: Record<string, unknown>) {
  const ajv = newAjv(externalSchemas);
  const compile = (schema: SchemaObject): ValidateFunction =>
    (schema.$id ? ajv.getSchema(schema.$id) : undefined) ?? ajv.compile(schema);
  return ({ schema, httpPart }: { schema: SchemaObject; httpPart?: string }): Validator => {
    const validate = compile(schema);
    if (httpPart !== 'querystring') return validate;
    const fn: Validator = (data) => {
      convertQuery(schema, data);
      const ok = validate(data);
      fn.errors = validate.errors;
      return ok;
    };
    return fn;
  };
}

/**
 * Walks a parsed body without recursion (a deep body must not overflow our stack either) and
 * refuses nesting past MAX_BODY_DEPTH and prototype keys.
 */
export function checkBodyShape(value: unknown): void {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: 'body' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH)
      throw invalid('body', `nested deeper than ${MAX_BODY_DEPTH} levels (at ${path}); flatten it`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (
        key === '__proto__' ||
        (key === 'constructor' && child && typeof child === 'object' && 'prototype' in child)
      )
        throw invalid(`${path}.${key}`.replace(/^body\./, ''), 'is not allowed as a key; remove it');
      stack.push({ v: child, depth: depth + 1, path: `${path}.${key}` });
    }
  }
}

/** Parses a JSON body: empty means `{}`; errors are 400s naming `body`. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid('body', `is not valid JSON (${(e as Error).message}); send a JSON object`);
  }
  checkBodyShape(value);
  return value;
}

/** The JSON content-type parser Fastify uses for `application/json` bodies. */
export function jsonParser(
  _req: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
): void {
  try {
    done(null, parseJsonBody(body));
  } catch (e) {
    done(e as Error);
  }
}

/**
 * The body of an upload route, as the stream its `application/octet-stream` parser handed over;
 * a 415 naming `body` when the request sent another type (text, JSON) or no body at all.
 */
export function uploadBody(req: FastifyRequest): AsyncIterable<Buffer> {
  if (!(req.body instanceof Readable))
    throw new IngotError(
      ErrorCode.UnsupportedMediaType,
      'body: send the file as the request body with Content-Type: application/octet-stream',
      { details: { field: 'body' } },
    );
  return req.body;
}
