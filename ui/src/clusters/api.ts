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
