/**
 * Maintenance of one node of a running cluster, asked for through the API: uncordon it (on the
 * cluster's timeline with the node). Its drain is a durable operation: drain-start.ts.
 */
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import { memberOf } from './drain-start.ts';

async function target(store: Store, ref: string, node: string) {
  const c = await store.getCluster(ref);
  memberOf(c, node);
  const kubeconfig = await store.clusterKubeconfig(c.id);
  if (kubeconfig === null)
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${c.name} has no admin kubeconfig yet (it is ${c.state})`,
    );
  return { c, kubeconfig };
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
