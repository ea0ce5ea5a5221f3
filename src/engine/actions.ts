/**
 * Turns an operator's action into a state change and a workflow, as the lifecycle table says.
 * Either both are committed (compare-and-set on the state, job queued, event written) or
 * nothing is.
 */
import { normaliseActionParams } from '../core/action-params.ts';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';
import type { Job } from '../core/job.ts';
import {
  type Action,
  ACTION_RULES,
  type MachineState,
  planAction,
  WORKFLOW_RULES,
} from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { Store } from '../store/store.ts';
import { forgetDeployAddresses, recordDeployAddresses } from './deploy-addresses.ts';
import { checkNetworkConfig } from './network-config.ts';

export interface ActionRequest {
  machineId: string;
  action: Action;
  /** `user:<token name>`: goes on the timeline. */
  actor: string;
  /** Workflow parameters (image to deploy, tests to run…). */
  params?: Record<string, unknown>;
  /** Why, in the operator's words (mark-broken, abort). */
  comment?: string;
  /**
   * deploy: user-data holding secrets (a cluster node's keys and tokens), sealed in the store;
   * the job keeps only the secret's id (`userDataSecret`), which the metadata service opens.
   * Engine-internal: the API's params cannot name a secret.
   */
  sealedUserData?: string;
  /**
   * deploy: the static addresses `params.networkConfig` assigns, when the caller knows them (a
   * cluster member's planned address, recorded by the cluster's create): spares parsing the
   * config. Engine-internal, like sealedUserData.
   */
  staticAddresses?: readonly string[];
}

export interface ActionResult {
  machine: Machine;
  job: Job | null;
  /** The state before the action (equal to machine.state for power actions). */
  from: MachineState;
}

/** What an operator may still do to a cluster's machine directly: drive its power, stop its workflow. */
const MEMBER_ACTIONS: ReadonlySet<Action> = new Set(['power-on', 'power-off', 'power-cycle', 'abort']);

export async function requestAction(store: Store, req: ActionRequest): Promise<ActionResult> {
  const m = await store.getMachine(req.machineId);
  // A cluster's machines move with their cluster (its jobs act as `cluster:<name>:<job>`).
  if (
    m.owner.startsWith('cluster:') &&
    !req.actor.startsWith('cluster:') &&
    !MEMBER_ACTIONS.has(req.action)
  ) {
    const cluster = m.owner.slice('cluster:'.length);
    throw new IngotError(
      ErrorCode.Conflict,
      `machine ${m.hostname} belongs to cluster ${cluster}: ${req.action} it through the cluster (\`ingot cluster delete ${cluster}\` releases it); power actions and abort stay allowed`,
      { details: { state: m.state, action: req.action, cluster } },
    );
  }
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
  const params = normaliseActionParams(req.action, req.params);
  // A redeploy (an OS replacement, a reprovision) takes a deploy's parameters and runs its workflow.
  const deploys = req.action === 'deploy' || req.action === 'redeploy';
  if (deploys && typeof params.networkConfig === 'string')
    await checkNetworkConfig(params.networkConfig, `machine ${m.hostname}`);
  if (deploys) params.image = await deployImage(store, params.image);
  if (deploys && req.sealedUserData !== undefined)
    params.userDataSecret = await store.putSecret('user-data', req.sealedUserData);
  const why = req.comment ? `: ${req.comment}` : '';
  const job = plan.workflow
    ? { kind: plan.workflow, steps: [...WORKFLOW_RULES[plan.workflow].steps], params }
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
  // The deployed OS answers the rack from its static address: the address must be the machine's.
  const recorded =
    deploys && typeof params.networkConfig === 'string'
      ? await recordDeployAddresses(store, m.id, params.networkConfig, req.staticAddresses)
      : [];
  const released = req.action === 'release' ? await lastNetworkConfig(store, m.id) : null;
  try {
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
    if (released !== null) await forgetDeployAddresses(store, m.id, released);
    return { ...r, from: m.state };
  } catch (e) {
    for (const a of recorded) await store.releaseIp(a.subnetId, a.ip).catch(() => undefined);
    throw e;
  }
}

/** The network-config of the machine's latest deploy, if it had one. */
async function lastNetworkConfig(store: Store, machineId: string): Promise<string | null> {
  const jobs = await store.listJobs({ machineId }, 20);
  const nc = jobs.find((j) => j.kind === 'deploy')?.params.networkConfig;
  return typeof nc === 'string' ? nc : null;
}

/**
 * The image a deploy writes: a named one must be a ready OS image of this region; with none
 * named, the region's only ready OS image (as MAAS deploys its default release). An inline
 * {url|artifact, sha256, format} spec is taken as it is.
 */
export async function deployImage(store: Store, image: unknown): Promise<unknown> {
  if (image !== undefined && typeof image !== 'string') return image;
  if (typeof image === 'string') {
    const img = await store.getImage(image).catch(() => null);
    if (img?.kind !== 'os')
      throw invalid(
        'params.image',
        `no OS image "${image}" in this region; list them with \`ingot image ls\``,
      );
    if (img.status !== 'ready')
      throw invalid(
        'params.image',
        `image "${image}" is ${img.status}${img.statusReason ? ` (${img.statusReason})` : ''}; deploy a ready image`,
      );
    return img.name;
  }
  const ready = (await store.listImages()).filter((i) => i.kind === 'os' && i.status === 'ready');
  if (ready.length === 1) return ready[0].name;
  throw invalid(
    'params.image',
    ready.length
      ? `required: this region has ${ready.length} OS images (${ready.map((i) => i.name).join(', ')}); name one`
      : 'required, and this region has no ready OS image: build one (`ingot image build os --distro debian-12`) or add one (`ingot image add NAME URL`)',
  );
}
