/**
 * One living cluster: its state and why, the conditions read from its API, every node with its
 * machine's state and its newest step on the cluster's timeline (which node stopped where), the
 * latest steps, its day-2 operations with each node's progress (Operations.tsx), and for
 * operators the actions its state allows (retry; scale the workers or the control planes, ScaleNodes.tsx; delete
 * with a wipe mode, after a confirmation).
 */
import { useEffect, useState } from 'react';
import { useCan, useSession } from '../auth/session.tsx';
import {
  type ClusterEvent,
  clusterEvents,
  deleteCluster,
  lastStepByMachine,
  retryCluster,
  scaleCluster,
  type Wipe,
} from './api.ts';
import type { ClusterSummary } from './ClusterList.tsx';
import { Operations } from './Operations.tsx';
import { ScaleNodes } from './ScaleNodes.tsx';

/** How many of the newest timeline entries the card lists. */
const RECENT = 8;

function conditionsText(c: ClusterSummary['conditions']): string {
  if (!c) return 'not read yet';
  if (!c.apiReachable) return `API not answering${c.apiError ? ` (${c.apiError})` : ''}`;
  const parts = ['API reachable'];
  if (c.nodes) parts.push(`nodes Ready ${c.nodes.ready}/${c.nodes.total}`);
  if (c.etcd) parts.push(`etcd ${c.etcd.healthy}/${c.etcd.members}${c.etcd.quorum ? '' : ', no quorum'}`);
  if (c.certificatesExpireAt) parts.push(`certificates until ${c.certificatesExpireAt.slice(0, 10)}`);
  return parts.join(' · ');
}

const time = (at: string) => at.slice(11, 19);

interface Props {
  cluster: ClusterSummary;
  /** Changes on every refresh of the list: the timeline is read again. */
  tick: number;
  /** Asks the list to refresh now (after an action). */
  onChanged: () => void;
}

export function ClusterCard({ cluster: c, tick, onChanged }: Props) {
  const { client } = useSession();
  const canAct = useCan('operator');
  const [events, setEvents] = useState<ClusterEvent[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [wipe, setWipe] = useState<Wipe>('quick');
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-reads the timeline on each refresh
  useEffect(() => {
    const ac = new AbortController();
    clusterEvents(client, c.name, ac.signal).then(setEvents, () => undefined);
    return () => ac.abort();
  }, [client, c.name, tick]);

  const act = async (what: string, call: () => Promise<unknown>) => {
    setBusy(true);
    setOutcome(null);
    try {
      await call();
      setOutcome({ ok: true, text: `${what}: the region is on it; progress shows below.` });
      onChanged();
    } catch (e) {
      setOutcome({ ok: false, text: `${what} refused: ${(e as Error).message ?? String(e)}` });
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  const steps = lastStepByMachine(events);
  const recent = events.slice(-RECENT).reverse();
  return (
    <article className="cluster-item" aria-label={`Cluster ${c.name}`}>
      <h3>
        {c.name} <span className={`state state-${c.state}`}>{c.state}</span>
      </h3>
      <p className="state-reason">{c.stateReason}</p>
      <p>
        {c.distribution} {c.version} at {c.endpoint} · {conditionsText(c.conditions)}
      </p>
      {canAct && (c.allowedActions.length > 0 || outcome) && (
        <div className="cluster-actions">
          {confirming ? (
            <fieldset className="confirm">
              <legend>
                Delete cluster {c.name}? Its {c.members.length} nodes are reset and their machines released
                and wiped.
              </legend>
              <label>
                <input
                  type="radio"
                  name={`wipe-${c.id}`}
                  checked={wipe === 'quick'}
                  onChange={() => setWipe('quick')}
                />{' '}
                Quick wipe (signatures and the first and last MiB of each disk)
              </label>
              <label>
                <input
                  type="radio"
                  name={`wipe-${c.id}`}
                  checked={wipe === 'secure'}
                  onChange={() => setWipe('secure')}
                />{' '}
                Secure wipe (the disk erases itself, else every block is zeroed: hours on large disks)
              </label>
              <button
                type="button"
                className="danger"
                disabled={busy}
                onClick={() => act(`Delete ${c.name}`, () => deleteCluster(client, c.name, wipe))}
              >
                Delete {c.name}
              </button>
              <button type="button" className="ghost" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </fieldset>
          ) : (
            <>
              {c.allowedActions.includes('retry') && (
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => act(`Retry ${c.name}`, () => retryCluster(client, c.name))}
                >
                  Retry
                </button>
              )}
              {c.allowedActions.includes('delete') && (
                <button type="button" className="danger" disabled={busy} onClick={() => setConfirming(true)}>
                  Delete…
                </button>
              )}
              {c.allowedActions.includes('scale') && (
                <ScaleNodes
                  cluster={c.name}
                  kind="workers"
                  current={c.members.filter((m) => m.role === 'worker').length}
                  busy={busy}
                  onScale={(workers, w) =>
                    act(`Scale ${c.name} to ${workers} workers`, () =>
                      scaleCluster(client, c.name, { workers }, w),
                    )
                  }
                />
              )}
              {/* kubeadm with stacked etcd only: the region refuses the others' (docs/day2.md "Scale"). */}
              {c.allowedActions.includes('scale') &&
                c.distribution === 'kubeadm' &&
                !c.members.some((m) => m.role === 'etcd') && (
                  <ScaleNodes
                    cluster={c.name}
                    kind="controlPlanes"
                    current={c.members.filter((m) => m.role === 'init' || m.role === 'control-plane').length}
                    busy={busy}
                    onScale={(controlPlanes, w) =>
                      act(`Scale ${c.name} to ${controlPlanes} control planes`, () =>
                        scaleCluster(client, c.name, { controlPlanes }, w),
                      )
                    }
                  />
                )}
            </>
          )}
          {outcome && (
            <p className={outcome.ok ? 'result ok' : 'result warn'} role="status">
              {outcome.text}
            </p>
          )}
        </div>
      )}
      <table className="table compact" aria-label={`Nodes of ${c.name}`}>
        <thead>
          <tr>
            <th>Node</th>
            <th>Role</th>
            <th>Address</th>
            <th>Machine</th>
            <th>Newest step</th>
          </tr>
        </thead>
        <tbody>
          {c.members.map((m) => {
            const step = steps.get(m.machineId);
            return (
              <tr key={m.machineId}>
                <td>{m.hostname}</td>
                <td>{m.role}</td>
                <td>{m.address}</td>
                <td title={m.stateReason}>{m.state ?? '—'}</td>
                <td className={step?.level === 'error' ? 'error' : undefined}>
                  {step ? `${time(step.at)} ${step.message}` : '—'}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Operations cluster={c.name} tick={tick} onChanged={onChanged} />
      {recent.length > 0 && (
        <details className="cluster-timeline">
          <summary>Newest steps ({events.length} on the timeline)</summary>
          <ol aria-label={`Timeline of ${c.name}`}>
            {recent.map((e) => (
              <li key={e.id} className={`level-${e.level}`}>
                <time dateTime={e.at}>{time(e.at)}</time> {e.message}
              </li>
            ))}
          </ol>
        </details>
      )}
    </article>
  );
}
