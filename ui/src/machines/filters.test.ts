import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { machine } from '../test-support/fake-api.ts';
import { EMPTY, fromSearch, matches, toQuery, toSearch } from './filters.ts';

describe('machine filters', () => {
  it('round-trips through the URL with readable lists', () => {
    const f = {
      ...EMPTY,
      state: ['ready' as const, 'new' as const],
      q: 'node-1',
      rack: 'r01',
      tag: ['gpu', 'ssd'],
    };
    const s = toSearch(f);
    assert.equal(s, '?state=ready,new&q=node-1&rack=r01&tag=gpu,ssd');
    assert.deepEqual(fromSearch(new URLSearchParams(s)), f);
  });

  it('drops unknown states from a hand-edited URL', () => {
    assert.deepEqual(fromSearch(new URLSearchParams('state=ready,bogus')).state, ['ready']);
  });

  it('becomes the API query, leaving out empty filters', () => {
    assert.deepEqual(toQuery({ ...EMPTY, state: ['ready'], q: ' x ' }), {
      state: 'ready',
      q: 'x',
      zone: undefined,
      rack: undefined,
      pool: undefined,
      tag: undefined,
    });
  });

  it('matches a live-updated machine like the server would', () => {
    const m = machine({ hostname: 'node-17', state: 'ready', tags: ['gpu'], zone: 'az2' });
    assert.equal(matches(m, { ...EMPTY, q: 'de-1', zone: 'az2', tag: ['gpu'] }), true);
    assert.equal(matches(m, { ...EMPTY, state: ['deployed'] }), false);
    assert.equal(matches(m, { ...EMPTY, tag: ['gpu', 'ssd'] }), false);
  });
});
