/**
 * The Node objects as remediation needs them: each node's Ready condition and since when, a
 * Node's deletion once its machine is fenced (with the pods bound to it, which nothing else
 * would remove for minutes), and the labels and taints a Node had, put back when its kubelet
 * registers it again (a kubelet re-creates its Node with only its own labels: the roles and
 * taints kubeadm or the user added would be lost).
 */
import {
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Taint,
} from '@kubernetes/client-node';

export interface NodeReady {
  readonly node: string;
  readonly ready: 'True' | 'False' | 'Unknown';
  readonly readySince: string | null;
}

/** Every Node's Ready condition (Unknown when the kubelet never reported one). */
export async function nodesReady(kc: KubeConfig): Promise<NodeReady[]> {
  const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
  return nodes.map((n) => {
    const c = n.status?.conditions?.find((x) => x.type === 'Ready');
    const status = c?.status === 'True' || c?.status === 'False' ? c.status : 'Unknown';
    const since = c?.lastTransitionTime;
    return {
      node: n.metadata!.name!,
      ready: status,
      readySince: since ? new Date(since as unknown as string).toISOString() : null,
    };
  });
}

/** What a Node carried that its kubelet does not set again by itself. */
export interface NodeMeta {
  readonly labels: Record<string, string>;
  readonly taints: V1Taint[];
}

/**
 * Deletes a fenced node's Node object and then its pods, at once (grace period 0): the
 * machine is off, so nothing of them runs any more, and their controllers start them
 * elsewhere. Returns what the Node carried, to put back when it registers again. Only call
 * this once the machine's power-off is confirmed.
 */
export async function deleteFencedNode(
  kc: KubeConfig,
  node: string,
): Promise<{ meta: NodeMeta | null; pods: string[] }> {
  const core = kc.makeApiClient(CoreV1Api);
  let meta: NodeMeta | null = null;
  try {
    const n = await core.readNode({ name: node });
    meta = { labels: { ...(n.metadata?.labels ?? {}) }, taints: n.spec?.taints ?? [] };
    await core.deleteNode({ name: node });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
  }
  const pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
  for (const p of pods)
    await core
      .deleteNamespacedPod({
        name: p.metadata!.name!,
        namespace: p.metadata!.namespace!,
        gracePeriodSeconds: 0,
      })
      .catch((e: { code?: number }) => {
        if (e.code !== 404) throw e;
      });
  return { meta, pods: pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`) };
}

/** Puts a re-registered Node's labels and taints back (the ones the kubelet set stay). */
export async function restoreNodeMeta(kc: KubeConfig, node: string, meta: NodeMeta): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const now = await core.readNode({ name: node });
  const taints = [...(now.spec?.taints ?? [])];
  for (const t of meta.taints)
    if (
      !taints.some((x) => x.key === t.key && x.effect === t.effect) &&
      // The node controller's own taints describe the old node's last state, not the new one's.
      !t.key.startsWith('node.kubernetes.io/')
    )
      taints.push({ key: t.key, value: t.value, effect: t.effect });
  await core.patchNode(
    { name: node, body: { metadata: { labels: meta.labels }, spec: { taints } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
