import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IngotEvent } from './event.ts';
import { HARDWARE_RISK_EVENT } from './hardware-drain.ts';
import { EpisodeState, episodeRecord, retryVerdict, retryWaitMs } from './hardware-episode.ts';

const E = 'disk sdb (serial X): reallocated sectors 8 → 24';
let id = 0;
const ev = (
  level: IngotEvent['level'],
  at: number,
  data: Record<string, unknown>,
  type = HARDWARE_RISK_EVENT,
) =>
  ({
    id: ++id,
    at: new Date(at).toISOString(),
    type,
    level,
    machineId: 'm1',
    clusterId: 'c1',
    jobId: null,
    actor: 'hardware',
    message: `node2's hardware is at risk (${E}): ${level}`,
    data: { episode: E, action: 'drain', ...data },
  }) as IngotEvent;
const policy = { drainAttempts: 3, retryAfterSeconds: 60 };

describe('a hardware episode read from the timeline', () => {
  it('counts the tries and dates the last failure, newest event deciding the state', () => {
    const events = [
      ev('warning', 1000, { attempt: 1, cordoned: true }),
      ev('error', 5000, { operation: 'op-1' }),
      ev('warning', 70_000, { attempt: 2, cordoned: true }),
      ev('error', 80_000, { operation: 'op-2' }),
    ];
    const r = episodeRecord([...events].reverse(), E);
    assert.deepEqual(
      { state: r.state, attempts: r.attempts, failedAt: r.failedAt, cordonedBy: r.cordonedBy },
      { state: EpisodeState.Failed, attempts: 2, failedAt: 80_000, cordonedBy: events[0].id },
    );
    assert.equal(episodeRecord(events.slice(0, 3), E).state, EpisodeState.Active);
    assert.equal(episodeRecord(events, 'another episode').state, EpisodeState.None);
    assert.equal(
      episodeRecord([...events, ev('error', 90_000, { gaveUp: true })], E).state,
      EpisodeState.GaveUp,
    );
    assert.equal(
      episodeRecord([...events, ev('info', 90_000, { ended: true })], E).state,
      EpisodeState.Ended,
    );
  });

  it('takes a try from before the count as the first, and a drain put off as none', () => {
    assert.equal(episodeRecord([ev('warning', 1, {})], E).attempts, 1);
    const put = episodeRecord([ev('warning', 1, { deferred: true, cordoned: true })], E);
    assert.deepEqual([put.state, put.attempts], [EpisodeState.None, 0]);
  });

  it('waits retryAfterSeconds after the first failure, doubled after each, and gives up at drainAttempts', () => {
    assert.deepEqual(
      [1, 2, 3].map((n) => retryWaitMs(n, 60)),
      [60_000, 120_000, 240_000],
    );
    const failed = (attempts: number) =>
      episodeRecord([ev('warning', 0, { attempt: attempts }), ev('error', 1000, { attempt: attempts })], E);
    assert.deepEqual(retryVerdict(failed(1), policy, 60_999), { kind: 'wait', at: 61_000 });
    assert.deepEqual(retryVerdict(failed(1), policy, 61_000), { kind: 'retry', attempt: 2 });
    assert.deepEqual(retryVerdict(failed(2), policy, 61_000), { kind: 'wait', at: 121_000 });
    assert.deepEqual(retryVerdict(failed(3), policy, 61_000), { kind: 'give-up' });
    assert.deepEqual(retryVerdict(failed(1), { ...policy, drainAttempts: 1 }, 0), { kind: 'give-up' });
    assert.deepEqual(retryVerdict(episodeRecord([ev('warning', 0, { attempt: 1 })], E), policy, 1e12), {
      kind: 'none',
    });
  });
});
