/**
 * Building blocks of the wire schemas: string enums from the core's value lists, the error
 * body, path parameters and the bounds every input obeys. Every string the API takes has a
 * `maxLength` and every number a `minimum` and `maximum`: a request outside them is a 400
 * naming the field, before any handler runs.
 */
import { type TSchema, Type } from 'typebox';

/** A string enum as `{type: string, enum: [...]}`: one clear validation error listing the values. */
export const Lit = <const T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** Longest value of each kind of input string. */
export const MAX = {
  /** Ids (`m-…`, `s-…`) and names that may stand for them in a path. */
  id: 128,
  /** A DNS label: hostnames, tags, zones, racks, pools, subnet and token names. */
  label: 63,
  /** Free text an operator writes: comments, reasons. */
  comment: 500,
  /** URLs: BMC addresses, image sources. */
  url: 2048,
  /** BMC user names (IPMI allows 16 bytes, Redfish services rarely more than 64). */
  username: 256,
  /** BMC passwords. */
  password: 1024,
  /** One query-string filter value (comma-separated lists included). */
  query: 1024,
  /** Keys of free-form parameter objects. */
  key: 64,
} as const;

/** The largest integer a JSON number carries exactly (ids, versions, event ids). */
export const MAX_INT = Number.MAX_SAFE_INTEGER;

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code, INGOT_…' }),
    message: Type.String({ description: 'What went wrong and what to do' }),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'Error' },
);

export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
};

export const Mac = Type.String({
  maxLength: 17,
  pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$',
  description: 'MAC address, e.g. 52:54:00:12:34:56',
});

export const Ipv4 = Type.String({ format: 'ipv4', maxLength: 15, description: 'IPv4 address' });

export const Label = Type.String({
  maxLength: MAX.label,
  pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$',
});

/** `{id}` in a path: an id, or a name where the route says so. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: MAX.id }) });

/** Page sizes of list routes. */
export const Limit = (dflt: number) => Type.Integer({ minimum: 1, maximum: 1000, default: dflt });

/** Event ids to resume after. */
export const After = Type.Integer({
  minimum: 0,
  maximum: MAX_INT,
  description: 'Only events with a larger id',
});
