/**
 * The cluster workflows' steps. Like the machine's (../steps.ts), a step returns an outcome —
 * done, wait and ask again, fail — and the runner persists it under the job's lease; each is
 * safe to run again after a crash: it reads where the members are and carries on from there.
 *
 * Members are driven through what already exists: each machine's own deploy and release jobs
 * (requested as actions, so the machine lifecycle table decides), and the agent-tasks port
 * for the `bootstrap` task the node agent runs. A step's notes about a member go on that
 * machine's timeline too (`events` with its machineId). A scale's steps run under its operation
 * (scale-operation.ts: paused, aborted, each node's progress recorded).
 */
import { CLUSTER_STEPS, type ClusterStep } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { ClusterStepDef } from './context.ts';
import {
  bootstrapControlPlanes,
  bootstrapInit,
  byRole,
  deployNodes,
  joinBounded,
  waitReady,
} from './create-steps.ts';
import { drain, releaseNodes } from './delete-steps.ts';
import { scaleControlPlanes } from './scale-control-planes.ts';
import { scaleGated } from './scale-operation.ts';
import { scaleDrain, scaleJoin, scaleRelease, scaleToken } from './scale-steps.ts';
import { runOperation } from './operation-run.ts';

export {
  type ClusterLimits,
  type ClusterStepContext,
  type ClusterStepDef,
  DEFAULT_CLUSTER_LIMITS,
  memberActor,
} from './context.ts';

const min = 60_000;

export const CLUSTER_STEP_DEFS: Readonly<Record<ClusterStep, ClusterStepDef>> = {
  'deploy-nodes': { timeoutMs: 90 * min, run: scaleGated('deploy-nodes', deployNodes) },
  'bootstrap-init': { timeoutMs: 30 * min, run: bootstrapInit },
  'bootstrap-control-planes': { timeoutMs: 60 * min, run: bootstrapControlPlanes },
  'bootstrap-workers': { timeoutMs: 60 * min, run: (ctx) => joinBounded(ctx, byRole(ctx, ['worker'])) },
  'wait-ready': { timeoutMs: 30 * min, run: scaleGated('wait-ready', waitReady) },
  drain: { timeoutMs: 15 * min, run: drain },
  'release-nodes': { timeoutMs: 90 * min, run: (ctx) => releaseNodes(ctx) },
  'scale-token': { timeoutMs: 10 * min, run: scaleGated('scale-token', scaleToken) },
  'scale-join': { timeoutMs: 60 * min, run: scaleGated('scale-join', scaleJoin) },
  'scale-control-planes': {
    timeoutMs: 120 * min,
    run: scaleGated('scale-control-planes', scaleControlPlanes),
  },
  'scale-drain': { timeoutMs: 30 * min, run: scaleGated('scale-drain', scaleDrain) },
  'scale-release': { timeoutMs: 90 * min, run: scaleGated('scale-release', scaleRelease) },
  // An operation may stay paused for long; its own sub-steps have their deadlines.
  operation: { timeoutMs: 30 * 24 * 60 * min, run: runOperation },
};

/** The step of a stored cluster job (its names are checked: a job row is data from the store). */
export function clusterStepDef(name: string): ClusterStepDef {
  if (!(CLUSTER_STEPS as readonly string[]).includes(name))
    throw new IngotError(ErrorCode.Internal, `unknown cluster workflow step "${name}"`);
  return CLUSTER_STEP_DEFS[name as ClusterStep];
}
