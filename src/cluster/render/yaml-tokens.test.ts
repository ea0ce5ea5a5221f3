import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { yamlTemplates } from './yaml-template.ts';
import { filled, fills, hasControl, scalarYaml, template } from './yaml-tokens.ts';
import { toYaml } from './yaml.ts';

describe('YAML token templates', () => {
  it('tell whether a text is the template filled with a node’s strings, without building it', () => {
    const t = template('#!/bin/bash\nhostname Ingotvar0Q\nip Ingotvar1Q/24 Ingotvar0Q\n');
    const node = ['w-1', '10.0.0.11'];
    const cases = [
      filled(t, node) as string,
      '#!/bin/bash\nhostname w-1\nip 10.0.0.11/24 w-1\n\n',
      '#!/bin/bash\nhostname w-1\nip 10.0.0.11/24 w-12\n',
      '#!/bin/bash\nhostname w-2\nip 10.0.0.11/24 w-1\n',
      '#!/bin/bash\nhostname w-1\nip 10.0.0.11/24 w-',
      '',
    ];
    for (const text of cases)
      assert.equal(fills(t, node, text), text === filled(t, node), JSON.stringify(text));
    assert.equal(fills(t, node, cases[0]), true);
    // A token the node has no string for, or a whole-line token, never fills.
    assert.equal(fills(t, ['w-1'], '#!/bin/bash\nhostname w-1\nip /24 w-1\n'), false);
    assert.equal(fills(template('a IngotvarL0Q'), [], 'a '), false);
  });

  it('quotes text with a control character as the library does, whether or not it is ASCII', () => {
    const cache = yamlTemplates();
    for (let c = 0; c < 0x120; c++) {
      const s = `a${String.fromCharCode(c)}b`;
      assert.equal(scalarYaml(s, cache), toYaml(s), JSON.stringify(s));
    }
    for (const s of ['abc ~ def', 'a\ud800b', 'a\u2029b', 'ingot.dev/pool=general,ingot.dev/rack=z1-r1'])
      assert.equal(scalarYaml(s, cache), toYaml(s), JSON.stringify(s));
  });

  it('finds control characters and lone surrogates exactly as the Unicode-mode pattern, pairs passing', () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern hasControl must agree with.
    const exact = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
    const units = [
      0x41, 0x09, 0x0a, 0x0b, 0x1f, 0x20, 0x7e, 0x7f, 0x9f, 0xa0, 0x2028, 0xd800, 0xdbff, 0xdc00, 0xdfff,
      0xe000,
    ];
    let seen = 0;
    for (const a of units)
      for (const b of units)
        for (const c of units) {
          const s = String.fromCharCode(a, b, c);
          assert.equal(hasControl(s), exact.test(s), JSON.stringify(s));
          if (exact.test(s)) seen++;
        }
    assert.ok(seen > 0);
    assert.equal(hasControl('a\ud83d\ude00b\n'), false, 'a surrogate pair is one printable character');
    assert.equal(hasControl(`${'x'.repeat(100_000)}\u0007`), true);
  });
});
