/**
 * A node drain as a durable cluster operation (kind `drain`, core/node-drain.ts): the request
 * checks the node (a member: 404 otherwise) and the cluster (running, with its admin
 * kubeconfig), and writes the operation, the cluster's move into `updating` and its
 * `cluster-operation` job in one transaction — which refuses a drain while another operation
 * holds the cluster (INGOT_OPERATION_RUNNING) — and answers at once. The job cordons the node
 * and evicts its pods (drain-run.ts); a region dying mid-drain leaves it to another on the same
 * store, which re-runs it from the cordon. On the cluster's timeline (`cluster.node.drain`) with
 * who asked and why.
 */
import type { Cluster } from '../../core/cluster.ts';
import { CLUSTER_WORKFLOW_RULES, ClusterState, ClusterWorkflow } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { NewEvent } from '../../core/event.ts';
import type { Job } from '../../core/job.ts';
import { drainParams, newDrainProgress } from '../../core/node-drain.ts';
import { type ClusterOperation, newProgress, OperationKind } from '../../core/operation.ts';
import type { Store } from '../../store/store.ts';
import { checkCanStart } from './operation-actions.ts';

export interface DrainRequest {
  readonly node: string;
  /** @default 300 */
  readonly timeoutSeconds?: number;
  readonly force?: boolean;
  /** Why (the hardware watch's reason); on the timeline. */
  readonly reason?: string;
  /** A hardware-driven drain's episode: its end is told on the machine's timeline too. */
  readonly episode?: string;
  readonly actor: string;
  /** Lines for the timeline written with the start, before its own (the hardware watch's). */
  readonly events?: readonly NewEvent[];
}

/** What a drain answers, started or ended (the operation's node and `progress.drain`). */
export interface DrainView {
  /** The drain's operation (`GET /clusters/{name}/operations/{id}` follows it). */
  readonly operation: string;
  readonly state: ClusterOperation['state'];
  readonly reason: string;
  readonly node: string;
  /** The node's last step done: null (pending), `cordoned`, `drained`. */
  readonly step: string | null;
  /** What the node's drain says now ("blocked by PDB ns/name"). */
  readonly message: string | null;
  readonly timeoutSeconds: number;
  readonly evicted: string[];
  readonly kept: string[];
}

export function drainView(op: ClusterOperation): DrainView {
  const n = op.progress.nodes[0];
  const d = op.progress.drain;
  return {
    operation: op.id,
    state: op.state,
    reason: op.reason,
    node: op.params.node ?? n?.hostname ?? '',
    step: n?.step ?? null,
    message: n?.message ?? null,
    timeoutSeconds: op.params.timeoutSeconds ?? 0,
    evicted: d?.evicted ?? [],
    kept: d?.kept ?? [],
  };
}

/** The member `node` of the cluster, or a 404 naming its members. */
export function memberOf(c: Cluster, node: string) {
  const m = c.members.find((x) => x.hostname === node);
  if (!m)
    throw new IngotError(
      ErrorCode.NotFound,
      `node ${node} is not a member of cluster ${c.name}: its members are ${c.members.map((x) => x.hostname).join(', ')}`,
      { details: { node } },
    );
  return m;
}

/** Starts the drain of `req.node` of cluster `ref`. */
export async function startDrain(
  store: Store,
  ref: string,
  req: DrainRequest,
): Promise<{ operation: ClusterOperation; job: Job }> {
  const c = await store.getCluster(ref);
  const m = memberOf(c, req.node);
  if (m.role === 'etcd')
    throw new IngotError(
      ErrorCode.Conflict,
      `${m.hostname} is an external etcd member of cluster ${c.name}, not a Kubernetes node: there is nothing to drain`,
      { details: { node: m.hostname } },
    );
  const p = drainParams(req);
  if ((await store.clusterKubeconfig(c.id)) === null)
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${c.name} has no admin kubeconfig yet (it is ${c.state})`,
    );
  // Another operation holds the cluster: 409 naming it.
  await checkCanStart(store, c, 'drain a node of');
  if (c.state !== ClusterState.Running)
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `cluster ${c.name} is ${c.state}: a drain needs a running cluster (\`ingot cluster retry ${c.name}\` first)`,
      { details: { cluster: c.name, state: c.state } },
    );
  const workflow = ClusterWorkflow.Operation;
  const at = new Date().toISOString();
  const progress = {
    ...newProgress([
      {
        hostname: m.hostname,
        machineId: m.machineId,
        role: m.role as 'init' | 'control-plane' | 'worker',
        domain: '',
      },
    ]),
    drain: newDrainProgress(at),
  };
  progress.snapshot = { state: 'skipped', note: 'a drain takes no etcd snapshot' };
  const why = p.reason ? ` (${p.reason})` : '';
  return store.startOperation({
    clusterId: c.id,
    from: c.state,
    to: CLUSTER_WORKFLOW_RULES[workflow].running,
    kind: OperationKind.Drain,
    params: {
      apiServerArgs: {},
      changes: [],
      clusterFile: c.clusterFile,
      maxUnavailable: 1,
      node: m.hostname,
      timeoutSeconds: p.timeoutSeconds,
      force: p.force,
      ...(p.reason ? { reason: p.reason } : {}),
      ...(req.episode ? { episode: req.episode } : {}),
    },
    progress,
    job: { kind: workflow, steps: [...CLUSTER_WORKFLOW_RULES[workflow].steps], params: {} },
    actor: req.actor,
    message: `drain of ${m.hostname} requested by ${req.actor}${why}`,
    events: [
      ...(req.events ?? []),
      {
        type: 'cluster.node.drain',
        level: 'info',
        actor: req.actor,
        clusterId: c.id,
        machineId: m.machineId,
        message: `drain of ${m.hostname} started by ${req.actor}${why}: cordon, then evict its pods (PodDisruptionBudgets honoured, at most ${p.timeoutSeconds} s)`,
        data: {
          node: m.hostname,
          timeoutSeconds: p.timeoutSeconds,
          force: p.force,
          ...(p.reason ? { reason: p.reason } : {}),
        },
      },
    ],
  });
}
