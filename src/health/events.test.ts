import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthSampleInput as sample } from '../store/testing.ts';
import { healthEvents, type Known } from './events.ts';
import { unreachable } from './summary.ts';

/** Runs polls in turn from nothing known; returns the event types of each. */
function run(...polls: Parameters<typeof healthEvents>[2][]): string[][] {
  let known: Known | undefined;
  return polls.map((s) => {
    const r = healthEvents('m', known, s);
    known = r.known;
    return r.events.map((e) => e.type);
  });
}

describe('health events', () => {
  it('writes nothing for a machine that stays healthy', () => {
    assert.deepEqual(run(sample('m', 1), sample('m', 2), sample('m', 3)), [[], [], []]);
  });

  it('says once that the BMC stopped answering, and once that it is back, health unchanged', () => {
    const down = unreachable('m', 2, 'INGOT_BMC_UNREACHABLE: timed out');
    assert.deepEqual(run(sample('m', 1), down, { ...down, at: 3 }, sample('m', 4)), [
      [],
      ['health.bmc-unreachable'],
      [],
      ['health.bmc-recovered'],
    ]);
  });

  it('says when the rollup moves, across an outage too, with the level of the new health', () => {
    const r1 = healthEvents('m', undefined, sample('m', 1));
    const r2 = healthEvents('m', r1.known, unreachable('m', 2, 'x'));
    const r3 = healthEvents('m', r2.known, sample('m', 3, { health: 'critical' }));
    assert.deepEqual(
      r3.events.map((e) => [e.type, e.level]),
      [
        ['health.bmc-recovered', undefined],
        ['health.changed', 'error'],
      ],
    );
    assert.match(r3.events[1].message, /ok → critical/);
  });

  it('counts new critical SEL entries, not the ones already seen, nor an unread SEL', () => {
    const polls = [
      sample('m', 1, { selCritical: 0 }),
      sample('m', 2, { selCritical: 2 }),
      sample('m', 3, { selCritical: null }),
      sample('m', 4, { selCritical: 2 }),
      sample('m', 5, { selCritical: 3 }),
    ];
    assert.deepEqual(run(...polls), [[], ['health.sel-critical'], [], [], ['health.sel-critical']]);
    const r = healthEvents('m', { reachable: true, health: 'ok', selCritical: 2 }, polls[4]);
    assert.equal(r.events[0].message, "1 new critical entry in the BMC's event log (3 in all)");
  });
});
