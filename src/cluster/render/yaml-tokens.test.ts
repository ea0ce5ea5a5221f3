import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { yamlTemplates } from './yaml-template.ts';
import { filled, fills, scalarYaml, template } from './yaml-tokens.ts';
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
});
