/**
 * Drain through the Eviction API, honouring PodDisruptionBudgets, as `kubectl drain` does:
 * cordon the node, evict every evictable pod (DaemonSet pods, mirror pods and finished pods
 * stay), retry an eviction the API refuses with 429 (a PDB would be violated) until the
 * deadline, then wait for the evicted pods to be gone. A drain that cannot finish throws
 * INGOT_DRAIN_BLOCKED naming the pod and the PodDisruptionBudget that holds it.
 *
 * Kubernetes 1.20 serves PodDisruptionBudgets as policy/v1beta1 only (policy/v1 came in 1.21),
 * which the generated client has no class for: they are read through the generic objects API.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { type LabelSelector, matchesSelector } from './selector.ts';

export interface DrainOptions {
  /** How long evictions may be refused and pods may take to go. @default 300 000 ms */
  readonly timeoutMs?: number;
  /** Between two rounds of refused evictions. @default 2000 ms */
  readonly retryMs?: number;
  /** Evict pods no controller will recreate (they are gone for good). @default false */
  readonly force?: boolean;
  /** Told each time an eviction is refused, with the reason ("blocked by PDB ns/name"). */
  readonly onBlocked?: (pod: string, reason: string) => void;
}

export interface DrainResult {
  readonly evicted: readonly string[];
  /** Pods left on the node on purpose (DaemonSet, mirror, finished), as `ns/name`. */
  readonly kept: readonly string[];
}

const key = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/** Why a pod stays on a drained node, or null when it is to be evicted. */
export function keptBecause(p: V1Pod): string | null {
  if (p.metadata?.annotations?.['kubernetes.io/config.mirror']) return 'mirror pod';
  if (p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet')) return 'DaemonSet pod';
  if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return 'finished';
  return null;
}

/** Marks the node (un)schedulable. */
export async function cordon(kc: KubeConfig, node: string, unschedulable = true): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .patchNode(
      { name: node, body: { spec: { unschedulable } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
}

export const uncordon = (kc: KubeConfig, node: string) => cordon(kc, node, false);

interface Pdb {
  metadata: { name: string; namespace: string };
  spec?: { selector?: LabelSelector };
}

/** The PodDisruptionBudgets that select the pod, as `ns/name`. */
async function pdbsOf(kc: KubeConfig, pod: V1Pod): Promise<string[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'policy',
    version: 'v1beta1',
    namespace: ns,
    plural: 'poddisruptionbudgets',
  })) as { items: Pdb[] };
  return list.items
    .filter((b) => b.spec?.selector && matchesSelector(b.spec.selector, pod.metadata?.labels ?? {}))
    .map((b) => `${b.metadata.namespace}/${b.metadata.name}`)
    .sort();
}

/** The status and body of a failed client call (client-node's ApiException). */
function apiError(e: unknown): { code: number; message: string } {
  const err = e as { code?: unknown; body?: unknown; message?: string };
  const code = typeof err.code === 'number' ? err.code : 0;
  let body = err.body;
  if (typeof body === 'string')
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON: keep the text
    }
  const message =
    (body as { message?: string } | undefined)?.message ??
    (typeof body === 'string' ? body : (err.message ?? ''));
  return { code, message };
}

/**
 * Cordons `node` and evicts its pods through the Eviction API; returns when every evicted pod
 * is gone. The node stays cordoned (uncordon it when its maintenance is done).
 */
export async function drainNode(kc: KubeConfig, node: string, o: DrainOptions = {}): Promise<DrainResult> {
  const timeoutMs = o.timeoutMs ?? 300_000;
  const retryMs = o.retryMs ?? 2000;
  const deadline = Date.now() + timeoutMs;
  const core = kc.makeApiClient(CoreV1Api);
  await cordon(kc, node);
  const pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
  const kept = pods.filter((p) => keptBecause(p) !== null).map(key);
  let pending = pods.filter((p) => keptBecause(p) === null);
  const orphans = pending.filter((p) => !p.metadata?.ownerReferences?.some((r) => r.controller));
  if (orphans.length && !o.force)
    throw new IngotError(
      ErrorCode.Conflict,
      `drain ${node}: ${orphans.map(key).join(', ')} ${orphans.length === 1 ? 'has' : 'have'} no controller: evicting deletes ${orphans.length === 1 ? 'it' : 'them'} for good; drain with force to do it anyway`,
      { details: { node, pods: orphans.map(key) } },
    );
  const evicted: V1Pod[] = [];
  let blocked: { pod: string; reason: string; pdb: string | null } | null = null;
  while (pending.length) {
    const still: V1Pod[] = [];
    for (const p of pending) {
      const name = p.metadata!.name!;
      const namespace = p.metadata!.namespace!;
      try {
        await core.createNamespacedPodEviction({
          name,
          namespace,
          body: { apiVersion: 'policy/v1beta1', kind: 'Eviction', metadata: { name, namespace } },
        });
        evicted.push(p);
      } catch (e) {
        const { code, message } = apiError(e);
        if (code === 404) continue; // gone meanwhile: nothing to evict
        if (code !== 429) throw e;
        const pdb = (await pdbsOf(kc, p).catch(() => []))[0] ?? null;
        const reason = pdb ? `blocked by PDB ${pdb}` : `eviction refused: ${message}`;
        blocked = { pod: key(p), reason, pdb };
        o.onBlocked?.(key(p), reason);
        still.push(p);
      }
    }
    pending = still;
    if (!pending.length) break;
    if (Date.now() + retryMs > deadline) {
      const b = blocked!;
      throw new IngotError(
        ErrorCode.DrainBlocked,
        `drain ${node}: pod ${b.pod} ${b.reason} for ${Math.round(timeoutMs / 1000)} s${b.pdb ? `: relax the PodDisruptionBudget ${b.pdb} or add replicas elsewhere, then drain again` : ''}`,
        { details: { node, pod: b.pod, pdb: b.pdb, pending: pending.map(key) } },
      );
    }
    await new Promise((r) => setTimeout(r, retryMs));
  }
  // Evicted pods terminate (grace period): the node is drained when they are gone.
  const uids = new Set(evicted.map((p) => p.metadata?.uid));
  for (;;) {
    const left = (
      await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })
    ).items.filter((p) => uids.has(p.metadata?.uid));
    if (!left.length) break;
    if (Date.now() > deadline)
      throw new IngotError(
        ErrorCode.Timeout,
        `drain ${node}: ${left.map(key).join(', ')} still terminating after ${Math.round(timeoutMs / 1000)} s`,
        { details: { node, pods: left.map(key) }, retryable: true },
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  return { evicted: evicted.map(key), kept };
}
