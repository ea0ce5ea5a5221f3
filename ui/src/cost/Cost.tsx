/**
 * Cost and capacity: the region's monthly cost against cloud VMs and managed Kubernetes, with
 * a chart (POST /cost, the documented default model), and the capacity — charted — of a running
 * cluster (GET /capacity?cluster=, live requests) or of a Cluster file planned onto the ready
 * machines (POST /capacity). All write nothing: a viewer may use them.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { useSession } from '../auth/session.tsx';
import { SAMPLE_CLUSTER } from '../clusters/sample.ts';
import {
  type ClusterCapacity,
  type CostEstimate,
  clusterCapacity,
  estimateCost,
  runningCapacity,
  runningClusters,
} from './api.ts';
import { CapacityChart } from './CapacityChart.tsx';
import { money } from './chart.ts';
import { CostChart } from './CostChart.tsx';
import './cost.css';

const WINDOWS = [7, 30, 90];

/** The Clusters page's draft (this tab), so the file being planned there is the one checked here. */
function clusterDraft(): string {
  try {
    return sessionStorage.getItem('ingot.cluster-file') ?? SAMPLE_CLUSTER;
  } catch {
    return SAMPLE_CLUSTER;
  }
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const pct = (n: number) => `${Math.round(n * 100)}%`;
const num = (n: number) => String(Math.round(n * 10) / 10);

function CostView({ e }: { e: CostEstimate }) {
  const r = e.region;
  const c = e.currency;
  return (
    <>
      <p className="hint">
        {r.machines} machines, {r.vcpus} vCPUs, {Math.round(r.memoryGiB)} GiB. Prices: {e.priceTable}. Power
        from {r.measuredWatts} machines’ BMC readings, {r.nominalWatts} at nominal watts.
      </p>
      <CostChart scope={r} currency={c} />
      <table className="data" aria-label="Monthly cost by option">
        <thead>
          <tr>
            <th scope="col">Option</th>
            <th scope="col">Per month</th>
            <th scope="col">Per vCPU-month</th>
            <th scope="col">Per GiB-month</th>
            <th scope="col">Bare metal breaks even</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">bare metal</th>
            <td>{money(r.bareMetal.total, c)}</td>
            <td>{money(r.bareMetal.perVcpuMonth, c)}</td>
            <td>{money(r.bareMetal.perGiBMonth, c)}</td>
            <td>upfront {money(r.bareMetal.upfront, c)}</td>
          </tr>
          {r.options.map((o) => (
            <tr key={`${o.kind} ${o.term}`}>
              <th scope="row">
                {o.kind} {o.term}
              </th>
              <td>{money(o.total, c)}</td>
              <td>{money(o.perVcpuMonth, c)}</td>
              <td>{money(o.perGiBMonth, c)}</td>
              <td>{o.breakevenMonth === null ? 'never' : `month ${o.breakevenMonth}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Dominant inputs:{' '}
        {r.dominant
          .slice(0, 3)
          .map((d) => `${d.input} ${pct(d.share)}`)
          .join(', ') || '–'}
      </p>
      {(e.unfit.length > 0 || e.unpriced.length > 0 || e.notes.length > 0) && (
        <ul className="cost-notes" aria-label="Notes on the estimate">
          {e.unfit.map((u) => (
            <li key={`u-${u.hostname}`}>
              No instance fits <strong>{u.hostname}</strong>: {u.reason}
            </li>
          ))}
          {e.unpriced.map((u) => (
            <li key={`p-${u.hostname}`}>
              <strong>{u.hostname}</strong> is not priced: {u.reason}
            </li>
          ))}
          {e.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <table className="data" aria-label="Monthly cost by pool">
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <th scope="col">Machines</th>
            <th scope="col">Bare metal</th>
            <th scope="col">Cloud VMs on demand</th>
          </tr>
        </thead>
        <tbody>
          {e.pools.map((p) => (
            <tr key={p.name}>
              <th scope="row">{p.name}</th>
              <td>{p.machines}</td>
              <td>{money(p.bareMetal.total, c)}</td>
              <td>{money(p.options[0]?.total, c)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function CapacityView({ c }: { c: ClusterCapacity }) {
  const loss = (l: ClusterCapacity['pools'][number]['worst']['zone']) =>
    l
      ? `${l.name}: ${l.holds ? 'holds' : 'short'} (${num(l.headroom.cpu)} CPU, ${num(l.headroom.memoryGiB)} GiB)`
      : '–';
  return (
    <>
      <p className="hint">
        Cluster {c.cluster}: requests from {c.requestsKind} ({c.requestsBasis}).
      </p>
      <CapacityChart c={c} />
      <table className="data" aria-label="Capacity by pool">
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <th scope="col">Nodes</th>
            <th scope="col">Allocatable</th>
            <th scope="col">Requested</th>
            <th scope="col">Losing the largest zone</th>
            <th scope="col">Losing the largest rack</th>
            <th scope="col">Spare ready by zone</th>
          </tr>
        </thead>
        <tbody>
          {c.pools.map((p) => (
            <tr key={p.pool}>
              <th scope="row">{p.pool}</th>
              <td>{p.nodes}</td>
              <td>
                {num(p.allocatable.cpu)} CPU, {num(p.allocatable.memoryGiB)} GiB
              </td>
              <td>
                {num(p.requested.cpu)} CPU, {num(p.requested.memoryGiB)} GiB
              </td>
              <td>{loss(p.worst.zone)}</td>
              <td>{loss(p.worst.rack)}</td>
              <td>
                {p.spares
                  .filter((s) => s.domain === 'zone')
                  .map((s) => `${s.name}: ${s.ready}`)
                  .join(', ') || '–'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul aria-label="Recommendations">
        {c.recommendations.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
    </>
  );
}

export function Cost() {
  const { client } = useSession();
  const [windowDays, setWindowDays] = useState(30);
  const [estimate, setEstimate] = useState<CostEstimate | null>(null);
  const [costError, setCostError] = useState<string | null>(null);
  const [text, setText] = useState(clusterDraft);
  const [capacity, setCapacity] = useState<ClusterCapacity | null>(null);
  const [capError, setCapError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [clusters, setClusters] = useState<string[]>([]);
  const [running, setRunning] = useState('');

  useEffect(() => {
    const ac = new AbortController();
    runningClusters(client, ac.signal).then(
      (names) => {
        setClusters(names);
        setRunning((r) => r || names[0] || '');
      },
      () => undefined,
    );
    return () => ac.abort();
  }, [client]);

  useEffect(() => {
    const ac = new AbortController();
    setCostError(null);
    estimateCost(client, windowDays, ac.signal).then(setEstimate, (e: unknown) => {
      if ((e as Error).name !== 'AbortError') setCostError(messageOf(e));
    });
    return () => ac.abort();
  }, [client, windowDays]);

  const check = async (ev: FormEvent, ask: () => Promise<ClusterCapacity>) => {
    ev.preventDefault();
    setBusy(true);
    setCapError(null);
    try {
      setCapacity(await ask());
    } catch (e) {
      setCapacity(null);
      setCapError(e instanceof ApiError ? e.message.split('\n').slice(0, 4).join('\n') : messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page cost-page">
      <h1>Cost and capacity</h1>
      <section aria-labelledby="cost-heading">
        <h2 id="cost-heading">Monthly cost</h2>
        <label>
          Average BMC power over{' '}
          <select value={windowDays} onChange={(e) => setWindowDays(Number(e.target.value))}>
            {WINDOWS.map((d) => (
              <option key={d} value={d}>
                {d} days
              </option>
            ))}
          </select>
        </label>
        <p className="hint">
          The documented default model (docs/cost.md); <code>ingot cost --model FILE</code> prices with your
          own.
        </p>
        {costError && <p role="alert">{costError}</p>}
        {estimate ? <CostView e={estimate} /> : !costError && <p>Estimating…</p>}
      </section>
      <section aria-labelledby="capacity-heading">
        <h2 id="capacity-heading">Capacity</h2>
        {clusters.length > 0 && (
          <form onSubmit={(ev) => check(ev, () => runningCapacity(client, running))}>
            <label>
              Running cluster{' '}
              <select value={running} onChange={(e) => setRunning(e.target.value)}>
                {clusters.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>{' '}
            <button type="submit" disabled={busy || !running}>
              Check running cluster
            </button>
            <p className="hint">
              Requests from the cluster’s Kubernetes API (the Cluster file’s minimums when it does not
              answer).
            </p>
          </form>
        )}
        <form onSubmit={(ev) => check(ev, () => clusterCapacity(client, text))}>
          <label htmlFor="capacity-file">Cluster file for capacity (YAML)</label>
          <textarea
            id="capacity-file"
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={10}
            spellCheck={false}
          />
          <button type="submit" disabled={busy}>
            Check capacity
          </button>
        </form>
        {capError && <p role="alert">{capError}</p>}
        {capacity && <CapacityView c={capacity} />}
      </section>
    </div>
  );
}
