import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDefaults } from './defaults.ts';

describe('withDefaults', () => {
  it('keeps a default where the option is absent or given as undefined, takes every other value of the defaults’ keys and nothing else', () => {
    const d = { tickMs: 15_000, leaseMs: 60_000, name: 'a', on: true };
    assert.deepEqual(withDefaults(d, { tickMs: undefined, leaseMs: 0, on: false }), {
      tickMs: 15_000,
      leaseMs: 0,
      name: 'a',
      on: false,
    });
    assert.deepEqual(withDefaults(d, undefined), d);
    const withOthers = { tickMs: 5, store: 'kept by the caller, not here' };
    assert.deepEqual(withDefaults(d, withOthers), { tickMs: 5, leaseMs: 60_000, name: 'a', on: true });
    assert.notEqual(withDefaults(d, {}), d, 'a copy: the defaults object is never changed');
  });
});
