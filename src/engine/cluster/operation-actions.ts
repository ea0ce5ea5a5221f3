/**
 * Starting and steering a cluster's operation (core/operation.ts): a reconfigure from a changed
 * Cluster file, a certificate rotation, pause, resume, abort, and the retry of a halted one. Starting one checks the file, computes what changes
 * (today: the kube-apiserver flags of `spec.apiServer`), and writes the operation, the cluster's
 * move into `updating` and its job in one transaction (store.startOperation), which refuses a
 * second operation on the cluster with INGOT_OPERATION_RUNNING.
 */
import { parseDocument } from 'yaml';
import type { Plan } from '../../cluster/plan/types.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { renderedApiServerFlags } from '../../cluster/render/reconfigure.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { ClusterSpec } from '../../cluster/spec/types.ts';
import type { Cluster } from '../../core/cluster.ts';
import { CLUSTER_WORKFLOW_RULES, ClusterState, ClusterWorkflow } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError, invalid, toIngotError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import {
  type ClusterOperation,
  controlOperation,
  describeChange,
  flagChanges,
  newProgress,
  type OperationControl,
  OperationKind,
  checkRetryable,
  retryProgress,
} from '../../core/operation.ts';
import { batchSize } from '../../core/rolling-plan.ts';
import { scaleAbortRefusal, scaleRetrySteps } from '../../core/scale-operation.ts';
import { skewProblems } from '../../core/version-skew.ts';
import type { ClusterVersions, KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import { lastPlan } from './scale.ts';
import { checkTargetBundle } from './upgrade-bundle.ts';

/** Cluster states an operation may start from: running, or after an operation that halted. */
export const OPERATION_FROM: readonly ClusterState[] = [ClusterState.Running, ClusterState.FailedUpdating];

export interface ReconfigureRequest {
  /** The changed Cluster file (YAML or JSON). */
  clusterFile: string;
  /** Workers at once: a count or a percentage. @default 1 */
  maxUnavailable?: number | string;
  actor: string;
}

/**
 * The cluster's newest plan and its sealed PKI's secret id: its newest job's that has them —
 * the create's, or a later scale's or operation's (a scale's plan has the workers it added:
 * an operation started after it rolls them too).
 */
export async function createParams(
  store: Store,
  cluster: Cluster,
): Promise<{ plan: Plan; pkiSecret: string }> {
  const last = await lastPlan(store, cluster);
  return { plan: last.plan as Plan, pkiSecret: String(last.pkiSecret) };
}

/** The spec without what a reconfigure rolls: two files equal here differ only in that. */
function outsideRoll(spec: ClusterSpec): string {
  const { apiServer: _, ...rest } = spec.spec;
  return JSON.stringify(rest);
}

/** The first top-level field of `spec` that differs between two specs. */
function firstChanged(a: ClusterSpec, b: ClusterSpec): string {
  const keys = [...new Set([...Object.keys(a.spec), ...Object.keys(b.spec)])].sort();
  const k = keys.find(
    (x) =>
      x !== 'apiServer' &&
      JSON.stringify((a.spec as unknown as Record<string, unknown>)[x]) !==
        JSON.stringify((b.spec as unknown as Record<string, unknown>)[x]),
  );
  return `spec.${k}`;
}

/** Refuses a cluster that kubeadm does not run (`what`: "an upgrade rolls"), naming the field. */
export function kubeadmOnly(spec: ClusterSpec, what: string): void {
  if (spec.spec.distribution !== 'kubeadm')
    throw invalid('spec.distribution', `${what} kubeadm clusters only, not ${spec.spec.distribution}`);
}

/** Refuses a start while another operation holds the cluster or the cluster is not in a state to roll. */
export async function checkCanStart(store: Store, cluster: Cluster, verb: string): Promise<void> {
  const active = await store.activeOperation(cluster.id);
  if (active)
    throw new IngotError(
      ErrorCode.OperationRunning,
      `cluster ${cluster.name} already runs operation ${active.id} (${active.kind}, ${active.state}); wait for it, or abort it with \`ingot cluster abort ${cluster.name}\``,
      { details: { cluster: cluster.name, operation: active.id, kind: active.kind, state: active.state } },
    );
  if (!OPERATION_FROM.includes(cluster.state))
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `cannot ${verb} cluster ${cluster.name} while it is ${cluster.state}; an operation starts from ${OPERATION_FROM.join(' or ')}`,
      { details: { cluster: cluster.name, state: cluster.state, allowed: OPERATION_FROM } },
    );
}

export async function startReconfigure(
  store: Store,
  ref: string,
  req: ReconfigureRequest,
): Promise<{ operation: ClusterOperation; job: Job }> {
  const cluster = await store.getCluster(ref);
  const spec = parseClusterFile(req.clusterFile, 'Cluster file');
  if (spec.metadata.name !== cluster.name)
    throw invalid(
      'metadata.name',
      `is ${spec.metadata.name}, but this is cluster ${cluster.name}'s reconfigure`,
    );
  const before = parseClusterFile(cluster.clusterFile, 'Cluster file');
  kubeadmOnly(spec, 'a reconfigure rolls');
  if (outsideRoll(spec) !== outsideRoll(before))
    throw invalid(
      firstChanged(before, spec),
      'changed: a reconfigure rolls only spec.apiServer (kube-apiserver flags) today; put the other fields back as the cluster has them',
    );
  await checkCanStart(store, cluster, 'reconfigure');
  const maxUnavailable = req.maxUnavailable ?? 1;
  const { plan, pkiSecret } = await createParams(store, cluster);
  const workers = plan.nodes.filter((n) => n.role === 'worker').length;
  batchSize(maxUnavailable, Math.max(1, workers)); // refuses a bad value, naming the field
  const pki = JSON.parse(await store.getSecret(pkiSecret)) as PkiMaterial;
  const changes = flagChanges(
    await renderedApiServerFlags(before, plan, pki),
    await renderedApiServerFlags(spec, plan, pki),
  );
  if (changes.length === 0)
    throw invalid(
      'spec.apiServer',
      'nothing to roll: the kube-apiserver flags this file renders are the ones the cluster runs',
    );
  const after = await renderedApiServerFlags(spec, plan, pki);
  const nodes = rollNodes(cluster, plan);
  const workflow = ClusterWorkflow.Operation;
  return store.startOperation({
    clusterId: cluster.id,
    from: cluster.state,
    to: CLUSTER_WORKFLOW_RULES[workflow].running,
    kind: OperationKind.Reconfigure,
    params: { apiServerArgs: after, changes, clusterFile: req.clusterFile, maxUnavailable },
    progress: newProgress(nodes),
    job: { kind: workflow, steps: [...CLUSTER_WORKFLOW_RULES[workflow].steps], params: { plan, pkiSecret } },
    actor: req.actor,
    message: `reconfigure requested by ${req.actor}: ${changes.map(describeChange).join(', ')}`,
  });
}

/**
 * Starts a certificate rotation (docs/day2.md "Certificate rotation"): an etcd snapshot, then
 * each control plane in turn renews its certificates (`kubeadm certs renew all`), restarts its
 * static pods on them, and the API answers before the next. Workers are not touched: their
 * kubelets rotate their own client certificates.
 */
export async function startCertRotation(
  store: Store,
  ref: string,
  req: { actor: string },
): Promise<{ operation: ClusterOperation; job: Job }> {
  const cluster = await store.getCluster(ref);
  const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
  kubeadmOnly(spec, 'certificate rotation renews');
  await checkCanStart(store, cluster, 'rotate the certificates of');
  const { plan, pkiSecret } = await createParams(store, cluster);
  const workflow = ClusterWorkflow.Operation;
  return store.startOperation({
    clusterId: cluster.id,
    from: cluster.state,
    to: CLUSTER_WORKFLOW_RULES[workflow].running,
    kind: OperationKind.CertRotate,
    params: { apiServerArgs: {}, changes: [], clusterFile: cluster.clusterFile, maxUnavailable: 1 },
    progress: newProgress(rollNodes(cluster, plan).filter((n) => n.role !== 'worker')),
    job: { kind: workflow, steps: [...CLUSTER_WORKFLOW_RULES[workflow].steps], params: { plan, pkiSecret } },
    actor: req.actor,
    message: `certificate rotation requested by ${req.actor}: kubeadm certs renew all on each control plane, one at a time`,
  });
}

export interface UpgradeRequest {
  /** The target version, `v1.21.3`. */
  version: string;
  maxUnavailable?: number | string;
  actor: string;
}

/** The versions the skew rules check: the cluster's own answer, else the ones Ingot recorded. */
async function clusterVersions(
  store: Store,
  kube: KubePort | null,
  cluster: Cluster,
): Promise<ClusterVersions> {
  const k = await store.clusterKubeconfig(cluster.id);
  if (k && kube?.versions) {
    try {
      return await kube.versions(k);
    } catch (e) {
      if (toIngotError(e).code === ErrorCode.Unreachable)
        throw new IngotError(
          ErrorCode.Conflict,
          `cluster ${cluster.name}'s API does not answer, so its versions are unknown; an upgrade starts on a healthy cluster`,
          { details: { cluster: cluster.name } },
        );
    }
  }
  const recorded = cluster.members.filter((m) => m.role !== 'etcd');
  return {
    apiServers: recorded
      .filter((m) => m.role !== 'worker')
      .map((m) => ({ node: m.hostname, version: cluster.version })),
    kubelets: recorded.map((m) => ({ node: m.hostname, version: cluster.version })),
  };
}

/**
 * Starts an upgrade (docs/day2.md "Upgrade") after Kubernetes' version-skew rules (core's
 * `skewProblems`: one minor at a time, no downgrade, kubelets never newer than the API server)
 * pass on the cluster's live versions; each broken rule is a line of the 400. The roll: an
 * etcd snapshot, `kubeadm upgrade apply` on the init control plane, `upgrade node` on the
 * others, then workers in batches of `maxUnavailable` — cordoned, drained through the Eviction
 * API honouring PDBs, `kubeadm upgrade node`, uncordoned, Ready before the next batch. On
 * success the Cluster file's `spec.version` becomes the target.
 */
export async function startUpgrade(
  store: Store,
  kube: KubePort | null,
  ref: string,
  req: UpgradeRequest,
): Promise<{ operation: ClusterOperation; job: Job }> {
  const cluster = await store.getCluster(ref);
  const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
  kubeadmOnly(spec, 'an upgrade rolls');
  const target = req.version.startsWith('v') ? req.version : `v${req.version}`;
  await checkCanStart(store, cluster, 'upgrade');
  const versions = await clusterVersions(store, kube, cluster);
  // kubeadm's own rule is checked on each node, before it changes anything (render/upgrade.ts).
  const problems = skewProblems({ target, ...versions, kubeadm: null });
  if (problems.length)
    throw invalid(
      'version',
      `cannot upgrade cluster ${cluster.name} to ${target}:\n  ${problems.join('\n  ')}`,
    );
  if (spec.spec.packages.source === 'bundle') await checkTargetBundle(store, target);
  const maxUnavailable = req.maxUnavailable ?? 1;
  const { plan, pkiSecret } = await createParams(store, cluster);
  const nodes = rollNodes(cluster, plan);
  batchSize(maxUnavailable, Math.max(1, nodes.filter((n) => n.role === 'worker').length));
  const doc = parseDocument(cluster.clusterFile);
  doc.setIn(['spec', 'version'], target);
  const workflow = ClusterWorkflow.Operation;
  const from = versions.apiServers.map((a) => a.version).sort()[0];
  return store.startOperation({
    clusterId: cluster.id,
    from: cluster.state,
    to: CLUSTER_WORKFLOW_RULES[workflow].running,
    kind: OperationKind.Upgrade,
    params: { apiServerArgs: {}, changes: [], clusterFile: doc.toString(), maxUnavailable, target },
    progress: newProgress(nodes),
    job: { kind: workflow, steps: [...CLUSTER_WORKFLOW_RULES[workflow].steps], params: { plan, pkiSecret } },
    actor: req.actor,
    message: `upgrade from ${from} to ${target} requested by ${req.actor}`,
  });
}

/** The cluster's nodes a roll walks, in member order, with their failure domain from the plan. */
export function rollNodes(cluster: Cluster, plan: Plan) {
  const byHost = new Map(plan.nodes.map((n) => [n.hostname, n]));
  return cluster.members
    .filter((m) => m.role !== 'etcd')
    .sort((a, b) => a.order - b.order)
    .map((m) => {
      const p = byHost.get(m.hostname);
      return {
        hostname: m.hostname,
        machineId: m.machineId,
        role: m.role as 'init' | 'control-plane' | 'worker',
        domain: p ? `${p.zone}/${p.rack}` : '',
      };
    });
}

/** Pause, resume or abort the cluster's active operation (409 naming the allowed controls otherwise). */
export async function controlClusterOperation(
  store: Store,
  ref: string,
  control: OperationControl,
  actor: string,
): Promise<ClusterOperation> {
  const cluster = await store.getCluster(ref);
  const op = await store.activeOperation(cluster.id);
  if (!op) {
    const [last] = await store.listOperations(cluster.id, 1);
    if (last) controlOperation(control, last.state, last.id);
    throw new IngotError(ErrorCode.NotFound, `cluster ${cluster.name} runs no operation to ${control}`, {
      details: { cluster: cluster.name },
    });
  }
  const to = controlOperation(control, op.state, op.id);
  // A restore stops the whole control plane: it runs to its end, or fails with its way back.
  if (op.kind === OperationKind.Restore)
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `cannot ${control} restore ${op.id}: a restore runs to its end (or fails and puts the old data back); wait for it with \`ingot cluster backup restore ${cluster.name} ${op.params.backup} --wait\``,
      { details: { operation: op.id, state: op.state, control, allowed: [] } },
    );
  const refusal = control === 'abort' ? scaleAbortRefusal(op) : null;
  if (refusal)
    throw new IngotError(ErrorCode.InvalidTransition, `cannot abort ${op.kind} ${op.id}: ${refusal}`, {
      details: { operation: op.id, state: op.state, control, allowed: ['pause', 'resume'] },
    });
  const verb = { pause: 'paused', resume: 'resumed', abort: 'aborted' }[control];
  const message = `${verb} by ${actor}`;
  const done = await store.updateOperation(op.id, { from: [op.state], to, reason: message }, [
    {
      type: `cluster.operation.${verb}`,
      level: control === 'abort' ? 'warning' : 'info',
      clusterId: cluster.id,
      jobId: op.jobId,
      actor,
      message: `${op.kind} ${op.id}: ${message}`,
      data: { operation: op.id, state: to },
    },
  ]);
  if (!done)
    throw new IngotError(
      ErrorCode.ConcurrentUpdate,
      `operation ${op.id} changed while it was being ${verb}; re-read it and retry`,
      { details: { operation: op.id } },
    );
  return done;
}

/**
 * The cluster's `retry` after an operation halted (it is in failed_updating and its last job is
 * that operation's): the same operation resumes, as itself, from the node it stopped on — nodes
 * done are not rolled again and no second snapshot is taken (core's retryProgress).
 */
export async function retryClusterOperation(
  store: Store,
  cluster: Cluster,
  last: Job,
  actor: string,
): Promise<{ operation: ClusterOperation; job: Job }> {
  const id = last.params.operation;
  if (typeof id !== 'string')
    throw new IngotError(ErrorCode.Internal, `job ${last.id} names no operation to retry`, {
      details: { job: last.id },
    });
  const op = await store.getOperation(id);
  checkRetryable(op.state, op.id);
  const failed = op.progress.nodes.find((n) => n.state === 'failed');
  // A scale (its own workflow) resumes at the step that failed, as a failed scale job does.
  const workflow = last.kind === ClusterWorkflow.Scale ? ClusterWorkflow.Scale : ClusterWorkflow.Operation;
  const steps =
    workflow === ClusterWorkflow.Scale
      ? scaleRetrySteps(last.steps.slice(last.stepIndex).map((s) => s.name))
      : [...CLUSTER_WORKFLOW_RULES[workflow].steps];
  const { operation: _, ...params } = last.params;
  return store.retryOperation({
    operationId: op.id,
    clusterId: cluster.id,
    from: cluster.state,
    to: CLUSTER_WORKFLOW_RULES[workflow].running,
    progress: retryProgress(op.progress, new Date().toISOString()),
    job: { kind: workflow, steps, params },
    actor,
    message: `retried by ${actor}${failed ? `, resuming at ${failed.hostname}` : ''} (it had ${op.reason})`,
  });
}
