/**
 * The region's clusters as they live: state and why, each node with its role and its machine's
 * state, and the conditions the region last read from the cluster's API. Refreshed every few
 * seconds; creating and deleting are the CLI's and the API's (`ingot cluster create|delete`).
 */
import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/client.ts';
import type { paths } from '../api/generated.ts';
import { useSession } from '../auth/session.tsx';

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

function conditionsText(c: ClusterSummary['conditions']): string {
  if (!c) return 'not read yet';
  if (!c.apiReachable) return `API not answering${c.apiError ? ` (${c.apiError})` : ''}`;
  const parts = ['API reachable'];
  if (c.nodes) parts.push(`nodes Ready ${c.nodes.ready}/${c.nodes.total}`);
  if (c.etcd) parts.push(`etcd ${c.etcd.healthy}/${c.etcd.members}${c.etcd.quorum ? '' : ', no quorum'}`);
  if (c.certificatesExpireAt) parts.push(`certificates until ${c.certificatesExpireAt.slice(0, 10)}`);
  return parts.join(' · ');
}

export function ClusterList() {
  const { client } = useSession();
  const [clusters, setClusters] = useState<ClusterSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        setClusters(await loadClusters(client, ac.signal));
        setError(null);
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        setError((e as Error).message ?? String(e));
      }
      if (!ac.signal.aborted) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [client]);

  return (
    <section className="card cluster-list" aria-labelledby="cluster-list-head">
      <h2 id="cluster-list-head">Clusters in this region</h2>
      {error && <p role="alert">Could not load the clusters: {error}</p>}
      {clusters === null && !error && <p className="subtle">Loading…</p>}
      {clusters?.length === 0 && (
        <p className="subtle">
          No clusters yet. Create one from a Cluster file with{' '}
          <code>ingot cluster create -f cluster.yaml</code>.
        </p>
      )}
      {clusters?.map((c) => (
        <article key={c.id} className="cluster-item" aria-label={`Cluster ${c.name}`}>
          <h3>
            {c.name} <span className={`state state-${c.state}`}>{c.state}</span>
          </h3>
          <p className="state-reason">{c.stateReason}</p>
          <p>
            {c.distribution} {c.version} at {c.endpoint} · {conditionsText(c.conditions)}
          </p>
          <table className="table compact" aria-label={`Nodes of ${c.name}`}>
            <thead>
              <tr>
                <th>Node</th>
                <th>Role</th>
                <th>Address</th>
                <th>Machine</th>
              </tr>
            </thead>
            <tbody>
              {c.members.map((m) => (
                <tr key={m.machineId}>
                  <td>{m.hostname}</td>
                  <td>{m.role}</td>
                  <td>{m.address}</td>
                  <td title={m.stateReason}>{m.state ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </article>
      ))}
    </section>
  );
}
