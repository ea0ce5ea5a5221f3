import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IngotEvent, Job } from '../api/types.ts';
import { bootView, phaseOf } from './boot-phases.ts';

let seq = 0;
const ev = (type: string, o: Partial<IngotEvent> = {}): IngotEvent => ({
  id: ++seq,
  at: `2026-11-22T10:00:${String(seq).padStart(2, '0')}.000Z`,
  type,
  level: 'info',
  machineId: 'm1',
  clusterId: null,
  jobId: null,
  actor: 'engine:r1',
  message: type,
  data: {},
  ...o,
});
const job = (status: Job['status'], over: Partial<Job> = {}): Job => ({
  id: 'j1',
  machineId: 'm1',
  clusterId: null,
  kind: 'commission',
  status,
  steps: ['boot', 'wait-agent', 'inventory', 'hardware-tests', 'power-off'].map((name) => ({
    name,
    startedAt: null,
    endedAt: null,
    attempts: 0,
    error: null,
  })),
  stepIndex: 0,
  error: null,
  actor: 'user:admin',
  createdAt: '2026-11-22T10:00:00.000Z',
  updatedAt: '2026-11-22T10:00:00.000Z',
  finishedAt: null,
  ...over,
});

describe('boot phases', () => {
  it('sorts network and agent events into DHCP, iPXE, kernel and agent phases', () => {
    assert.equal(phaseOf(ev('dhcp.offer')), 'dhcp');
    assert.equal(phaseOf(ev('tftp.read')), 'ipxe');
    assert.equal(phaseOf(ev('http.get')), 'kernel');
    assert.equal(phaseOf(ev('agent.hello')), 'agent');
    assert.equal(phaseOf(ev('step.started', { data: { step: 'wait-agent' } })), 'agent');
    assert.equal(phaseOf(ev('step.started', { data: { step: 'boot' } })), 'bmc');
    assert.equal(phaseOf(ev('machine.updated')), null);
  });

  it('shows where a boot stopped and why: the last error and the state reason', () => {
    const events = [
      ev('step.completed', { jobId: 'j1', data: { step: 'boot' } }),
      ev('dhcp.offer', { message: 'offered 10.20.1.7' }),
      ev('tftp.read', { message: 'ipxe.efi sent' }),
      ev('http.get', { level: 'error', message: 'GET /boot/vmlinuz: 404 not found' }),
    ];
    const v = bootView(
      { state: 'failed_commissioning', stateReason: 'watchdog: no agent after 15 min' },
      events,
      [job('failed', { error: 'wait-agent timed out' })],
    );
    const status = Object.fromEntries(v.phases.map((p) => [p.id, p.status]));
    assert.deepEqual(status, {
      bmc: 'done',
      dhcp: 'done',
      ipxe: 'done',
      kernel: 'failed',
      agent: 'pending',
      tasks: 'pending',
      handover: 'pending',
    });
    assert.equal(v.stopped?.phase, 'Kernel');
    assert.equal(v.stopped?.reason, 'GET /boot/vmlinuz: 404 not found — watchdog: no agent after 15 min');
  });

  it('marks phases without events before an active one as not reported, not done', () => {
    const events = [
      ev('step.completed', { jobId: 'j1', data: { step: 'boot' } }),
      ev('step.started', { jobId: 'j1', data: { step: 'wait-agent' } }),
    ];
    const v = bootView({ state: 'commissioning', stateReason: '' }, events, [job('running')]);
    assert.deepEqual(
      v.phases.map((p) => p.status),
      ['done', 'unreported', 'unreported', 'unreported', 'running', 'pending', 'pending'],
    );
    assert.equal(v.stopped, null);
  });

  it('ignores events from earlier boots', () => {
    const old = ev('dhcp.offer', { at: '2026-11-21T10:00:00.000Z' });
    const v = bootView({ state: 'commissioning', stateReason: '' }, [old], [job('queued')]);
    assert.ok(v.phases.every((p) => p.status === 'pending'));
  });
});
