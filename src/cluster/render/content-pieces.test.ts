import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutAtPieces, fitsPieces } from './content-pieces.ts';
import { tokenised } from './yaml-template.ts';
import { fills, template } from './yaml-tokens.ts';

describe('content in pieces', () => {
  it('decides as the whole check does wherever the pieces are cut', () => {
    const made = ['#!/bin/sh\n', 'echo w-1 at 10.0.0.11\n', 'done\n'];
    const distinct = ['w-1', '10.0.0.11'];
    const t = template(tokenised(made.join(''), { distinct }));
    const shape = cutAtPieces(t, distinct, made);
    assert.ok(shape);
    // The shared pieces are kept as they are: compared by identity first.
    assert.equal(shape.pieces[0], made[0]);
    assert.equal(shape.pieces[2], made[2]);
    const d = ['w-22', '10.0.0.122'];
    const cases: [string[], boolean][] = [
      [['#!/bin/sh\n', 'echo w-22 at 10.0.0.122\n', 'done\n'], true],
      [['#!/bin/sh\n', 'echo w-22 at 10.0.0.12\n', 'done\n'], false],
      [['#!/bin/bash\n', 'echo w-22 at 10.0.0.122\n', 'done\n'], false],
      // The same text cut elsewhere: a miss (then the item goes another way, never a wrong fit).
      [['#!/bin/sh\n', 'echo w-22 at 10.0.0.122\n', 'done\n', ''], false],
      [['#!/bin/sh\n', 'echo w-22 at 10.0.0.122\ndone\n'], false],
    ];
    for (const [pieces, fit] of cases) {
      assert.equal(fitsPieces(shape, d, pieces), fit, pieces.join('|'));
      // A piecewise fit is a whole fit.
      if (fit) assert.ok(fills(t, d, pieces.join('')));
    }
  });

  it('is no shape when a node string spans two pieces or the pieces are not the content', () => {
    const distinct = ['w-1', '10.0.0.11'];
    const t = template(tokenised('echo w-1 at 10.0.0.11\n', { distinct }));
    assert.equal(cutAtPieces(t, distinct, ['echo w', '-1 at 10.0.0.11\n']), undefined);
    assert.equal(cutAtPieces(t, distinct, ['echo w-1 at 10.0.0.11\n', 'more']), undefined);
    assert.equal(cutAtPieces(t, distinct, ['echo w-1 at 10.0.0.1']), undefined);
    assert.equal(cutAtPieces(t, distinct, ['echo x-1 at 10.0.0.11\n']), undefined);
    assert.ok(cutAtPieces(t, distinct, ['echo ', 'w-1', ' at 10.0.0.11\n']));
  });
});
