import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toYaml, toYamlStream } from './yaml.ts';
import { emitYaml, toYamlDirect, toYamlStreamDirect, trailingBlank } from './yaml-emit.ts';
import { yamlTemplates } from './yaml-template.ts';
import { numberYaml } from './yaml-tokens.ts';

/** Text pieces for multi-line strings: leading spaces, blank lines, trailing newlines, tabs, markers. */
const PIECES = [
  'x',
  'a b',
  '  indented',
  '',
  '\t tab',
  '---',
  '# not a comment',
  'key: value',
  ' ',
  '"q"',
  "it's",
  '{',
  '- item',
];
/** Single-line scalars: plain, quoted by the library, numbers, a document marker (a block at the root). */
const SCALARS = [
  'w-1',
  '0644',
  'root:root',
  'a b',
  "it's",
  '- x',
  '--- x',
  '',
  'yes',
  6443,
  0.5,
  -7,
  1e21,
  '10.0.0.1',
];
const KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'a',
  'b.c/d',
  '10.0.0.0/20',
  'Z',
  'y',
  'on',
  'e1',
  'valuesContent',
  'x-y',
];

/** A small deterministic generator: documents of the shapes the leaf templates hold. */
function generator(seed: number) {
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const multiLine = () => {
    const lines = Array.from({ length: 2 + next(4) }, () => PIECES[next(PIECES.length)]);
    return `${'\n'.repeat(next(3) === 0 ? 1 : 0)}${lines.join('\n')}${'\n'.repeat(next(4))}`;
  };
  const value = (depth: number): unknown => {
    const k = next(depth > 3 ? 5 : 9);
    if (k === 0) return next(2) === 0 ? `IngotvarL${next(20)}Q` : SCALARS[next(SCALARS.length)];
    if (k === 1) return next(2) === 0;
    if (k === 2) return null;
    if (k === 3 || k === 4) return multiLine();
    if (k === 5) return next(3) === 0 ? [] : Array.from({ length: 1 + next(3) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = next(4); i > 0; i--) o[KEYS[next(KEYS.length)]] = value(depth + 1);
    return o;
  };
  return value;
}

describe('YAML written directly for templates', () => {
  it('writes generated documents as the yaml library does, or leaves them to it', () => {
    const value = generator(42);
    const cache = yamlTemplates();
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      const doc = { kind: 'IngotvarL0Q', spec: value(0), list: [value(1), value(1)] };
      const got = emitYaml(doc, cache);
      if (got === undefined) continue;
      written++;
      assert.equal(got, toYaml(doc), JSON.stringify(doc));
    }
    // Most are written directly (the rest hold a key like `y` or `on`, or a blank last line).
    assert.ok(written > 1500, `${written} of 3000 written directly`);
  });

  it('leaves to the library what it would quote, and what is not a template', () => {
    for (const doc of [
      { y: 'IngotvarL0Q' },
      { a: 'x\n  ' },
      { a: 'tab\x01char\nx' },
      { a: '--- x' },
      { a: -0 },
      { a: Number.NaN },
      { a: undefined, b: [undefined] },
      {},
      [],
      'IngotvarL0Q',
    ])
      assert.equal(emitYaml(doc, yamlTemplates()), undefined, JSON.stringify(doc));
  });

  it('writes numbers as the library does: finite ones as their JSON', () => {
    const numbers = [
      0,
      -0,
      1,
      -7,
      6443,
      0.5,
      1e21,
      1e-7,
      2 ** 53,
      -(2 ** 40),
      Number.NaN,
      Infinity,
      -Infinity,
    ];
    for (let i = 0; i < 2000; i++) numbers.push(Math.sin(i) * 10 ** ((i % 40) - 20), i * 7919 - 5000);
    for (const n of numbers) assert.equal(numberYaml(n), toYaml(n), String(n));
  });

  it('writes a whole document directly when it can, else through the library', () => {
    const docs = [
      {
        groups: [
          { name: 'ingot', rules: [{ alert: 'Disk', expr: 'a > 1\nand b', for: '5m', labels: { on: 'x' } }] },
        ],
      },
      { port: 6443, ratio: -0, when: new Date(0) },
      ['list', { of: 'maps' }],
    ];
    for (const d of docs) assert.equal(toYamlDirect(d), toYaml(d), JSON.stringify(d));
  });

  it('finds a block ending in blanks after its last line break as the pattern does', () => {
    const chars = ['\n', ' ', '\t', 'x', '\r'];
    const all = (n: number): string[] =>
      n === 0 ? [''] : all(n - 1).flatMap((s) => chars.map((c) => s + c));
    for (let n = 0; n <= 6; n++)
      for (const s of all(n)) assert.equal(trailingBlank(s), /\n[\t ]+$/.test(s), JSON.stringify(s));
  });
});

describe('toYamlStreamDirect', () => {
  const peer = (address: string, asn: unknown, over: Record<string, unknown> = {}) => ({
    kind: 'CiliumBGPPeerConfig',
    metadata: { name: `peer-${address}`, labels: { 'ingot.dev/rack': 'r1' } },
    spec: {
      peerAddress: address,
      peerASN: asn,
      families: [{ afi: 'ipv4', safi: 'unicast', enabled: true, none: null }],
      empty: [],
      nothing: {},
      notes: 'line one\n  line two\n',
      skipped: undefined,
    },
    ...over,
  });

  it('writes a stream as the library does, plain data directly and the rest through the library', () => {
    const values: unknown[] = [
      peer('10.0.14.1', 65001),
      // Scalars a YAML 1.1 reader would misread come back quoted; floats and big numbers as the library writes them.
      peer('on', '65003'),
      peer('10.0.14.4', 0.5),
      peer('10.0.14.5', 1e21),
      peer('', -7),
      peer(' leading space', "it's"),
      peer('#comment', '52:54:00:12:34:56'),
      peer('--- a document marker', 1),
      peer('10.0.14.9', 65009, { list: [['nested', 1], [], [{ a: 'b' }]] }),
      // Not plain data: the library writes these.
      peer('10.0.14.1', -0),
      peer('10.0.14.1', Number.NaN),
      peer('10.0.14.1', 1, { when: new Date(0) }),
      { kind: 'Secret', data: 'a\nb' },
      'a bare string',
      42,
    ];
    assert.equal(toYamlStreamDirect(values, yamlTemplates()), toYamlStream(values));
    assert.equal(toYamlStreamDirect(values), toYamlStream(values));
    for (const v of values) assert.equal(toYamlStreamDirect([v]), toYaml(v), JSON.stringify(v));
  });
});
