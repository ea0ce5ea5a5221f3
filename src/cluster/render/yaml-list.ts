import { cutAtPieces, fitsPieces } from './content-pieces.ts';
import {
  type ItemShape,
  type NodeVars,
  nodeVars,
  tokenised,
  toYamlOf,
  type YamlTemplates,
} from './yaml-template.ts';
import { filled, fills, TOKEN, template } from './yaml-tokens.ts';
import { toYaml } from './yaml.ts';
import { emitYaml } from './yaml-emit.ts';

/** One item of a list: `content` and `id` together identify `value` (a file: content; path, mode). */
export interface ListItem {
  readonly value: object;
  /** The item's large string: the same string object for every node that shares it. */
  readonly content: string;
  readonly id: string;
  /** `content` as the strings it was made of, when it is built so (`NodeFile.pieces`). */
  readonly pieces?: readonly string[];
}

/** Templates kept per item id: the shapes of one file (init node, joiners, workers…). */
const SHAPES = 8;

/**
 * `toYaml({ ...head, [key]: items })` when `key` sorts after every key of `head`, built from the
 * head's and each item's YAML (a block sequence's items are serialised independently of each
 * other). A node's user-data shares most files with every other node (CA certificates,
 * containerd, packages…): those are looked up by their content, no scan. Its per-node files
 * (bootstrap, kubeadm config) are matched against the shapes of their id (`itemYaml`), or
 * go through `toYamlOf`.
 */
export function toYamlWithList(
  head: Record<string, unknown>,
  key: string,
  items: readonly ListItem[],
  vars: readonly string[],
  cache: YamlTemplates,
): string {
  if (items.length === 0 || Object.keys(head).some((k) => k >= key))
    return toYamlOf({ ...head, [key]: items.map((i) => i.value) }, vars, cache);
  const prefix = `${key}:\n`;
  const nv = nodeVars(vars, cache);
  let out = `${toYamlOf(head, vars, cache)}${prefix}`;
  for (const item of items) {
    let yaml = nv ? shapeYaml(item, nv, cache) : undefined;
    let byId: Map<string, string> | undefined;
    if (yaml === undefined) {
      byId = cache.items.get(item.content);
      yaml = byId?.get(item.id) ?? (nv ? newShape(key, item, nv, cache) : undefined);
    }
    if (yaml === undefined) {
      yaml = toYamlOf({ [key]: [item.value] }, vars, cache).slice(prefix.length);
      if (!byId) {
        byId = new Map();
        cache.items.set(item.content, byId);
      }
      byId.set(item.id, yaml);
    }
    out += yaml;
  }
  return out;
}

/** The value's fields other than its large string, in order; null unless they are flat data. */
function restOf(item: ListItem): [string, unknown][] | null {
  const rest: [string, unknown][] = [];
  for (const [k, v] of Object.entries(item.value)) {
    if (v === item.content) continue;
    const number = typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0);
    if (typeof v !== 'string' && typeof v !== 'boolean' && !number) return null;
    rest.push([k, v]);
  }
  return rest;
}

/**
 * Whether the value's fields other than its large string are `rest` (a shape's: flat data), in
 * order. Read in place: this runs for each per-node file of each node.
 */
function hasRest(item: ListItem, rest: ItemShape['rest']): boolean {
  let i = 0;
  for (const k in item.value) {
    const v = (item.value as Record<string, unknown>)[k];
    if (v === item.content) continue;
    if (i >= rest.length || rest[i][0] !== k || rest[i][1] !== v) return false;
    i++;
  }
  return i === rest.length;
}

/** The YAML of a per-node item from a shape of its id: the same other fields, and its large string the shape's with this node's strings, checked whole. */
function shapeYaml(item: ListItem, nv: NodeVars, cache: YamlTemplates): string | undefined {
  const shapes = cache.shapes.get(item.id);
  if (!shapes) return undefined;
  // Content and shape both in pieces: checked piece by piece first, the content never read
  // whole (a miss there is a miss: the item then fits another shape, makes one, or goes to
  // toYamlOf). Any shape that fits gives the same YAML, so the order does not matter.
  const pieces = item.pieces;
  if (pieces !== undefined) {
    for (const s of shapes)
      if (s.pieces !== undefined && hasRest(item, s.rest) && fitsPieces(s.pieces, nv.distinct, pieces))
        return filled(s.yaml, nv.distinct);
  }
  for (const s of shapes) {
    if (pieces !== undefined && s.pieces !== undefined) continue;
    if (hasRest(item, s.rest) && fills(s.content, nv.distinct, item.content))
      return filled(s.yaml, nv.distinct);
  }
  return undefined;
}

/**
 * A new shape for a per-node item, and its YAML: when its large string is multi-line and holds
 * node strings, the value with that string tokenised is serialised once (`toYamlOf`'s argument:
 * a token in a block literal is written as the word it stands for would be). Undefined when it
 * is not such an item (then it is `toYamlOf`'s).
 */
function newShape(key: string, item: ListItem, nv: NodeVars, cache: YamlTemplates): string | undefined {
  const rest = restOf(item);
  const shapes = cache.shapes.get(item.id) ?? [];
  if (rest === null || shapes.length >= SHAPES) return undefined;
  if (rest.some(([k, v]) => k.includes(TOKEN) || (typeof v === 'string' && v.includes(TOKEN))))
    return undefined;
  if (!item.content.includes('\n') || item.content.includes(TOKEN)) return undefined;
  const content = tokenised(item.content, nv);
  if (content === item.content) return undefined;
  const value = Object.fromEntries(
    Object.entries(item.value).map(([k, v]) => [k, v === item.content ? content : v]),
  );
  const t = template(content);
  const pieces = item.pieces && cutAtPieces(t, nv.distinct, item.pieces);
  const shape: ItemShape = {
    rest,
    content: t,
    ...(pieces ? { pieces } : {}),
    yaml: template((emitYaml({ [key]: [value] }, cache) ?? toYaml({ [key]: [value] })).slice(key.length + 2)),
  };
  shapes.push(shape);
  cache.shapes.set(item.id, shapes);
  return filled(shape.yaml, nv.distinct);
}
