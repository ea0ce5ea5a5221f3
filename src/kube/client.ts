/**
 * The real KubePort: a thin client over @kubernetes/client-node, built from the cluster's admin
 * kubeconfig for each question (a region watches few clusters, and a kubeconfig may change when
 * a cluster is re-created). Conditions come from the API's own answers:
 *
 * - API reachable: `GET /livez` through the client's TLS and credentials;
 * - nodes Ready x/y: the `Ready` condition of every Node;
 * - etcd: kubeadm's static etcd pods (`kube-system`, `component=etcd`) Ready out of all, with
 *   quorum when more than half are Ready (null where the distribution hides etcd, as k3s does);
 * - the earliest certificate expiry: the API server's serving certificate and the kubeconfig's
 *   client certificate, read with node:crypto.
 */
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { JoinToken } from '../core/cluster.ts';
import type { ClusterConditions } from '../core/cluster.ts';
import type { NodeHeard } from '../core/etcd-restore.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { ensureBootstrapToken } from './bootstrap-token.ts';
import { cordon, type DrainResult, drainNode, keptBecause, uncordon } from './drain.ts';
import type { ClusterVersions, DrainNodeOptions, KubePort } from './port.ts';
import { type NodeRequests, requestsByNode } from './requests.ts';

const TIMEOUT_MS = 5_000;

function load(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(kubeconfig);
  } catch (e) {
    throw new IngotError(ErrorCode.Validation, `kubeconfig: ${(e as Error).message}`);
  }
  if (!kc.getCurrentCluster())
    throw new IngotError(ErrorCode.Validation, 'kubeconfig: it names no current cluster');
  return kc;
}

function ready(conditions: { type: string; status: string }[] | undefined): boolean {
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

const withTimeout = <T>(p: Promise<T>, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what}: no answer within ${TIMEOUT_MS / 1000} s`)),
        TIMEOUT_MS,
      ).unref(),
    ),
  ]);

/** The API server's serving certificate's end of validity, from a TLS handshake (no request). */
function servingCertExpiry(server: string): Promise<string | null> {
  const u = new URL(server);
  return new Promise((resolve) => {
    const s = connect(
      { host: u.hostname, port: Number(u.port || 443), servername: u.hostname, rejectUnauthorized: false },
      () => {
        const raw = s.getPeerCertificate().raw;
        s.destroy();
        resolve(raw ? new X509Certificate(raw).validToDate.toISOString() : null);
      },
    );
    s.setTimeout(TIMEOUT_MS, () => {
      s.destroy();
      resolve(null);
    });
    s.on('error', () => resolve(null));
  });
}

function clientCertExpiry(kc: KubeConfig): string | null {
  const data = kc.getCurrentUser()?.certData;
  if (!data) return null;
  try {
    return new X509Certificate(Buffer.from(data, 'base64')).validToDate.toISOString();
  } catch {
    return null;
  }
}

export class KubeClient implements KubePort {
  async conditions(kubeconfig: string): Promise<ClusterConditions> {
    const kc = load(kubeconfig);
    const checkedAt = new Date().toISOString();
    const api = kc.makeApiClient(CoreV1Api);
    try {
      const nodes = await withTimeout(api.listNode(), 'list nodes');
      const etcdPods = await withTimeout(
        api.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'component=etcd' }),
        'list etcd pods',
      );
      const members = etcdPods.items.length;
      const healthy = etcdPods.items.filter((p) => ready(p.status?.conditions)).length;
      const server = kc.getCurrentCluster()!.server;
      const expiries = [await servingCertExpiry(server), clientCertExpiry(kc)].filter(
        (x): x is string => !!x,
      );
      return {
        checkedAt,
        apiReachable: true,
        apiError: null,
        etcd: members > 0 ? { healthy, members, quorum: healthy > members / 2 } : null,
        nodes: {
          ready: nodes.items.filter((n) => ready(n.status?.conditions)).length,
          total: nodes.items.length,
        },
        certificatesExpireAt: expiries.sort()[0] ?? null,
      };
    } catch (e) {
      return {
        checkedAt,
        apiReachable: false,
        apiError: reason(e).slice(0, 500),
        etcd: null,
        nodes: null,
        certificatesExpireAt: null,
      };
    }
  }

  async drain(kubeconfig: string, nodes: readonly string[]): Promise<{ cordoned: number; evicted: number }> {
    const api = load(kubeconfig).makeApiClient(CoreV1Api);
    let cordoned = 0;
    let evicted = 0;
    try {
      for (const name of nodes) {
        await withTimeout(
          api.patchNode(
            { name, body: { spec: { unschedulable: true } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
          `cordon ${name}`,
        );
        cordoned++;
        const pods = await withTimeout(
          api.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` }),
          `list pods on ${name}`,
        );
        for (const pod of pods.items.filter((p) => keptBecause(p) === null)) {
          await withTimeout(
            api.createNamespacedPodEviction({
              name: pod.metadata!.name!,
              namespace: pod.metadata!.namespace!,
              body: { metadata: { name: pod.metadata!.name!, namespace: pod.metadata!.namespace! } },
            }),
            `evict ${pod.metadata!.name}`,
          );
          evicted++;
        }
      }
    } catch (e) {
      throw new IngotError(ErrorCode.Unreachable, `drain: ${(e as Error).message}`, {
        retryable: true,
        cause: e,
      });
    }
    return { cordoned, evicted };
  }

  drainNode(kubeconfig: string, node: string, o: DrainNodeOptions): Promise<DrainResult> {
    return drainNode(load(kubeconfig), node, o);
  }

  uncordon(kubeconfig: string, node: string): Promise<void> {
    return uncordon(load(kubeconfig), node);
  }

  cordon(kubeconfig: string, node: string): Promise<void> {
    return cordon(load(kubeconfig), node);
  }

  async versions(kubeconfig: string): Promise<ClusterVersions> {
    const api = load(kubeconfig).makeApiClient(CoreV1Api);
    try {
      const [nodes, pods] = await Promise.all([
        withTimeout(api.listNode(), 'list nodes'),
        withTimeout(
          api.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'component=kube-apiserver' }),
          'list kube-apiserver pods',
        ),
      ]);
      return {
        // kubeadm's static kube-apiserver pods: the version is their image's tag.
        apiServers: pods.items.map((p) => ({
          node: p.spec?.nodeName ?? p.metadata?.name ?? '?',
          version: (p.spec?.containers[0]?.image ?? '').split(':').pop() ?? '',
        })),
        kubelets: nodes.items.map((n) => ({
          node: n.metadata?.name ?? '?',
          version: n.status?.nodeInfo?.kubeletVersion ?? '',
        })),
      };
    } catch (e) {
      throw new IngotError(ErrorCode.Unreachable, `versions: ${reason(e)}`, { retryable: true, cause: e });
    }
  }

  async nodesHeard(kubeconfig: string): Promise<NodeHeard[]> {
    const kc = load(kubeconfig);
    try {
      const [nodes, leases] = await Promise.all([
        withTimeout(kc.makeApiClient(CoreV1Api).listNode(), 'list nodes'),
        withTimeout(
          kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: 'kube-node-lease' }),
          'list node leases',
        ),
      ]);
      // The kubelet's lease is named as its Node; renewTime is a MicroTime (a Date once decoded).
      const renewed = new Map(
        leases.items.map((l) => [
          l.metadata?.name ?? '',
          l.spec?.renewTime ? new Date(l.spec.renewTime) : null,
        ]),
      );
      return nodes.items.map((n) => {
        const name = n.metadata?.name ?? '?';
        const at = renewed.get(name);
        return {
          node: name,
          ready: ready(n.status?.conditions),
          heardAt: at && !Number.isNaN(at.getTime()) ? at.toISOString() : null,
        };
      });
    } catch (e) {
      throw new IngotError(ErrorCode.Unreachable, `nodes: ${reason(e)}`, { retryable: true, cause: e });
    }
  }

  async isCordoned(kubeconfig: string, node: string): Promise<boolean> {
    const n = await load(kubeconfig).makeApiClient(CoreV1Api).readNode({ name: node });
    return n.spec?.unschedulable === true;
  }

  async requests(kubeconfig: string): Promise<Map<string, NodeRequests>> {
    const api = load(kubeconfig).makeApiClient(CoreV1Api);
    try {
      return requestsByNode((await withTimeout(api.listPodForAllNamespaces(), 'list pods')).items);
    } catch (e) {
      throw new IngotError(ErrorCode.Unreachable, `pod requests: ${reason(e)}`, {
        retryable: true,
        cause: e,
      });
    }
  }

  async deleteNode(kubeconfig: string, node: string): Promise<boolean> {
    try {
      await load(kubeconfig).makeApiClient(CoreV1Api).deleteNode({ name: node });
      return true;
    } catch (e) {
      if ((e as { code?: number }).code === 404) return false;
      throw new IngotError(ErrorCode.Unreachable, `delete node ${node}: ${reason(e)}`, {
        retryable: true,
        cause: e,
      });
    }
  }

  async ensureBootstrapToken(kubeconfig: string, token: JoinToken): Promise<'valid' | 'created'> {
    try {
      return await withTimeout(ensureBootstrapToken(load(kubeconfig), token), 'the join token');
    } catch (e) {
      // Never the token itself in the message: only what the API said.
      throw new IngotError(ErrorCode.Unreachable, `join token on the control plane: ${reason(e)}`, {
        retryable: true,
      });
    }
  }
}

/** An error with its cause (fetch says "fetch failed"; the cause says ECONNREFUSED 10.0.0.1:6443). */
function reason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return `${err.message || String(e)}${cause ? ` (${cause})` : ''}`;
}
