/**
 * A simulated cluster's Kubernetes (fake:// members, src/kube/fake.ts) lives in the region's
 * memory. After a restart the region gives it back the nodes the store says the cluster has,
 * for every cluster past its create, so a roll taken over after a crash finds its nodes (a
 * real cluster's API is, of course, still there).
 */
import type { ClusterState } from '../../core/cluster-lifecycle.ts';
import { FAKE_KUBECONFIG_MARKER, type FakeKube } from '../../kube/fake.ts';
import type { Store } from '../../store/store.ts';

const BOOTSTRAPPED: readonly ClusterState[] = ['running', 'updating', 'failed_updating'];

export async function reviveSimulatedClusters(store: Store, kube: FakeKube): Promise<number> {
  let n = 0;
  for (const c of await store.listClusters()) {
    if (!BOOTSTRAPPED.includes(c.state)) continue;
    const k = await store.clusterKubeconfig(c.id);
    if (!k?.includes(FAKE_KUBECONFIG_MARKER)) continue;
    for (const m of c.members) kube.register(k, m.hostname);
    n++;
  }
  return n;
}
