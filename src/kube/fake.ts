/**
 * An in-memory Kubernetes for tests and simulated clusters: nodes register when the engine says
 * their bootstrap is done (`register`), become Ready at once, and a drain cordons them.
 * `apiDown` makes every call behave as an API that does not answer.
 */
import type { ClusterConditions } from '../core/cluster.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { JoinToken } from '../core/cluster.ts';
import type { NodeHeard } from '../core/etcd-restore.ts';
import { TOKEN_MARGIN_MS } from './bootstrap-token.ts';
import type { DrainResult } from './drain.ts';
import type { ClusterVersions, DrainNodeOptions, KubePort } from './port.ts';
import type { NodeRequests } from './requests.ts';

export class FakeKube implements KubePort {
  /** Node name → Ready, per kubeconfig (each cluster has its own admin kubeconfig). */
  readonly nodes = new Map<string, Map<string, boolean>>();
  readonly cordoned = new Set<string>();
  apiDown = false;
  /** Nodes that never become Ready. */
  readonly notReady = new Set<string>();
  /** The etcd members each cluster has (control planes of a stacked topology). */
  etcdMembers = 3;
  /** Nodes whose drain a PodDisruptionBudget holds: node → `ns/name` of the PDB. */
  readonly blockedByPdb = new Map<string, string>();
  /** The API servers' version (one, as `kube-apiserver`), and kubelets' other than it by node. */
  apiServerVersion = 'v1.20.2';
  readonly kubeletVersions = new Map<string, string>();
  /** What the pods on each node request (node name → CPU cores and bytes). */
  readonly podRequests = new Map<string, NodeRequests>();

  /**
   * Join tokens on each cluster's control plane: kubeconfig → token → expiry (ms). The first
   * ask finds the token kubeadm init wrote; set an expiry in the past to play its cleaner.
   */
  readonly joinTokens = new Map<string, Map<string, number>>();

  register(kubeconfig: string, node: string): void {
    const m = this.nodes.get(kubeconfig) ?? new Map<string, boolean>();
    m.set(node, !this.notReady.has(node));
    this.nodes.set(kubeconfig, m);
  }

  async conditions(kubeconfig: string): Promise<ClusterConditions> {
    const checkedAt = new Date().toISOString();
    if (this.apiDown)
      return {
        checkedAt,
        apiReachable: false,
        apiError: 'connect ECONNREFUSED (fake)',
        etcd: null,
        nodes: null,
        certificatesExpireAt: null,
      };
    const nodes = [...(this.nodes.get(kubeconfig)?.values() ?? [])];
    const members = Math.min(this.etcdMembers, Math.max(1, nodes.length));
    return {
      checkedAt,
      apiReachable: true,
      apiError: null,
      etcd: { healthy: members, members, quorum: true },
      nodes: { ready: nodes.filter(Boolean).length, total: nodes.length },
      certificatesExpireAt: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    };
  }

  /** Nodes whose kubelet has not been heard since the given time (a restore waits for them). */
  readonly silent = new Set<string>();

  async nodesHeard(kubeconfig: string): Promise<NodeHeard[]> {
    if (this.apiDown)
      throw new IngotError(ErrorCode.Unreachable, 'the cluster API did not answer (fake)', {
        retryable: true,
      });
    const heardAt = new Date().toISOString();
    return [...(this.nodes.get(kubeconfig)?.entries() ?? [])].map(([node, ready]) => ({
      node,
      ready,
      heardAt: this.silent.has(node) ? null : heardAt,
    }));
  }

  async versions(kubeconfig: string): Promise<ClusterVersions> {
    return {
      apiServers: [{ node: 'kube-apiserver', version: this.apiServerVersion }],
      kubelets: [...(this.nodes.get(kubeconfig)?.keys() ?? [])].map((node) => ({
        node,
        version: this.kubeletVersions.get(node) ?? this.apiServerVersion,
      })),
    };
  }

  async drain(kubeconfig: string, nodes: readonly string[]): Promise<{ cordoned: number; evicted: number }> {
    if (this.apiDown)
      throw new IngotError(ErrorCode.Unreachable, 'the cluster API did not answer (fake)', {
        retryable: true,
      });
    for (const n of nodes) if (this.nodes.get(kubeconfig)?.has(n)) this.cordoned.add(n);
    return { cordoned: nodes.length, evicted: 0 };
  }

  /**
   * Awaited by every drain once the node is cordoned, before its pods are evicted (a test holds
   * a drain there, or lets it fail: a region dying mid-drain).
   */
  drainHold: ((node: string) => Promise<void>) | null = null;
  /** A drain a PDB holds waits (up to its timeout) for it to let go, as the real one; else it throws at once. */
  blockWaits = false;
  /** Pods evicted by a drain of the node (`ns/name`); the default none. */
  readonly podsOn = new Map<string, string[]>();

  async drainNode(kubeconfig: string, node: string, o: DrainNodeOptions): Promise<DrainResult> {
    this.#known(kubeconfig, node);
    this.cordoned.add(node);
    await this.drainHold?.(node);
    let pdb = this.blockedByPdb.get(node);
    if (pdb) o.onBlocked?.('default/web-0', `blocked by PDB ${pdb}`);
    // As the real drain does: refused evictions asked again until the PDB lets go or the timeout.
    for (const end = Date.now() + o.timeoutMs; pdb && this.blockWaits && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 20));
      pdb = this.blockedByPdb.get(node);
    }
    if (pdb)
      throw new IngotError(
        ErrorCode.DrainBlocked,
        `drain ${node}: pod default/web-0 blocked by PDB ${pdb} for ${Math.round(o.timeoutMs / 1000)} s: relax the PodDisruptionBudget ${pdb} or add replicas elsewhere, then drain again`,
        { details: { node, pod: 'default/web-0', pdb, pending: ['default/web-0'] } },
      );
    const evicted = this.podsOn.get(node) ?? [];
    this.podsOn.delete(node);
    return { evicted, kept: [] };
  }

  async uncordon(kubeconfig: string, node: string): Promise<void> {
    this.#known(kubeconfig, node);
    this.cordoned.delete(node);
  }

  async cordon(kubeconfig: string, node: string): Promise<void> {
    this.#known(kubeconfig, node);
    this.cordoned.add(node);
  }

  async isCordoned(kubeconfig: string, node: string): Promise<boolean> {
    this.#known(kubeconfig, node);
    return this.cordoned.has(node);
  }

  async requests(kubeconfig: string): Promise<Map<string, NodeRequests>> {
    if (this.apiDown)
      throw new IngotError(ErrorCode.Unreachable, 'the cluster API did not answer (fake)', {
        retryable: true,
      });
    const nodes = this.nodes.get(kubeconfig) ?? new Map<string, boolean>();
    return new Map([...this.podRequests].filter(([n]) => nodes.has(n)));
  }

  async deleteNode(kubeconfig: string, node: string): Promise<boolean> {
    if (this.apiDown)
      throw new IngotError(ErrorCode.Unreachable, 'the cluster API did not answer (fake)', {
        retryable: true,
      });
    this.cordoned.delete(node);
    return this.nodes.get(kubeconfig)?.delete(node) ?? false;
  }

  async ensureBootstrapToken(kubeconfig: string, t: JoinToken): Promise<'valid' | 'created'> {
    if (this.apiDown)
      throw new IngotError(ErrorCode.Unreachable, 'the cluster API did not answer (fake)', {
        retryable: true,
      });
    const tokens = this.joinTokens.get(kubeconfig) ?? new Map<string, number>();
    this.joinTokens.set(kubeconfig, tokens);
    const exp = tokens.get(t.token);
    // First seen: the simulated `kubeadm init` wrote it with its lifetime.
    if (exp === undefined) tokens.set(t.token, Date.now() + t.ttlSeconds * 1000);
    if (exp === undefined || exp - Date.now() > TOKEN_MARGIN_MS) return 'valid';
    tokens.set(t.token, Date.now() + t.ttlSeconds * 1000);
    return 'created';
  }

  #known(kubeconfig: string, node: string): void {
    if (this.apiDown)
      throw new IngotError(ErrorCode.Unreachable, 'the cluster API did not answer (fake)', {
        retryable: true,
      });
    if (!this.nodes.get(kubeconfig)?.has(node))
      throw new IngotError(ErrorCode.NotFound, `node ${node} not found in the cluster (fake)`);
  }
}

/** The line that marks a simulated cluster's kubeconfig (its members are fake:// machines). */
export const FAKE_KUBECONFIG_MARKER = '# ingot-fake-cluster: ';

/** The admin kubeconfig a simulated init node returns: one per cluster, named by its members' owner. */
export function fakeKubeconfig(owner: string): string {
  return `apiVersion: v1\nkind: Config\n${FAKE_KUBECONFIG_MARKER}${owner}\nclusters: []\nusers: []\ncontexts: []\n`;
}

/** The kube port of a region: simulated clusters answer from `fake`, every other from `real`. */
export function regionKube(fake: KubePort, real: KubePort): KubePort {
  const pick = (k: string) => (k.includes(FAKE_KUBECONFIG_MARKER) ? fake : real);
  return {
    conditions: (k) => pick(k).conditions(k),
    drain: (k, nodes) => pick(k).drain(k, nodes),
    drainNode: (k, node, o) => pick(k).drainNode(k, node, o),
    uncordon: (k, node) => pick(k).uncordon(k, node),
    cordon: (k, node) => pick(k).cordon(k, node),
    isCordoned: (k, node) => pick(k).isCordoned(k, node),
    requests: (k) => pick(k).requests(k),
    deleteNode: (k, node) => pick(k).deleteNode(k, node),
    ensureBootstrapToken: (k, t) => pick(k).ensureBootstrapToken(k, t),
    versions: (k) => {
      const p = pick(k);
      return p.versions ? p.versions(k) : Promise.reject(new Error('this port reads no versions'));
    },
    nodesHeard: (k) => {
      const p = pick(k);
      return p.nodesHeard ? p.nodesHeard(k) : Promise.reject(new Error('this port reads no node leases'));
    },
  };
}
