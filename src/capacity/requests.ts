/**
 * Where a cluster's requested CPU and memory come from: the Cluster file's plan (`planRequests`)
 * or, for a running cluster whose API answers, the sum of its pods' requests per worker pool
 * (`kubeRequests`, through the region's KubePort).
 */
import { type Plan, Role } from '../cluster/plan/types.ts';
import type { ClusterSpec } from '../cluster/spec/types.ts';
import type { KubePort } from '../kube/port.ts';

/** CPU in cores (Kubernetes CPU units: one vCPU, one hardware thread), memory in GiB. */
export interface Resources {
  readonly cpu: number;
  readonly memoryGiB: number;
}

export const RequestsKind = { Plan: 'plan', Kubernetes: 'kubernetes' } as const;
export type RequestsKind = (typeof RequestsKind)[keyof typeof RequestsKind];

export interface PoolRequests {
  readonly kind: RequestsKind;
  /** Requested resources per worker pool name. A pool missing here requests nothing. */
  readonly pools: ReadonlyMap<string, Resources>;
  /** What the figures mean, for the report (e.g. "the pool's selector minimums × count"). */
  readonly basis: string;
}

export interface RequestsSource {
  readonly kind: RequestsKind;
  requests(spec: ClusterSpec, plan: Plan): Promise<PoolRequests>;
}

/**
 * Requests read from the Cluster file: each worker pool asks for `count` nodes of at least
 * `minCpu` cores and `minMemoryGiB`, so that is the capacity it must keep. Without minimums a
 * pool requests nothing from the plan (the report says so).
 */
export const planRequests: RequestsSource = {
  kind: RequestsKind.Plan,
  async requests(spec) {
    return {
      kind: RequestsKind.Plan,
      basis: 'the Cluster file: each worker pool’s count × its selector’s minCpu and minMemoryGiB',
      pools: new Map(
        spec.spec.workers.map((w) => [
          w.name,
          { cpu: w.count * w.machines.minCpu, memoryGiB: w.count * w.machines.minMemoryGiB },
        ]),
      ),
    };
  },
};

const GiB = 2 ** 30;

/**
 * Requests read from the cluster's Kubernetes API: each worker pool requests what the pods
 * bound to its nodes request (node name = the member's hostname). Pods on control-plane and
 * etcd nodes count for no pool; pending pods (not bound yet) for none either.
 */
export function kubeRequests(kube: Pick<KubePort, 'requests'>, kubeconfig: string): RequestsSource {
  return {
    kind: RequestsKind.Kubernetes,
    async requests(_spec, plan) {
      const byNode = await kube.requests(kubeconfig);
      const pools = new Map<string, Resources>();
      let busy = 0;
      for (const n of plan.nodes.filter((x) => x.role === Role.Worker)) {
        const r = byNode.get(n.hostname) ?? { cpu: 0, memoryBytes: 0 };
        const had = pools.get(n.pool) ?? { cpu: 0, memoryGiB: 0 };
        pools.set(n.pool, { cpu: had.cpu + r.cpu, memoryGiB: had.memoryGiB + r.memoryBytes / GiB });
        if (byNode.has(n.hostname)) busy++;
      }
      return {
        kind: RequestsKind.Kubernetes,
        basis: `the cluster’s Kubernetes API: the requests of the pods bound to each pool’s nodes (${busy} worker nodes with pods)`,
        pools,
      };
    },
  };
}
