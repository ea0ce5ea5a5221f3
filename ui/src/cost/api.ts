/** Cost and capacity requests and their wire types, from the generated OpenAPI types. */
import type { ApiClient } from '../api/client.ts';
import type { paths } from '../api/generated.ts';

type CostOp = paths['/api/v1/cost']['post'];
export type CostRequest = CostOp['requestBody']['content']['application/json'];
export type CostEstimate = CostOp['responses'][200]['content']['application/json'];
export type ScopeCost = CostEstimate['region'];
export type OptionCost = ScopeCost['options'][number];

type CapacityOp = paths['/api/v1/capacity']['post'];
export type ClusterCapacity = CapacityOp['responses'][200]['content']['application/json'];

export function estimateCost(
  client: ApiClient,
  windowDays: number,
  signal?: AbortSignal,
): Promise<CostEstimate> {
  const body: CostRequest = { windowDays, clusters: [] };
  return client.request<CostEstimate>('POST', '/cost', body, signal);
}

export function clusterCapacity(
  client: ApiClient,
  cluster: string,
  signal?: AbortSignal,
): Promise<ClusterCapacity> {
  return client.request<ClusterCapacity>('POST', '/capacity', { cluster }, signal);
}

/** A cluster the region runs: requests from its Kubernetes API (GET /capacity?cluster=). */
export function runningCapacity(
  client: ApiClient,
  cluster: string,
  signal?: AbortSignal,
): Promise<ClusterCapacity> {
  return client.request<ClusterCapacity>(
    'GET',
    `/capacity?cluster=${encodeURIComponent(cluster)}`,
    undefined,
    signal,
  );
}

/** The names of the clusters the region runs (not deleted). */
export async function runningClusters(client: ApiClient, signal?: AbortSignal): Promise<string[]> {
  const list = await client.request<{ name: string; state: string }[]>('GET', '/clusters', undefined, signal);
  return list.filter((c) => c.state !== 'deleted').map((c) => c.name);
}
