/**
 * The region's clusters as they live: state and why, each node with its role and its machine's
 * state, and the conditions the region last read from the cluster's API. Refreshed every few
 * seconds; each cluster is a ClusterCard (its nodes' steps and actions). Clusters are created
 * from the planner below, or `ingot cluster create`.
 */
import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/client.ts';
import type { paths } from '../api/generated.ts';
import { useSession } from '../auth/session.tsx';
import { ClusterCard } from './ClusterCard.tsx';

export type ClusterSummary =
  paths['/api/v1/clusters']['get']['responses'][200]['content']['application/json'][number];
type ClusterDetail = paths['/api/v1/clusters/{name}']['get']['responses'][200]['content']['application/json'];

const REFRESH_MS = 5000;

/** The clusters, each with its members' machine states (one GET per cluster). */
async function loadClusters(client: ApiClient, signal: AbortSignal): Promise<ClusterSummary[]> {
  const list = await client.request<ClusterSummary[]>('GET', '/clusters', undefined, signal);
  return Promise.all(
    list.map(
      async (c) =>
        (
          await client.request<ClusterDetail>(
            'GET',
            `/clusters/${encodeURIComponent(c.name)}`,
            undefined,
            signal,
          )
        ).cluster as ClusterSummary,
    ),
  );
}

/** REFRESH changes to re-read the list at once (the planner's create does). */
export function ClusterList({ refresh = 0 }: { refresh?: number }) {
  const { client } = useSession();
  const [clusters, setClusters] = useState<ClusterSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [nudge, setNudge] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: refresh and nudge re-read at once
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        setClusters(await loadClusters(client, ac.signal));
        setTick((t) => t + 1);
        setError(null);
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        setError((e as Error).message ?? String(e));
      }
      if (!ac.signal.aborted) timer = setTimeout(load, REFRESH_MS);
    };
    void load();
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [client, refresh, nudge]);

  return (
    <section className="card cluster-list" aria-labelledby="cluster-list-head">
      <h2 id="cluster-list-head">Clusters in this region</h2>
      {error && <p role="alert">Could not load the clusters: {error}</p>}
      {clusters === null && !error && <p className="subtle">Loading…</p>}
      {clusters?.length === 0 && (
        <p className="subtle">
          No clusters yet. Plan a Cluster file below and create it, or run{' '}
          <code>ingot cluster create -f cluster.yaml</code>.
        </p>
      )}
      {clusters?.map((c) => (
        <ClusterCard key={c.id} cluster={c} tick={tick} onChanged={() => setNudge((n) => n + 1)} />
      ))}
    </section>
  );
}
