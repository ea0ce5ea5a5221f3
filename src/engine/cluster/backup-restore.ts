/**
 * Restore of a cluster from one of its etcd backups, as a durable cluster operation (kind
 * `restore`): the request checks the backup (done, its bytes matching its SHA-256: a damaged one
 * is refused before any node is asked) and writes the operation with the backup and the control
 * planes, the cluster's move into `updating` and its `cluster-operation` job in one transaction —
 * which refuses a second operation, restore or other, on the cluster (INGOT_OPERATION_RUNNING) —
 * and answers at once. The job runs the procedure step by step (restore-run.ts); a region that
 * dies mid-restore leaves it to another on the same store, which resumes at the step after the
 * last recorded. Admin only (the route says so); on the cluster's timeline with who asked.
 */
import { BackupState } from '../../core/backup.ts';
import type { Cluster } from '../../core/cluster.ts';
import { CLUSTER_WORKFLOW_RULES, ClusterState, ClusterWorkflow } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { type KubeletRestarts, newRestoreProgress, type RestoreNodes } from '../../core/etcd-restore.ts';
import type { Job } from '../../core/job.ts';
import { type ClusterOperation, newProgress, OperationKind } from '../../core/operation.ts';
import type { SnapshotRecord } from '../../kube/etcd/snapshot.ts';
import type { Store } from '../../store/store.ts';
import { type BackupService, controlPlanes, etcdNodes } from './backups.ts';
import { checkCanStart } from './operation-actions.ts';

/** What a restore answers, started or ended (the operation's `progress.restore` and state). */
export interface RestoreView {
  /** The restore's operation (`GET /clusters/{name}/operations/{id}` follows it). */
  readonly operation: string;
  readonly state: ClusterOperation['state'];
  readonly reason: string;
  readonly backup: string;
  readonly controlPlanes: string[];
  /** The last step of the procedure done (core/etcd-restore.ts). */
  readonly step: string;
  /** The old data directories, kept on each node (`node:path`), once swapped. */
  readonly keptDataDirs: string[];
  /** Seconds from the start until the API answered again, once done. */
  readonly apiAfterSeconds: number | null;
  /** The nodes back on the restored data once done (null: not read), and when all were. */
  readonly nodes: RestoreNodes | null;
  readonly nodesAfterSeconds: number | null;
  /** The kubelets restarted on the nodes not back half-way through their wait (null: none). */
  readonly kubeletsRestarted: KubeletRestarts | null;
}

export function restoreView(op: ClusterOperation): RestoreView {
  const r = op.progress.restore;
  return {
    operation: op.id,
    state: op.state,
    reason: op.reason,
    backup: op.params.backup ?? '',
    controlPlanes: op.progress.nodes.map((n) => n.hostname),
    step: r?.step ?? 'pending',
    keptDataDirs: r?.keptDataDirs ?? [],
    apiAfterSeconds: r?.apiAfterSeconds ?? null,
    nodes: r?.nodes ?? null,
    nodesAfterSeconds: r?.nodesAfterSeconds ?? null,
    kubeletsRestarted: r?.kubeletsRestarted ?? null,
  };
}

/** The backup's bytes, checked against its SHA-256, with its record (the restore's snapshot). */
export async function backupSnapshot(
  backups: BackupService,
  cluster: Cluster,
  id: string,
): Promise<{ record: SnapshotRecord; data: Buffer }> {
  const { backup: b } = await backups.get(cluster.id, id);
  if (b.state !== BackupState.Done || !b.location || !b.sha256)
    throw new IngotError(
      ErrorCode.Conflict,
      `backup ${id} is ${b.state}: only a done backup can be restored`,
    );
  const data = await (await backups.targetFor(cluster, b.location)).read(b.location, b.sha256);
  return {
    record: {
      id,
      cluster: cluster.name,
      node: b.node ?? '',
      takenAt: new Date(b.takenAt ?? b.createdAt).toISOString(),
      sha256: b.sha256,
      bytes: b.sizeBytes ?? data.length,
      revision: b.revision ?? 0,
      totalKeys: b.totalKeys ?? 0,
      hash: 0,
    },
    data,
  };
}

/** Starts the restore of backup `id` on every control plane of cluster `ref`. */
export async function startRestore(
  o: { store: Store; backups: BackupService },
  ref: string,
  id: string,
  actor: string,
): Promise<{ operation: ClusterOperation; job: Job }> {
  const { store } = o;
  const { cluster: c, backup: b } = await o.backups.get(ref, id);
  const failed = (message: string) =>
    store.appendEvents([
      {
        type: 'cluster.restore.failed',
        level: 'warning',
        actor,
        clusterId: c.id,
        message: `restore of etcd backup ${id} failed: ${message}`,
        data: { backup: id },
      },
    ]);
  if (b.state !== BackupState.Done || !b.location || !b.sha256)
    throw new IngotError(
      ErrorCode.Conflict,
      `backup ${id} is ${b.state}: only a done backup can be restored`,
    );
  // Another operation (a restore too) holds the cluster: 409 naming it.
  await checkCanStart(store, c, 'restore');
  if (c.state !== ClusterState.Running)
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${c.name} is ${c.state}: a restore needs a running cluster`,
    );
  // A damaged backup is refused here, before anything is recorded or any node asked; the
  // timeline says so (the refusals above are the caller's answer only).
  try {
    await backupSnapshot(o.backups, c, id);
  } catch (e) {
    await failed((e as Error).message);
    throw e;
  }
  const cps = controlPlanes(c);
  // External etcd: the members are restored on their own nodes, the control planes stopped around.
  const members = etcdNodes(c);
  const external = members.join() !== cps.join();
  const nodes = cps.map((h) => {
    const m = c.members.find((x) => x.hostname === h)!;
    return { hostname: h, machineId: m.machineId, role: m.role as 'init' | 'control-plane', domain: '' };
  });
  const workflow = ClusterWorkflow.Operation;
  const progress = { ...newProgress(nodes), restore: newRestoreProgress(new Date().toISOString()) };
  progress.snapshot = { state: 'skipped', note: 'a restore takes no snapshot before it' };
  const taken = b.takenAt ? new Date(b.takenAt).toISOString() : '?';
  return store.startOperation({
    clusterId: c.id,
    from: c.state,
    to: CLUSTER_WORKFLOW_RULES[workflow].running,
    kind: OperationKind.Restore,
    params: { apiServerArgs: {}, changes: [], clusterFile: c.clusterFile, maxUnavailable: 1, backup: id },
    progress,
    job: { kind: workflow, steps: [...CLUSTER_WORKFLOW_RULES[workflow].steps], params: {} },
    actor,
    message: `restore of etcd backup ${id} requested by ${actor}`,
    events: [
      {
        type: 'cluster.restore.started',
        level: 'warning',
        actor,
        clusterId: c.id,
        message: `restore of etcd backup ${id} (taken ${taken} on ${b.node}) started by ${actor} on ${cps.join(', ')}${external ? ` and the etcd members ${members.join(', ')}` : ''}: everything written since is lost`,
        data: { backup: id, controlPlanes: cps, etcdNodes: members },
      },
    ],
  });
}
