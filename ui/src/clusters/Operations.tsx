/**
 * A cluster's day-2 operations (docs/day2.md "Operations"): the current one open — its state and
 * why (who paused it, the node and reason it halted on), the etcd snapshot, and every node with
 * its state, the last sub-step it finished and its message — and the past ones folded below.
 * Operators get the controls the operation's state allows (pause, resume, abort).
 */
import { useEffect, useState } from 'react';
import { useCan, useSession } from '../auth/session.tsx';
import { type ClusterOperation, clusterOperations, controlOperation, type OperationControl } from './api.ts';

/** The controls each state allows (core/operation.ts CONTROL_RULES). */
const CONTROLS: Record<string, OperationControl[]> = {
  running: ['pause', 'abort'],
  paused: ['resume', 'abort'],
};

/** A control-plane scale and a remediation's replacement run to their end: no abort offered (the region refuses it). */
const abortable = (op: ClusterOperation) =>
  op.kind !== 'remediate' && !(op.kind === 'scale' && op.params.scale?.controlPlanes);

const time = (at: string | null) => (at ? at.slice(11, 19) : '—');

function summary(o: ClusterOperation): string {
  const changes = o.params.changes.map((c) => (c.to === null ? `−${c.flag}` : `${c.flag}=${c.to}`));
  return `${o.kind}${changes.length ? ` (${changes.join(', ')})` : ''}`;
}

function snapshotText(s: ClusterOperation['progress']['snapshot']): string {
  if (s.state === 'done') return `etcd snapshot ${s.id ?? ''} on ${s.node ?? '?'}`;
  if (s.state === 'skipped') return `no etcd snapshot: ${s.note ?? 'skipped'}`;
  return 'etcd snapshot pending';
}

function OperationView({ op, cluster }: { op: ClusterOperation; cluster: string }) {
  return (
    <>
      <p>
        <span className={`state state-op-${op.state}`}>{op.state}</span> {op.reason}
      </p>
      <p className="subtle">
        {snapshotText(op.progress.snapshot)} · started {op.createdAt.slice(0, 19).replace('T', ' ')} by{' '}
        {op.actor}
        {op.finishedAt ? ` · ended ${time(op.finishedAt)}` : ''}
      </p>
      <table className="table compact" aria-label={`Progress of ${op.kind} ${op.id} on ${cluster}`}>
        <thead>
          <tr>
            <th>Node</th>
            <th>Role</th>
            <th>State</th>
            <th>Step done</th>
            <th>Why</th>
            <th>Started</th>
            <th>Ended</th>
          </tr>
        </thead>
        <tbody>
          {op.progress.nodes.map((n) => (
            <tr key={n.hostname} className={n.state === 'failed' ? 'error' : undefined}>
              <td>{n.hostname}</td>
              <td>{n.role}</td>
              <td>{n.state}</td>
              <td>{n.step ?? '—'}</td>
              <td>{n.message ?? '—'}</td>
              <td>{time(n.startedAt)}</td>
              <td>{time(n.endedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

interface Props {
  cluster: string;
  /** Changes on every refresh of the list: the operations are read again. */
  tick: number;
  onChanged: () => void;
}

export function Operations({ cluster, tick, onChanged }: Props) {
  const { client } = useSession();
  const canAct = useCan('operator');
  const [ops, setOps] = useState<ClusterOperation[]>([]);
  const [outcome, setOutcome] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-reads the operations on each refresh
  useEffect(() => {
    const ac = new AbortController();
    clusterOperations(client, cluster, ac.signal).then(setOps, () => undefined);
    return () => ac.abort();
  }, [client, cluster, tick]);

  if (ops.length === 0) return null;
  const [newest, ...older] = ops;
  const active = newest.state === 'running' || newest.state === 'paused';
  const past = active ? older : ops;
  const control = async (c: OperationControl) => {
    setOutcome(null);
    try {
      const op = await controlOperation(client, cluster, c);
      setOps((xs) => xs.map((x) => (x.id === op.id ? op : x)));
      onChanged();
    } catch (e) {
      setOutcome(`${c} refused: ${(e as Error).message ?? String(e)}`);
    }
  };
  return (
    <section className="cluster-operations" aria-label={`Operations of ${cluster}`}>
      {active && (
        <>
          <h4>Current operation: {summary(newest)}</h4>
          <OperationView op={newest} cluster={cluster} />
          {canAct && (
            <div className="cluster-actions">
              {CONTROLS[newest.state]
                .filter((c) => c !== 'abort' || abortable(newest))
                .map((c) => (
                  <button
                    key={c}
                    type="button"
                    className={c === 'abort' ? 'danger' : undefined}
                    onClick={() => control(c)}
                  >
                    {c[0].toUpperCase() + c.slice(1)} {newest.kind}
                  </button>
                ))}
              {outcome && (
                <p className="result warn" role="status">
                  {outcome}
                </p>
              )}
            </div>
          )}
        </>
      )}
      {past.length > 0 && (
        <details className="cluster-timeline" open={!active && past[0].state === 'failed'}>
          <summary>Past operations ({past.length})</summary>
          {past.map((o) => (
            <div key={o.id} className="past-operation">
              <h5>
                {summary(o)} · {o.id}
              </h5>
              <OperationView op={o} cluster={cluster} />
            </div>
          ))}
        </details>
      )}
    </section>
  );
}
