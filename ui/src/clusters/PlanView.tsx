/** A plan, read by failure domain: summary, nodes by zone and rack, and the what-if table. */
import { Link } from '../app/Link.tsx';
import type { ClusterPlan, WhatIfRow } from './api.ts';
import { groupByDomain, lostText, ROLE_LABEL, tolerance } from './domains.ts';

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Kept/LOST, up/DOWN: words first, colour as a second cue. */
function Verdict({ ok, label }: { ok: boolean; label: string }) {
  return (
    <span className={`badge tone-${ok ? 'ok' : 'error'}`}>
      <span aria-hidden="true">{ok ? '✓' : '✗'}</span>
      {label}
    </span>
  );
}

export function PlanSummary({ plan }: { plan: ClusterPlan }) {
  const roles = (['control-plane', 'etcd', 'worker'] as const)
    .map((r) => [r, plan.nodes.filter((n) => n.role === r).length] as const)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => plural(n, ROLE_LABEL[r].toLowerCase()))
    .join(', ');
  return (
    <section className="card" aria-labelledby="plan-summary-h">
      <h2 id="plan-summary-h">
        Cluster {plan.cluster} <span className="subtle">· {plan.nodes.length} nodes</span>
      </h2>
      <dl className="facts">
        <dt>Distribution</dt>
        <dd>
          {plan.distribution} {plan.version}
        </dd>
        <dt>API endpoint</dt>
        <dd className="mono">{plan.endpoint}</dd>
        <dt>etcd</dt>
        <dd>
          {plan.etcd.topology}, {plural(plan.etcd.members.length, 'member')}, quorum {plan.etcd.quorum}
          {plan.etcd.members.length > 0 && <span className="subtle">: {plan.etcd.members.join(', ')}</span>}
        </dd>
        <dt>Nodes</dt>
        <dd>{roles || 'none'}</dd>
        {tolerance(plan).map((t) => (
          <Tolerates key={t.domain} domain={t.domain} total={t.total} fatal={t.fatal} />
        ))}
      </dl>
      {plan.warnings.length > 0 && (
        <ul className="notice plan-warnings">
          {plan.warnings.map((w) => (
            <li key={w}>Warning: {w}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Tolerates({ domain, total, fatal }: { domain: string; total: number; fatal: string[] }) {
  return (
    <>
      <dt>Loss of one {domain}</dt>
      <dd>
        {total === 0 ? (
          <span className="subtle">no {domain}s</span>
        ) : fatal.length === 0 ? (
          <>
            <Verdict ok label="survived" /> any one of {plural(total, domain)}: etcd keeps quorum, the API
            stays up
          </>
        ) : (
          <>
            <Verdict ok={false} label="not survived" /> losing {domain} {fatal.join(', ')} loses etcd quorum
            or the API
          </>
        )}
      </dd>
    </>
  );
}

export function NodesByDomain({ plan }: { plan: ClusterPlan }) {
  const zones = groupByDomain(plan.nodes);
  return (
    <section className="card" aria-labelledby="plan-nodes-h">
      <h2 id="plan-nodes-h">Nodes by failure domain</h2>
      {zones.length === 0 && <p className="empty">The plan has no nodes.</p>}
      <div className="plan-zones">
        {zones.map((z) => (
          <section key={z.zone} className="plan-zone" aria-labelledby={`plan-zone-${z.zone}`}>
            <h3 id={`plan-zone-${z.zone}`}>
              Zone {z.zone}{' '}
              <span className="subtle">
                · {plural(z.racks.length, 'rack')}, {plural(z.count, 'node')}
              </span>
            </h3>
            <table className="table compact">
              <caption className="visually-hidden">Nodes in zone {z.zone}, by rack</caption>
              <thead>
                <tr>
                  <th scope="col">Rack</th>
                  <th scope="col">Hostname</th>
                  <th scope="col">Role</th>
                  <th scope="col">Pool</th>
                  <th scope="col">Address</th>
                </tr>
              </thead>
              {z.racks.map((r) => (
                <tbody key={r.rack} className="plan-rack">
                  {r.nodes.map((n, i) => (
                    <tr key={n.machineId}>
                      {i === 0 && (
                        <th scope="rowgroup" rowSpan={r.nodes.length}>
                          {r.rack}
                        </th>
                      )}
                      <td>
                        <Link href={`/machines/${encodeURIComponent(n.machineId)}`}>{n.hostname}</Link>
                      </td>
                      <td>
                        {ROLE_LABEL[n.role]}
                        {n.init && <span className="subtle"> (init)</span>}
                      </td>
                      {/* Control planes and etcd nodes have no worker pool (their pool is their role). */}
                      <td>{n.role === 'worker' ? n.pool : '—'}</td>
                      <td className="mono">{n.address}</td>
                    </tr>
                  ))}
                </tbody>
              ))}
            </table>
          </section>
        ))}
      </div>
    </section>
  );
}

function WhatIfLine({ r }: { r: WhatIfRow }) {
  return (
    <tr className={r.quorum && r.apiAvailable ? undefined : 'whatif-fatal'}>
      <th scope="row">
        {r.domain === 'zone' ? 'Zone' : 'Rack'} {r.name}
      </th>
      <td>{lostText(r)}</td>
      <td className="num">
        {r.etcdSurvivors} of {r.etcdMembers}
      </td>
      <td>
        <Verdict ok={r.quorum} label={r.quorum ? 'kept' : 'LOST'} />
      </td>
      <td>
        <Verdict ok={r.apiAvailable} label={r.apiAvailable ? 'up' : 'DOWN'} />
      </td>
      <td className="num">
        {r.workersSurviving} of {r.workersTotal}
      </td>
    </tr>
  );
}

export function WhatIfTable({ plan }: { plan: ClusterPlan }) {
  return (
    <section className="card" aria-labelledby="plan-whatif-h">
      <h2 id="plan-whatif-h">What survives the loss of each zone or rack</h2>
      {plan.whatIf.length === 0 ? (
        <p className="empty">No failure domains: the plan has no nodes.</p>
      ) : (
        <table className="table whatif">
          <caption className="visually-hidden">
            For each zone and rack: what its loss takes, etcd members left, quorum, API, workers left
          </caption>
          <thead>
            <tr>
              <th scope="col">If this is lost</th>
              <th scope="col">Nodes lost</th>
              <th scope="col" className="num">
                etcd members left
              </th>
              <th scope="col">etcd quorum</th>
              <th scope="col">API</th>
              <th scope="col" className="num">
                Workers left
              </th>
            </tr>
          </thead>
          <tbody>
            {plan.whatIf.map((r) => (
              <WhatIfLine key={`${r.domain}/${r.name}`} r={r} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
