/**
 * Refreshes the conditions of every cluster that has an API to ask (running, updating, or a
 * failed one whose init node returned a kubeconfig): API reachable, etcd members and quorum,
 * nodes Ready, the earliest certificate expiry. A cluster whose API does not answer gets that
 * written as its condition; one read failing never stops the others.
 */
import type { Store } from '../../store/store.ts';
import type { KubePort } from '../../kube/port.ts';

const WATCHED = new Set(['running', 'updating', 'failed_creating', 'failed_updating']);

export async function refreshConditions(store: Store, kube: KubePort): Promise<number> {
  let n = 0;
  for (const c of await store.listClusters()) {
    if (!WATCHED.has(c.state) || !c.hasKubeconfig) continue;
    try {
      const k = await store.clusterKubeconfig(c.id);
      if (!k) continue;
      await store.setClusterConditions(c.id, await kube.conditions(k));
      n++;
    } catch {
      // One cluster's store or kubeconfig trouble must not stop the sweep.
    }
  }
  return n;
}
