/** The plan request and its wire types, from the generated OpenAPI types. */
import { ApiError, type ApiClient } from '../api/client.ts';
import type { paths } from '../api/generated.ts';

type PlanOp = paths['/api/v1/clusters/plan']['post'];
export type PlanRequest = PlanOp['requestBody']['content']['application/json'];
export type PlanResult = PlanOp['responses'][200]['content']['application/json'];
export type ClusterPlan = PlanResult['plan'];
export type PlannedNode = ClusterPlan['nodes'][number];
export type WhatIfRow = ClusterPlan['whatIf'][number];

/** One thing wrong with the Cluster file or the plan, at a dotted path. */
export interface Problem {
  path: string;
  message: string;
}

/** Why a plan was refused: the Cluster file itself, or planning it onto the region's machines. */
export interface Refusal {
  stage: 'cluster-file' | 'plan' | 'request';
  message: string;
  problems: Problem[];
}

export function planCluster(client: ApiClient, cluster: string, signal?: AbortSignal): Promise<PlanResult> {
  const body: PlanRequest = { cluster };
  return client.request<PlanResult>('POST', '/clusters/plan', body, signal);
}

/** Turns an API refusal into a list of problems; anything else (network, 5xx) is rethrown. */
export function refusalOf(e: unknown): Refusal | null {
  if (!(e instanceof ApiError) || e.status !== 400) return null;
  const raw = Array.isArray(e.details.problems) ? (e.details.problems as Record<string, unknown>[]) : [];
  const problems = raw
    .map((p) => ({
      // Cluster-file problems carry `path`; request-schema problems (the `cluster` field) carry `field`.
      path: String(p.path ?? p.field ?? ''),
      message: String(p.message ?? ''),
    }))
    .filter((p) => p.message);
  const stage =
    e.details.stage === 'cluster-file' || e.details.stage === 'plan' ? e.details.stage : 'request';
  // The message is "<what> has N problems:\n  path: msg…"; its first line is the headline.
  return { stage, message: e.message.split('\n')[0], problems };
}

// --- clusters as living objects -------------------------------------------------------------

type CreateOp = paths['/api/v1/clusters']['post'];
export type ClusterJobResult = CreateOp['responses'][202]['content']['application/json'];
export type Wipe = NonNullable<
  NonNullable<paths['/api/v1/clusters/{name}']['delete']['parameters']['query']>['wipe']
>;
export type ClusterEvent =
  paths['/api/v1/clusters/{name}/events']['get']['responses'][200]['content']['application/json'][number];

const EVENTS_PAGE = 200;
/** At most this many of a cluster's events are read for its card (its newest steps). */
const EVENTS_MAX = 2000;

/** Creates the cluster of a Cluster file: 202 with the create job (the region works on). */
export function createCluster(client: ApiClient, cluster: string): Promise<ClusterJobResult> {
  const body: CreateOp['requestBody']['content']['application/json'] = { cluster };
  return client.request<ClusterJobResult>('POST', '/clusters', body);
}

/** Deletes a cluster: its nodes are reset and its machines released with `wipe`. */
export function deleteCluster(client: ApiClient, name: string, wipe: Wipe): Promise<ClusterJobResult> {
  return client.request<ClusterJobResult>('DELETE', `/clusters/${encodeURIComponent(name)}?wipe=${wipe}`);
}

/** Resumes a failed create, delete, scale or operation from the step (an operation: the node) that failed. */
export function retryCluster(client: ApiClient, name: string): Promise<ClusterJobResult> {
  return client.request<ClusterJobResult>('POST', `/clusters/${encodeURIComponent(name)}/actions/retry`);
}

type ScaleOp = paths['/api/v1/clusters/{name}/scale']['post'];
export type ScaleRequest = ScaleOp['requestBody']['content']['application/json'];

/**
 * Scales the cluster's workers to `workers`: more are allocated from ready machines and
 * joined, fewer are drained, deleted and released with `wipe` (newest first; the region's
 * default, quick, when not given).
 */
export function scaleCluster(
  client: ApiClient,
  name: string,
  to: { workers: number } | { controlPlanes: number },
  wipe?: Wipe,
): Promise<ClusterJobResult> {
  const body: ScaleRequest = { ...to, ...(wipe ? { wipe } : {}) };
  return client.request<ClusterJobResult>('POST', `/clusters/${encodeURIComponent(name)}/scale`, body);
}

/** A cluster's timeline, oldest first: every page up to EVENTS_MAX events. */
export async function clusterEvents(
  client: ApiClient,
  name: string,
  signal?: AbortSignal,
): Promise<ClusterEvent[]> {
  const all: ClusterEvent[] = [];
  for (;;) {
    const after = all.length ? `&after=${all[all.length - 1].id}` : '';
    const page = await client.request<ClusterEvent[]>(
      'GET',
      `/clusters/${encodeURIComponent(name)}/events?limit=${EVENTS_PAGE}${after}`,
      undefined,
      signal,
    );
    all.push(...page);
    if (page.length < EVENTS_PAGE || all.length >= EVENTS_MAX) return all;
  }
}

/** Each node's newest step on the cluster's timeline, by machine id. */
export function lastStepByMachine(events: readonly ClusterEvent[]): Map<string, ClusterEvent> {
  const last = new Map<string, ClusterEvent>();
  for (const e of events) if (e.machineId) last.set(e.machineId, e);
  return last;
}

// --- day-2 operations -------------------------------------------------------------------------

type OperationsOp = paths['/api/v1/clusters/{name}/operations']['get'];
export type ClusterOperation = OperationsOp['responses'][200]['content']['application/json'][number];
export type OperationControl =
  paths['/api/v1/clusters/{name}/operations/active/{control}']['post']['parameters']['path']['control'];

/** A cluster's operations, newest first, each with every node's progress. */
export function clusterOperations(
  client: ApiClient,
  name: string,
  signal?: AbortSignal,
): Promise<ClusterOperation[]> {
  return client.request<ClusterOperation[]>(
    'GET',
    `/clusters/${encodeURIComponent(name)}/operations`,
    undefined,
    signal,
  );
}

/** Pauses, resumes or aborts the cluster's running operation. */
export function controlOperation(
  client: ApiClient,
  name: string,
  control: OperationControl,
): Promise<ClusterOperation> {
  return client.request<ClusterOperation>(
    'POST',
    `/clusters/${encodeURIComponent(name)}/operations/active/${control}`,
    {},
  );
}
