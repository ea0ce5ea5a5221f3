import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesSelector } from './selector.ts';

describe('matchesSelector', () => {
  const labels = { app: 'echo', tier: 'web' };
  it('needs every matchLabels pair', () => {
    assert.equal(matchesSelector({ matchLabels: { app: 'echo' } }, labels), true);
    assert.equal(matchesSelector({ matchLabels: { app: 'echo', tier: 'db' } }, labels), false);
  });
  it('applies In, NotIn, Exists and DoesNotExist, and fails an unknown operator', () => {
    const m = (operator: string, key: string, values?: string[]) =>
      matchesSelector({ matchExpressions: [{ key, operator, values }] }, labels);
    assert.equal(m('In', 'tier', ['web', 'db']), true);
    assert.equal(m('In', 'tier', ['db']), false);
    assert.equal(m('NotIn', 'tier', ['db']), true);
    assert.equal(m('NotIn', 'missing', ['x']), true);
    assert.equal(m('Exists', 'app'), true);
    assert.equal(m('Exists', 'missing'), false);
    assert.equal(m('DoesNotExist', 'missing'), true);
    assert.equal(m('Gt', 'app', ['1']), false);
  });
  it('selects everything with an empty selector', () => {
    assert.equal(matchesSelector({}, labels), true);
  });
});
