/**
 * Where a cluster's requested CPU and memory come from. Today: the Cluster file's plan. A live
 * source (the sum of the pods' requests per node pool, read from the cluster's Kubernetes API)
 * plugs in by implementing RequestsSource; nothing else in src/capacity changes.
 */
import type { Plan } from '../cluster/plan/types.ts';
import type { ClusterSpec } from '../cluster/spec/types.ts';

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
