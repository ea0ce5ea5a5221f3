import { toYaml } from './yaml.ts';
import { type YamlTemplates, yamlTemplates } from './yaml-template.ts';
import { hasControl, numberYaml, plainWord, scalarYaml } from './yaml-tokens.ts';

/**
 * `toYaml(doc)` for a template's document (yaml-template.ts) or a manifest, written directly:
 * block maps with sorted keys, block sequences (indented under their key), `{}` and `[]` when
 * empty, `true`, `false`, `null`, multi-line strings as literal blocks — the yaml library's
 * layout with Ingot's options (no line width: literal blocks, never folded) — and single-line
 * strings and finite numbers as their own YAML (`scalarYaml`, `numberYaml`: such a scalar is
 * written the same wherever it sits outside keys, `toYamlOf`'s argument). The library builds a
 * node tree per document (~0.1–0.5 ms for a manifest); these are plain data. Undefined for
 * anything else (a key that is not a plain word, a string the library would quote over several
 * lines, -0…), which then goes through the library. yaml-emit.test.ts compares both on
 * generated documents.
 */
export function emitYaml(doc: unknown, cache: YamlTemplates): string | undefined {
  const out: string[] = [];
  if (!block(doc, '', out, cache)) return undefined;
  return `${out.join('\n')}\n`;
}

/**
 * `toYaml(value)`, written directly when it is plain data: a document rendered once per render
 * (a chart's values, the alert rules, the audit policy, the admin kubeconfig…).
 */
export function toYamlDirect(value: unknown): string {
  return emitYaml(value, yamlTemplates()) ?? toYaml(value);
}

/**
 * Several documents as one YAML stream (`toYamlStream`), each written directly with `cache`'s
 * scalars when it is plain data. The cluster manifests repeat one object per rack or peer
 * (Cilium's BGP cluster and peer configs, their password Secrets: 110 of the bench's 139
 * objects); written directly they take ~1.7 ms, where one template per object shape filled
 * with each object's leaves took ~2.4 ms, most of it making the shapes (issue 19).
 */
export function toYamlStreamDirect(
  values: readonly unknown[],
  cache: YamlTemplates = yamlTemplates(),
): string {
  return values.map((v) => emitYaml(v, cache) ?? toYaml(v)).join('---\n');
}

/**
 * Whether a block ends in whitespace after its last line break (`/\n[\t ]+$/`): the library quotes
 * it. Read from the end: the pattern tries every line break of a large block.
 */
export function trailingBlank(value: string): boolean {
  let i = value.length;
  while (i > 0 && (value.charCodeAt(i - 1) === 32 || value.charCodeAt(i - 1) === 9)) i--;
  return i < value.length && i > 0 && value.charCodeAt(i - 1) === 10;
}
const BLOCK_END_NEWLINES = /(^|(?<!\n))\n+(?!\n|$)/g;

/**
 * A value at the start of a line: a non-empty map or sequence, whose first line is pushed whole
 * and the rest pushed at `indent`. False when a part cannot be written here.
 */
function block(x: unknown, indent: string, out: string[], cache: YamlTemplates): boolean {
  if (Array.isArray(x)) {
    if (x.length === 0) return false;
    for (const item of x) if (!entry(`${indent}- `, item, `${indent}  `, out, cache)) return false;
    return true;
  }
  if (!isPlainObject(x)) return false;
  const keys = Object.keys(x).filter((k) => x[k] !== undefined);
  if (keys.length === 0) return false;
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const k of keys) {
    if (!plainWord(k) || k.length > 1000) return false;
    if (!entry(`${indent}${k}:`, x[k], `${indent}  `, out, cache, true)) return false;
  }
  return true;
}

/**
 * One map pair (`lead` is `key:`) or sequence item (`lead` is `- `) and its value; `inner` is
 * where the value's own lines start. A map's value collection goes on the next lines (a sequence
 * indented under its key); a sequence item's map or sequence starts on the dash's line.
 */
function entry(
  lead: string,
  v: unknown,
  inner: string,
  out: string[],
  cache: YamlTemplates,
  pair = false,
): boolean {
  const sep = pair ? ' ' : '';
  if (v === null) out.push(`${lead}${sep}null`);
  else if (v === true || v === false) out.push(`${lead}${sep}${v}`);
  else if (typeof v === 'string' || typeof v === 'number') {
    const s = scalar(v, inner, cache);
    if (s === undefined) return false;
    out.push(`${lead}${sep}${s}`);
  } else if (Array.isArray(v) || isPlainObject(v)) {
    const empty = Array.isArray(v) ? v.length === 0 : Object.keys(v).every((k) => v[k] === undefined);
    if (empty) {
      out.push(`${lead}${sep}${Array.isArray(v) ? '[]' : '{}'}`);
      return true;
    }
    if (pair) {
      out.push(lead);
      return block(v, inner, out, cache);
    }
    // On the dash's line: the collection's first line shares it.
    const at = out.length;
    if (!block(v, inner, out, cache)) return false;
    out[at] = `${lead}${out[at].slice(inner.length)}`;
  } else return false;
  return true;
}

/** A scalar value whose lines start at `indent`: one line, or a literal block (blockString). */
function scalar(value: string | number, indent: string, cache: YamlTemplates): string | undefined {
  if (typeof value === 'number' || !value.includes('\n')) {
    if (typeof value === 'string' && plainWord(value)) return value;
    if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return undefined;
    const y = typeof value === 'number' ? numberYaml(value) : scalarYaml(value, cache);
    return y.indexOf('\n') === y.length - 1 ? y.slice(0, -1) : undefined;
  }
  if (hasControl(value) || trailingBlank(value)) return undefined;
  // Chomping from the whitespace at the end.
  let endStart = value.length;
  for (; endStart > 0; --endStart) {
    const ch = value[endStart - 1];
    if (ch !== '\n' && ch !== '\t' && ch !== ' ') break;
  }
  let end = value.substring(endStart);
  const endNl = end.indexOf('\n');
  const chomp = endNl === -1 ? '-' : value === end || endNl !== end.length - 1 ? '+' : '';
  let body = value;
  if (end) {
    body = body.slice(0, -end.length);
    if (end[end.length - 1] === '\n') end = end.slice(0, -1);
    end = end.replace(BLOCK_END_NEWLINES, `$&${indent}`);
  }
  // An indentation indicator when the text starts with a space.
  let startWithSpace = false;
  let startEnd = 0;
  let startNl = -1;
  for (; startEnd < body.length; ++startEnd) {
    const ch = body[startEnd];
    if (ch === ' ') startWithSpace = true;
    else if (ch === '\n') startNl = startEnd;
    else break;
  }
  let start = body.substring(0, startNl < startEnd ? startNl + 1 : startEnd);
  if (start) {
    body = body.substring(start.length);
    start = start.replace(/\n+/g, `$&${indent}`);
  }
  const header = (startWithSpace ? '2' : '') + chomp;
  return `|${header}\n${indent}${start}${body.replace(/\n+/g, `$&${indent}`)}${end}`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}
