import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACTION_RULES,
  ACTIONS,
  allowedActions,
  IN_PROGRESS,
  MACHINE_STATES,
  planAction,
  EPHEMERAL_STATES,
  watchdogFor,
  WORKFLOW_RULES,
  workflowFailureState,
} from './lifecycle.ts';

describe('the lifecycle table', () => {
  it('gives every in-progress state a failed twin and the documented watchdog', () => {
    assert.deepEqual(Object.keys(IN_PROGRESS).sort(), ['commissioning', 'deploying', 'releasing']);
    assert.equal(watchdogFor('commissioning'), 20 * 60_000);
    assert.equal(watchdogFor('deploying'), 40 * 60_000);
    assert.equal(watchdogFor('releasing'), 10 * 60_000);
    assert.equal(watchdogFor('deploying', { deploying: 5000 }), 5000);
    assert.equal(watchdogFor('ready'), null);
    assert.equal(workflowFailureState('commissioning'), 'failed_commissioning');
    assert.equal(workflowFailureState('deploying'), 'failed_deploying');
    assert.equal(workflowFailureState('releasing'), 'failed_releasing');
  });

  it('boots the ephemeral OS once per workflow that needs it, and only those count against the rack limit', () => {
    assert.deepEqual([...EPHEMERAL_STATES].sort(), ['commissioning', 'deploying', 'releasing', 'rescue']);
    for (const [kind, w] of Object.entries(WORKFLOW_RULES)) {
      assert.equal(w.bootHeavy, w.bootsEphemeral, kind);
      if (!w.bootsEphemeral) continue;
      assert.deepEqual(
        w.steps.slice(0, 2),
        ['boot', 'wait-agent'],
        `${kind} boots, then waits for the agent`,
      );
      assert.equal(w.steps.filter((s) => s === 'boot').length, 1, `${kind} sets the network boot once`);
      // One that moves the machine on when it succeeds runs in a watched state with a failed twin.
      const watched = w.running !== null && IN_PROGRESS[w.running] !== undefined;
      assert.equal(watched, w.success !== null, kind);
    }
  });

  it('lets no action start from retired except none, and every state has a way forward', () => {
    assert.deepEqual(allowedActions('retired'), []);
    for (const s of MACHINE_STATES.filter((x) => x !== 'retired')) {
      assert.ok(allowedActions(s).length > 0, `${s} has no allowed action: a machine could be stuck there`);
    }
  });

  it('lets abort out of every in-progress state into its failed twin', () => {
    for (const s of Object.keys(IN_PROGRESS) as (keyof typeof IN_PROGRESS)[]) {
      const p = planAction('abort', { state: s, rescueFrom: null, commissioned: true, hasBmc: true });
      assert.ok(p.ok);
      assert.equal(p.to, IN_PROGRESS[s]!.failed);
    }
  });

  it('refuses BMC actions on a machine without a BMC, naming the reason', () => {
    const p = planAction('commission', {
      state: 'new',
      rescueFrom: null,
      commissioned: false,
      hasBmc: false,
    });
    assert.equal(p.ok, false);
    assert.equal(!p.ok && p.reason, 'no-bmc');
  });

  it('returns mark-fixed machines to ready only if they were commissioned before', () => {
    const base = { state: 'broken' as const, rescueFrom: null, hasBmc: true };
    const a = planAction('mark-fixed', { ...base, commissioned: true });
    const b = planAction('mark-fixed', { ...base, commissioned: false });
    assert.ok(a.ok && b.ok);
    assert.equal(a.ok && a.to, 'ready');
    assert.equal(b.ok && b.to, 'new');
  });

  it('sends exit-rescue back to the state the machine came from', () => {
    const p = planAction('exit-rescue', {
      state: 'rescue',
      rescueFrom: 'deployed',
      commissioned: true,
      hasBmc: true,
    });
    assert.ok(p.ok);
    assert.equal(p.ok && p.to, 'deployed');
  });

  it('redeploys a deployed machine only, through the deploy workflow, keeping its owner', () => {
    const ctx = (state: (typeof MACHINE_STATES)[number]) => ({
      state,
      rescueFrom: null,
      commissioned: true,
      hasBmc: true,
    });
    const p = planAction('redeploy', ctx('deployed'));
    assert.ok(p.ok);
    assert.equal(p.ok && p.to, 'deploying');
    assert.equal(p.ok && p.workflow, 'deploy');
    assert.equal(p.ok && p.owner, undefined, 'the owner is kept, not set anew');
    for (const s of MACHINE_STATES.filter((x) => x !== 'deployed')) {
      const q = planAction('redeploy', ctx(s));
      assert.equal(q.ok, false, `redeploy from ${s}`);
    }
    assert.equal(
      planAction('deploy', ctx('deployed')).ok,
      false,
      'a plain deploy never overwrites a deployed machine',
    );
    const nobmc = planAction('redeploy', { ...ctx('deployed'), hasBmc: false });
    assert.equal(!nobmc.ok && nobmc.reason, 'no-bmc');
  });

  it('plans exactly the pairs the table lists, for every state and action', () => {
    for (const state of MACHINE_STATES) {
      for (const action of ACTIONS) {
        const p = planAction(action, { state, rescueFrom: null, commissioned: true, hasBmc: true });
        assert.equal(p.ok, ACTION_RULES[action].from.includes(state), `${action} in ${state}`);
        if (!p.ok) assert.deepEqual(p.allowed, allowedActions(state));
      }
    }
  });
});
