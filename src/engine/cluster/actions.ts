/**
 * Turns a cluster request into a state change and a workflow, as the cluster lifecycle table
 * says. A create checks the Cluster file, plans it onto the region's ready machines (the
 * planner of src/cluster, addresses in use skipped), resolves its secrets, checks its nodes'
 * network-configs, generates its PKI (sealed in the store) and then allocates the machines, records the members and queues the
 * create job in one transaction.
 */
import { clusterPki } from '../../cluster/index.ts';
import { buildPlan } from '../../cluster/plan/plan.ts';
import { mintJoinToken } from '../../cluster/pki/join-token.ts';
import { renderNetworkConfigs } from '../../cluster/render/index.ts';
import { resolveSecrets, type SecretSource } from '../../cluster/render/secrets.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import {
  CLUSTER_WORKFLOW_RULES,
  type ClusterAction,
  type ClusterState,
  ClusterWorkflow,
  planClusterAction,
  retryWorkflow,
} from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError, isIngotError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import type { Store } from '../../store/store.ts';
import { checkNetworkConfigs } from '../network-config.ts';
import { regionInventory } from './inventory.ts';
import { sealBackupS3Keys } from './backup-s3-keys.ts';
import { scaleRetrySteps } from '../../core/scale-operation.ts';
import { retryClusterOperation } from './operation-actions.ts';

/** Where a refusal came from: the Cluster file itself, or planning it onto these machines. */
export const PlanStage = { ClusterFile: 'cluster-file', Plan: 'plan', Secrets: 'secrets' } as const;
export type PlanStage = (typeof PlanStage)[keyof typeof PlanStage];

/** Runs `f`, tagging an IngotError's details with the stage so clients can say which went wrong. */
export async function atStage<T>(stage: PlanStage, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!isIngotError(e)) throw e;
    throw new IngotError(e.code, e.message, { details: { ...e.details, stage }, cause: e });
  }
}

/** The secrets a Cluster file references, from the region's environment (`INGOT_SECRET_<NAME>`). */
export const envSecrets: SecretSource = (name) =>
  process.env[`INGOT_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`];

export interface CreateClusterRequest {
  /** The Cluster file's text (YAML or JSON). */
  clusterFile: string;
  /** The OS image to deploy the nodes with (a kubernetes-node image); default: the only ready OS image. */
  image?: string;
  actor: string;
  secrets?: SecretSource;
}

export interface ClusterActionResult {
  cluster: Cluster;
  job: Job | null;
}

function refused(action: ClusterAction, name: string, state: ClusterState | null): never {
  const plan = planClusterAction(action, state);
  const allowed = plan.ok ? [] : plan.allowed;
  throw new IngotError(
    state === null ? ErrorCode.NotFound : ErrorCode.InvalidTransition,
    state === null
      ? `cluster ${name} does not exist; list clusters with \`ingot cluster ls\``
      : `cannot ${action} cluster ${name} while it is ${state}; allowed actions: ${allowed.join(', ') || 'none'}`,
    { details: { cluster: name, state, action, allowed } },
  );
}

async function findCluster(store: Store, ref: string): Promise<Cluster | null> {
  try {
    return await store.getCluster(ref);
  } catch (e) {
    if (isIngotError(e) && e.code === ErrorCode.NotFound) return null;
    throw e;
  }
}

export async function createCluster(
  store: Store,
  req: CreateClusterRequest,
): Promise<{ cluster: Cluster; job: Job }> {
  const spec = await atStage(PlanStage.ClusterFile, () => parseClusterFile(req.clusterFile, 'Cluster file'));
  const name = spec.metadata.name;
  const existing = await findCluster(store, name);
  const decision = planClusterAction('create', existing?.state ?? null);
  if (!decision.ok)
    throw new IngotError(
      ErrorCode.Conflict,
      `metadata.name: cluster ${name} exists (${existing!.state}); choose another name or delete it first`,
      { details: { field: 'metadata.name', state: existing!.state, stage: PlanStage.ClusterFile } },
    );
  // The keys are generated off the main thread (WebCrypto) while the plan is made.
  const pkiPromise = clusterPki(spec);
  pkiPromise.catch(() => undefined);
  const inventory = await regionInventory(store);
  const plan = await atStage(PlanStage.Plan, () => buildPlan(spec, inventory));
  const secrets = await atStage(PlanStage.Secrets, () => resolveSecrets(spec, req.secrets ?? envSecrets));
  // The nodes' network-configs through netplan and cloud-init while the keys are made (each
  // shape once; deploy-nodes then finds them checked): a config they refuse refuses the create.
  const configs = [...renderNetworkConfigs(spec, plan)].map(([host, text]) => ({
    text,
    who: `node ${host}`,
  }));
  const [pki] = await Promise.all([pkiPromise, atStage(PlanStage.Plan, () => checkNetworkConfigs(configs))]);
  const pkiSecret = await store.putSecret('cluster-pki', JSON.stringify(pki));
  // A fresh, short-lived kubeadm join token for this create, sealed (never in params or events).
  const joinTokenSecret = await store.putSecret('cluster-join-token', JSON.stringify(mintJoinToken()));
  // The keys of `backups.etcd.target: region-s3`, sealed: the region's backups use them.
  const backupS3Secret = await sealBackupS3Keys(store, spec.spec.backups.etcd, secrets);
  const members: ClusterMember[] = plan.nodes.map((n, order) => ({
    machineId: n.machineId,
    hostname: n.hostname,
    role: n.init ? 'init' : n.role,
    order,
    address: n.address,
  }));
  try {
    return await store.createCluster(
      {
        name,
        clusterFile: req.clusterFile,
        distribution: plan.distribution,
        version: plan.version,
        endpoint: plan.endpoint,
        members,
        reason: `create requested by ${req.actor}`,
        job: {
          kind: decision.workflow,
          steps: [...CLUSTER_WORKFLOW_RULES[decision.workflow].steps],
          params: {
            plan,
            pkiSecret,
            joinTokenSecret,
            ...(backupS3Secret ? { backupS3Secret } : {}),
            ...(req.image ? { image: req.image } : {}),
          },
        },
      },
      req.actor,
    );
  } catch (e) {
    await store.deleteSecret(pkiSecret).catch(() => undefined);
    await store.deleteSecret(joinTokenSecret).catch(() => undefined);
    if (backupS3Secret) await store.deleteSecret(backupS3Secret).catch(() => undefined);
    throw e;
  }
}

/**
 * Delete (drain, then release and wipe every member) or retry (resume the failed workflow at
 * the step that failed: the job keeps the plan and PKI of the create).
 */
export async function clusterAction(
  store: Store,
  ref: string,
  action: Exclude<ClusterAction, 'create'>,
  actor: string,
  params: { wipe?: 'quick' | 'secure' } = {},
): Promise<ClusterActionResult> {
  const cluster = await findCluster(store, ref);
  if (!cluster) refused(action, ref, null);
  const decision = planClusterAction(action, cluster.state);
  if (!decision.ok) refused(action, cluster.name, cluster.state);
  let jobParams: Record<string, unknown> = { ...params };
  let steps: string[] = [...CLUSTER_WORKFLOW_RULES[decision.workflow].steps];
  if (action === 'retry') {
    // Resume where the failed job stopped: its plan, PKI and finished steps carry over.
    const [last] = await store.listJobs({ clusterId: cluster.id }, 1);
    const workflow = retryWorkflow(cluster.state, last?.kind ?? null);
    // A halted operation (a scale too) is retried as that operation, from where it stopped.
    if (
      last &&
      (workflow === ClusterWorkflow.Operation ||
        (workflow === ClusterWorkflow.Scale && typeof last.params.operation === 'string'))
    ) {
      const { job } = await retryClusterOperation(store, cluster, last, actor);
      return { cluster: await store.getCluster(cluster.id), job };
    }
    if (last?.kind === decision.workflow) {
      jobParams = last.params;
      steps = last.steps.slice(last.stepIndex).map((s) => s.name);
      if (last.kind === ClusterWorkflow.Scale) steps = scaleRetrySteps(steps);
    }
  } else if (action === 'delete') {
    const [create] = (await store.listJobs({ clusterId: cluster.id }, 50)).filter(
      (j) => j.kind === 'cluster-create',
    );
    if (create?.params.pkiSecret) jobParams.pkiSecret = create.params.pkiSecret;
    if (create?.params.joinTokenSecret) jobParams.joinTokenSecret = create.params.joinTokenSecret;
    if (create?.params.backupS3Secret) jobParams.backupS3Secret = create.params.backupS3Secret;
  }
  return store.clusterTransition({
    clusterId: cluster.id,
    from: cluster.state,
    to: decision.to,
    reason: `${action} requested by ${actor}`,
    actor,
    job: { kind: decision.workflow, steps, params: jobParams },
  });
}
