/** The plan's text tables: left-aligned columns two spaces apart, never a trailing space. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { table } from './format.ts';

describe('plan text tables', () => {
  it('pads each column but the last to its widest cell, two spaces apart', () => {
    assert.equal(
      table(
        ['ROLE', 'HOST', 'ADDRESS'],
        [
          ['control-plane (init)', 'a', '10.0.0.2/24'],
          ['worker', 'longer-host', '10.0.0.100/24'],
        ],
      ),
      [
        'ROLE                  HOST         ADDRESS',
        'control-plane (init)  a            10.0.0.2/24',
        'worker                longer-host  10.0.0.100/24',
      ].join('\n'),
    );
  });

  it('leaves no trailing spaces when the last cells are empty, and takes one column or no rows', () => {
    assert.equal(table(['A', 'B', 'C'], [['x', '', '']]), 'A  B  C\nx');
    assert.equal(table(['ONLY'], [['one '], ['two']]), 'ONLY\none\ntwo');
    assert.equal(table(['A', 'B'], []), 'A  B');
  });
});
