import type { YamlTemplates } from './yaml-template.ts';
import { filled, scalarYaml, type Template, TOKEN } from './yaml-tokens.ts';

/**
 * A tokenised document whose only tokens are whole single-line strings (`toYamlOf`'s `L`
 * tokens), with its template. Another document is of this shape when it is equal to it but for
 * those strings, each single-line and token-free: its YAML is then the template with their YAML,
 * by `toYamlOf`'s argument (a single-line scalar is written the same wherever it sits), without
 * tokenising it, encoding it as JSON and looking that up.
 */
export interface DocShape {
  readonly doc: unknown;
  readonly template: Template;
}

/** Shapes kept per top-level key list: the documents of one kind (a worker's join config…). */
const SHAPES = 8;

/**
 * The index of a whole-line token (`IngotvarL<digits>Q`), -1 for any other string: read in
 * place, no match array (this runs on every kept string of every node's documents).
 */
export function lineToken(s: string): number {
  const n = s.length;
  if (n < 11 || s.charCodeAt(n - 1) !== 81 || !s.startsWith('IngotvarL')) return -1;
  let v = 0;
  for (let i = 9; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + c - 48;
  }
  return v;
}

/**
 * Which kept shapes a document may fit: its key count and first key (a user-data head, a join
 * config, a network-config…). Only a bucket: `fits` compares every key, in order.
 */
function fingerprint(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    return undefined;
  let first = '';
  let n = 0;
  for (const k in value) {
    if (n === 0) first = k;
    n++;
  }
  return `${n}\n${first}`;
}

/** Whether `x` is `shape` but for its whole-line tokens, whose strings go into `lines`. */
function fits(x: unknown, shape: unknown, lines: string[]): boolean {
  if (typeof shape === 'string') {
    // Only a token starts with `I` among most kept strings: it is read on those alone.
    const line = shape.charCodeAt(0) === 73 ? lineToken(shape) : -1;
    if (line < 0) return x === shape;
    if (typeof x !== 'string' || x.includes('\n') || x.includes(TOKEN)) return false;
    lines[line] = x;
    return true;
  }
  if (typeof shape !== 'object' || shape === null) return Object.is(x, shape);
  if (Array.isArray(shape)) {
    if (!Array.isArray(x) || x.length !== shape.length) return false;
    for (let i = 0; i < shape.length; i++) if (!fits(x[i], shape[i], lines)) return false;
    return true;
  }
  if (typeof x !== 'object' || x === null || Object.getPrototypeOf(x) !== Object.prototype) return false;
  // Read in place (for-in, a shape's keys made once): this runs on every node's documents.
  const keys = keysOf(shape);
  let i = 0;
  for (const k in x) {
    const v = (x as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (keys[i] !== k || !fits(v, (shape as Record<string, unknown>)[k], lines)) return false;
    i++;
  }
  return i === keys.length;
}

const shapeKeys = new WeakMap<object, string[]>();

/** A kept shape's object's keys, in order. */
function keysOf(shape: object): string[] {
  let keys = shapeKeys.get(shape);
  if (!keys) {
    keys = Object.keys(shape);
    shapeKeys.set(shape, keys);
  }
  return keys;
}

/**
 * `toYaml(value)` from a shape it fits, most recently used first; undefined when none does.
 * With `pieces`, the strings the YAML is made of are added to it (`filled`).
 */
export function fromShapes(value: unknown, cache: YamlTemplates, pieces?: string[]): string | undefined {
  const key = fingerprint(value);
  const shapes = key === undefined ? undefined : cache.docShapes.get(key);
  if (!shapes) return undefined;
  for (let s = 0; s < shapes.length; s++) {
    const shape = shapes[s];
    const lines: string[] = [];
    if (!fits(value, shape.doc, lines)) continue;
    const scalars = lines.map((l) => scalarYaml(l, cache));
    if (scalars.some((y) => y.indexOf('\n') !== y.length - 1)) return undefined;
    if (s > 0) shapes.splice(0, 0, ...shapes.splice(s, 1));
    const yaml = filled(shape.template, [], scalars, pieces);
    if (yaml === undefined && pieces) pieces.length = 0;
    return yaml;
  }
  return undefined;
}

/** Keeps a tokenised document as a shape when its only tokens are whole single-line strings. */
export function keepShape(value: unknown, doc: unknown, template: Template, cache: YamlTemplates): void {
  const key = fingerprint(value);
  if (key === undefined || !template.line.every(Boolean)) return;
  const shapes = cache.docShapes.get(key) ?? [];
  if (shapes.length >= SHAPES) return;
  shapes.push({ doc, template });
  cache.docShapes.set(key, shapes);
}
