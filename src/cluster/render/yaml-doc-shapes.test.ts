import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineToken } from './yaml-doc-shapes.ts';
import { toYamlOf, yamlTemplates } from './yaml-template.ts';
import { toYaml } from './yaml.ts';

describe('YAML documents through their shapes', () => {
  it('writes documents as a plain render does, whether they fit a kept shape or not', () => {
    const cache = yamlTemplates();
    const doc = (host: string, ip: string, over: Record<string, unknown> = {}) => ({
      name: host,
      args: [{ name: 'node-ip', value: ip }],
      port: 6443,
      labels: 'ingot.dev/rack=r1',
      skip: undefined,
      ...over,
    });
    const cases: [Record<string, unknown>, string[]][] = [
      [doc('w-1', '10.0.0.11'), ['w-1', '10.0.0.11']],
      [doc('w-22', '10.0.0.122'), ['w-22', '10.0.0.122']],
      // YAML 1.1 words come back quoted through the shape too.
      [doc('on', '10.0.0.13'), ['on', '10.0.0.13']],
      // Not the shape: a literal differs, a number is -0, a key is new, a line is two lines.
      [doc('w-4', '10.0.0.14', { labels: 'ingot.dev/rack=r2' }), ['w-4', '10.0.0.14']],
      [doc('w-5', '10.0.0.15', { port: -0 }), ['w-5', '10.0.0.15']],
      [doc('w-6', '10.0.0.16', { extra: true }), ['w-6', '10.0.0.16']],
      [doc('w-7\nand more', '10.0.0.17'), ['w-7', '10.0.0.17']],
      [doc('Ingotvar0Q', '10.0.0.18'), ['w-8', '10.0.0.18']],
    ];
    for (const [value, vars] of cases)
      assert.equal(toYamlOf(value, vars, cache), toYaml(value), String(value.name));
    // Kept under its bucket: key count and first key.
    assert.ok((cache.docShapes.get('5\nname')?.length ?? 0) >= 2);
  });

  it('reads whole-line tokens as the pattern /^IngotvarL(\\d+)Q$/ does', () => {
    const plain = (x: string) => {
      const m = /^IngotvarL(\d+)Q$/.exec(x);
      return m ? Number(m[1]) : -1;
    };
    const cases = [
      'IngotvarL0Q',
      'IngotvarL12Q',
      'IngotvarLQ',
      'IngotvarL1',
      'IngotvarL1QQ',
      'Ingotvar1Q',
      'IngotvarL1xQ',
      ' IngotvarL1Q',
      'IngotvarL007Q',
      'IngotvarL٣Q',
      'I',
      '',
      'IngotvarL99999Q',
      'ingotvarL1Q',
    ];
    for (const x of cases) assert.equal(lineToken(x), plain(x), x);
  });
});
