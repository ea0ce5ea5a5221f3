import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowedClusterActions,
  CLUSTER_ACTIONS,
  CLUSTER_IN_PROGRESS,
  CLUSTER_STATES,
  CLUSTER_TRANSITIONS,
  CLUSTER_WORKFLOW_RULES,
  ClusterState,
  type ClusterState as State,
  clusterTransitionAllowed,
  clusterWorkflowEnd,
  isClusterWorkflow,
  planClusterAction,
  retryWorkflow,
} from './cluster-lifecycle.ts';
import { WorkflowKind } from './lifecycle.ts';

/** Every allowed (state, action) pair and where it leads; anything not listed is forbidden. */
const ALLOWED: Record<string, { to: State; workflow: string }> = {
  'none/create': { to: 'creating', workflow: 'cluster-create' },
  'deleted/create': { to: 'creating', workflow: 'cluster-create' },
  'running/delete': { to: 'deleting', workflow: 'cluster-delete' },
  'failed_creating/delete': { to: 'deleting', workflow: 'cluster-delete' },
  'failed_updating/delete': { to: 'deleting', workflow: 'cluster-delete' },
  'failed_deleting/delete': { to: 'deleting', workflow: 'cluster-delete' },
  'failed_creating/retry': { to: 'creating', workflow: 'cluster-create' },
  'failed_deleting/retry': { to: 'deleting', workflow: 'cluster-delete' },
  'running/scale': { to: 'updating', workflow: 'cluster-scale' },
  'failed_updating/retry': { to: 'updating', workflow: 'cluster-scale' },
};

describe('the cluster lifecycle table', () => {
  it('allows exactly the listed transitions and forbids every other state/action pair', () => {
    for (const state of [null, ...CLUSTER_STATES]) {
      for (const action of CLUSTER_ACTIONS) {
        const key = `${state ?? 'none'}/${action}`;
        const plan = planClusterAction(action, state);
        const want = ALLOWED[key];
        if (want) {
          assert.ok(plan.ok, `${key} should be allowed`);
          assert.equal(plan.to, want.to, key);
          assert.equal(plan.workflow, want.workflow, key);
        } else {
          assert.equal(plan.ok, false, `${key} should be forbidden`);
          if (!plan.ok) assert.deepEqual(plan.allowed, allowedClusterActions(state), key);
        }
      }
    }
  });

  it('gives every in-progress state a failed twin, and a workflow lands in it when it fails', () => {
    assert.deepEqual(CLUSTER_IN_PROGRESS, {
      creating: 'failed_creating',
      updating: 'failed_updating',
      deleting: 'failed_deleting',
    });
    assert.deepEqual(clusterWorkflowEnd('cluster-create', 'done'), { from: 'creating', to: 'running' });
    assert.deepEqual(clusterWorkflowEnd('cluster-create', 'failed'), {
      from: 'creating',
      to: 'failed_creating',
    });
    assert.deepEqual(clusterWorkflowEnd('cluster-delete', 'done'), { from: 'deleting', to: 'deleted' });
    assert.deepEqual(clusterWorkflowEnd('cluster-delete', 'failed'), {
      from: 'deleting',
      to: 'failed_deleting',
    });
  });

  it('creates in order: deploy, the init control plane, the other control planes, workers, then Ready', () => {
    assert.deepEqual(CLUSTER_WORKFLOW_RULES['cluster-create'].steps, [
      'deploy-nodes',
      'bootstrap-init',
      'bootstrap-control-planes',
      'bootstrap-workers',
      'wait-ready',
    ]);
    assert.deepEqual(CLUSTER_WORKFLOW_RULES['cluster-delete'].steps, ['drain', 'release-nodes']);
  });

  it('names cluster workflows apart from machine workflows', () => {
    for (const k of Object.values(WorkflowKind)) assert.equal(isClusterWorkflow(k), false, k);
    assert.ok(isClusterWorkflow('cluster-create'));
    assert.ok(isClusterWorkflow('cluster-delete'));
  });

  it('allows exactly these state-to-state moves, and forbids every other pair of the 8 states (updating included)', () => {
    // from → to: an action's move, or a workflow's end. A scale or an operation runs in
    // `updating`; a failed one is retried or deleted.
    const MOVES = new Set([
      'running>updating',
      'updating>running',
      'updating>failed_updating',
      'failed_updating>updating',
      'deleted>creating',
      'creating>running',
      'creating>failed_creating',
      'failed_creating>creating',
      'failed_creating>deleting',
      'running>deleting',
      'failed_updating>deleting',
      'deleting>deleted',
      'deleting>failed_deleting',
      'failed_deleting>deleting',
    ]);
    assert.equal(CLUSTER_STATES.length, 8);
    let allowed = 0;
    for (const from of CLUSTER_STATES)
      for (const to of CLUSTER_STATES) {
        const key = `${from}>${to}`;
        assert.equal(clusterTransitionAllowed(from, to), MOVES.has(key), key);
        if (MOVES.has(key)) allowed++;
      }
    assert.equal(allowed, MOVES.size);
    assert.equal(CLUSTER_TRANSITIONS.length, MOVES.size);
    assert.deepEqual(
      CLUSTER_STATES.filter((s) => clusterTransitionAllowed(s, 'updating')),
      ['running', 'failed_updating'],
      'only a running cluster (scale, operation) or a failed update (retry) enters updating',
    );
  });

  it('offers nothing on a cluster being worked on, so a second delete or create is refused', () => {
    for (const s of [ClusterState.Creating, ClusterState.Updating, ClusterState.Deleting])
      assert.deepEqual(allowedClusterActions(s), [], s);
  });

  it('retries a failed update as the workflow that failed: a halted operation as that operation, not a scale', () => {
    assert.equal(retryWorkflow('failed_updating', 'cluster-operation'), 'cluster-operation');
    assert.equal(retryWorkflow('failed_updating', 'cluster-scale'), 'cluster-scale');
    assert.equal(retryWorkflow('failed_updating', null), 'cluster-scale', 'no job known: the table');
    assert.equal(
      retryWorkflow('failed_updating', 'cluster-create'),
      'cluster-scale',
      'a create never runs in updating',
    );
    assert.equal(retryWorkflow('failed_creating', 'cluster-operation'), 'cluster-create');
    assert.equal(retryWorkflow('running', 'cluster-operation'), null, 'nothing to retry');
  });
});
