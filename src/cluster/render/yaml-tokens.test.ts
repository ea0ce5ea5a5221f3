import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filled, fills, template } from './yaml-tokens.ts';

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
});
