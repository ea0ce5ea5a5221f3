import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobEnd } from './job-end.ts';

const job = (kind: 'commission' | 'deploy' | 'release' | 'rescue' | 'power-on') => ({
  id: 'j-1',
  kind,
  machineId: 'm-1',
});
const at = '2026-11-22T12:00:00.000Z';

describe('how a job end moves its machine', () => {
  it('moves a commissioned machine to ready and stamps commissionedAt', () => {
    const { transition, event } = jobEnd(
      job('commission'),
      { state: 'commissioning' },
      'done',
      null,
      'engine:a',
      at,
    );
    assert.deepEqual(transition, {
      from: 'commissioning',
      to: 'ready',
      reason: 'commission finished',
      set: { commissionedAt: at },
    });
    assert.equal(event.type, 'job.done');
  });

  it('clears the owner when a release finishes', () => {
    const { transition } = jobEnd(job('release'), { state: 'releasing' }, 'done', null, 'engine:a', at);
    assert.deepEqual(transition?.set, { owner: '' });
    assert.equal(transition?.to, 'ready');
  });

  it('moves a failed deploy to failed_deploying with the error as the reason', () => {
    const { transition, event } = jobEnd(
      job('deploy'),
      { state: 'deploying' },
      'failed',
      'write-image failed: checksum mismatch',
      'engine:a',
      at,
    );
    assert.deepEqual(transition, {
      from: 'deploying',
      to: 'failed_deploying',
      reason: 'write-image failed: checksum mismatch',
    });
    assert.equal(event.level, 'error');
  });

  it('leaves a machine alone that already left the running state (aborted, watchdog)', () => {
    assert.equal(
      jobEnd(job('deploy'), { state: 'failed_deploying' }, 'done', null, 'engine:a', at).transition,
      undefined,
    );
  });

  it('keeps a rescued machine in rescue when its job ends, done or failed', () => {
    for (const status of ['done', 'failed'] as const)
      assert.equal(
        jobEnd(job('rescue'), { state: 'rescue' }, status, 'x', 'engine:a', at).transition,
        undefined,
      );
  });

  it('never moves the lifecycle state for power jobs', () => {
    assert.equal(
      jobEnd(job('power-on'), { state: 'deployed' }, 'done', null, 'engine:a', at).transition,
      undefined,
    );
  });
});
