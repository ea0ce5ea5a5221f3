/**
 * Maintenance of one node of a running cluster, asked for through the API: drain it (through
 * the Eviction API, honouring PodDisruptionBudgets: src/kube/drain.ts) and uncordon it. Each
 * is on the cluster's timeline with the node, and a drain a PDB holds says which one.
 */
import { ErrorCode, IngotError, isIngotError } from '../../core/errors.ts';
import type { DrainResult } from '../../kube/drain.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';

async function target(store: Store, ref: string, node: string) {
  const c = await store.getCluster(ref);
  if (!c.members.some((m) => m.hostname === node))
    throw new IngotError(
      ErrorCode.NotFound,
      `node ${node} is not a member of cluster ${c.name}: its members are ${c.members.map((m) => m.hostname).join(', ')}`,
      { details: { node } },
    );
  const kubeconfig = await store.clusterKubeconfig(c.id);
  if (kubeconfig === null)
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${c.name} has no admin kubeconfig yet (it is ${c.state})`,
    );
  return { c, kubeconfig };
}

export async function drainClusterNode(
  store: Store,
  kube: KubePort,
  ref: string,
  node: string,
  o: { timeoutMs: number; force: boolean; actor: string },
): Promise<DrainResult> {
  const { c, kubeconfig } = await target(store, ref, node);
  const ev = (type: string, level: 'info' | 'warning', message: string, data: Record<string, unknown>) =>
    store.appendEvents([{ type, level, clusterId: c.id, actor: o.actor, message, data: { node, ...data } }]);
  await ev('cluster.node.drain', 'info', `drain of ${node} started by ${o.actor}`, {});
  try {
    const r = await kube.drainNode(kubeconfig, node, { timeoutMs: o.timeoutMs, force: o.force });
    await ev(
      'cluster.node.drained',
      'info',
      `${node} drained: ${r.evicted.length} pod(s) evicted, ${r.kept.length} kept`,
      {
        evicted: r.evicted,
      },
    );
    return r;
  } catch (e) {
    const pdb = isIngotError(e, ErrorCode.DrainBlocked) ? e.details.pdb : undefined;
    await ev('cluster.node.drain-failed', 'warning', `drain of ${node} stopped: ${(e as Error).message}`, {
      ...(pdb ? { pdb } : {}),
    });
    throw e;
  }
}

export async function uncordonClusterNode(
  store: Store,
  kube: KubePort,
  ref: string,
  node: string,
  actor: string,
): Promise<void> {
  const { c, kubeconfig } = await target(store, ref, node);
  await kube.uncordon(kubeconfig, node);
  await store.appendEvents([
    {
      type: 'cluster.node.uncordoned',
      clusterId: c.id,
      actor,
      message: `${node} schedulable again (uncordoned by ${actor})`,
      data: { node },
    },
  ]);
}
