/**
 * Turns an operator's action into a state change and a workflow, as the lifecycle table says.
 * Either both are committed (compare-and-set on the state, job queued, event written) or
 * nothing is.
 */
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Job } from '../core/job.ts';
import { type Action, ACTION_RULES, type MachineState, planAction } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { Store } from '../store/store.ts';
import { WORKFLOWS } from './workflows.ts';

export interface ActionRequest {
  machineId: string;
  action: Action;
  /** `user:<token name>`: goes on the timeline. */
  actor: string;
  /** Workflow parameters (image to deploy, tests to run…). */
  params?: Record<string, unknown>;
  /** Why, in the operator's words (mark-broken, abort). */
  comment?: string;
}

export interface ActionResult {
  machine: Machine;
  job: Job | null;
  /** The state before the action (equal to machine.state for power actions). */
  from: MachineState;
}

export async function requestAction(store: Store, req: ActionRequest): Promise<ActionResult> {
  const m = await store.getMachine(req.machineId);
  const plan = planAction(req.action, {
    state: m.state,
    rescueFrom: m.rescueFrom,
    commissioned: m.commissionedAt !== null,
    hasBmc: m.bmc !== null,
  });
  if (!plan.ok) {
    if (plan.reason === 'no-bmc') {
      throw new IngotError(
        ErrorCode.InvalidTransition,
        `${req.action} needs a BMC, and machine ${m.hostname} has none; set one with \`ingot machine set ${m.id} --bmc URL\``,
        {
          details: { state: m.state, action: req.action, allowed: plan.allowed },
        },
      );
    }
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `cannot ${req.action} machine ${m.hostname} while it is ${m.state}; allowed actions: ${plan.allowed.join(', ') || 'none'}`,
      { details: { state: m.state, action: req.action, allowed: plan.allowed } },
    );
  }
  const why = req.comment ? `: ${req.comment}` : '';
  const job = plan.workflow
    ? { kind: plan.workflow, steps: [...WORKFLOWS[plan.workflow]], params: req.params ?? {} }
    : undefined;
  if (plan.to === null) {
    // Power actions keep the lifecycle state: only a job.
    return { machine: m, job: await store.enqueueJob(m.id, job!, req.actor), from: m.state };
  }
  const set: { owner?: string; rescueFrom?: typeof m.state | null } = {};
  if (plan.owner === 'set') set.owner = m.owner || req.actor.replace(/^user:/, '');
  if (req.action === 'rescue') set.rescueFrom = m.state;
  if (req.action === 'exit-rescue') set.rescueFrom = null;
  const reason =
    req.action === 'abort'
      ? `${m.state} aborted by ${req.actor}${why}`
      : `${req.action} requested by ${req.actor}${why}`;
  const r = await store.transition({
    machineId: m.id,
    from: m.state,
    to: plan.to,
    reason,
    actor: req.actor,
    set,
    job,
    cancelJobs: req.action === 'abort' || ACTION_RULES[req.action].workflow === null,
    data: { action: req.action },
  });
  return { ...r, from: m.state };
}
