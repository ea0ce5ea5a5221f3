import { useEffect, useState } from 'react';
import type { IpAllocation, Subnet } from '../api/types.ts';
import { Link } from '../app/Link.tsx';
import { useLocation } from '../app/router.ts';
import { useSession } from '../auth/session.tsx';
import { when } from '../machines/format.ts';
import { cidrSize, usage } from './ipam.ts';

export function Subnets() {
  const { client } = useSession();
  const { search } = useLocation();
  const [subnets, setSubnets] = useState<Subnet[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client
      .listSubnets()
      .then(setSubnets)
      .catch((e) => setError(String(e.message ?? e)));
  }, [client]);
  const selectedId = search.get('subnet') ?? subnets?.[0]?.id;
  const selected = subnets?.find((s) => s.id === selectedId || s.name === selectedId) ?? null;

  return (
    <div className="page subnets-page">
      <div className="page-head">
        <h1>Subnets</h1>
        <p className="subtle">
          {subnets ? `${subnets.length} subnet${subnets.length === 1 ? '' : 's'}` : 'Loading…'}
        </p>
      </div>
      {error && (
        <p className="error" role="alert">
          Could not load subnets: {error}
        </p>
      )}
      {subnets && subnets.length === 0 && (
        <p className="empty">
          No subnets yet. An admin creates them with `ingot subnet add` or POST /api/v1/subnets.
        </p>
      )}
      {subnets && subnets.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Subnets</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">CIDR</th>
              <th scope="col">VLAN</th>
              <th scope="col">Gateway</th>
              <th scope="col">DNS</th>
              <th scope="col">DHCP</th>
              <th scope="col">Ranges</th>
            </tr>
          </thead>
          <tbody>
            {subnets.map((s) => (
              <tr key={s.id} aria-current={s.id === selected?.id ? 'true' : undefined}>
                <th scope="row">
                  <Link href={`/subnets?subnet=${encodeURIComponent(s.id)}`}>{s.name}</Link>
                </th>
                <td className="mono">{s.cidr}</td>
                <td className="num">{s.vlan ?? '—'}</td>
                <td className="mono">{s.gateway ?? '—'}</td>
                <td className="mono">{s.dns.join(', ') || '—'}</td>
                <td>
                  {s.dhcpMode}
                  {s.autoEnlist ? ' · auto-enlist' : ''}
                </td>
                <td className="num">{s.ranges.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected && <SubnetDetail subnet={selected} />}
    </div>
  );
}

function SubnetDetail({ subnet }: { subnet: Subnet }) {
  const { client } = useSession();
  const [addresses, setAddresses] = useState<IpAllocation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setAddresses(null);
    client
      .subnetAddresses(subnet.id)
      .then(setAddresses)
      .catch((e) => setError(String(e.message ?? e)));
  }, [client, subnet.id]);
  const rows = usage(subnet.ranges, addresses ?? []);
  const leases = addresses?.filter((a) => a.kind === 'dhcp') ?? [];
  const statics = addresses?.filter((a) => a.kind === 'static') ?? [];

  return (
    <section className="card subnet-detail" aria-labelledby="subnet-h">
      <h2 id="subnet-h">
        {subnet.name} <span className="subtle mono">{subnet.cidr}</span>
        <span className="subtle"> · {cidrSize(subnet.cidr).toLocaleString()} addresses</span>
      </h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <h3>Ranges</h3>
      {rows.length === 0 ? (
        <p className="empty">No ranges: nothing is handed out by DHCP and nothing is held back.</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Start</th>
              <th scope="col">End</th>
              <th scope="col">Size</th>
              <th scope="col">In use</th>
              <th scope="col">Comment</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ range, size, used }) => (
              <tr key={`${range.start}-${range.end}`}>
                <td>{range.kind === 'dynamic' ? 'Dynamic (DHCP)' : 'Reserved'}</td>
                <td className="mono">{range.start}</td>
                <td className="mono">{range.end}</td>
                <td className="num">{size.toLocaleString()}</td>
                <td>
                  <meter min={0} max={size || 1} value={used} aria-label={`${used} of ${size} in use`} />{' '}
                  {used} of {size}
                </td>
                <td>{range.comment ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddressTable
        title={`DHCP leases (${leases.length})`}
        rows={leases}
        loading={addresses === null}
        empty="No leases."
      />
      <AddressTable
        title={`Static assignments (${statics.length})`}
        rows={statics}
        loading={addresses === null}
        empty="No static assignments."
      />
    </section>
  );
}

function AddressTable({
  title,
  rows,
  loading,
  empty,
}: {
  title: string;
  rows: IpAllocation[];
  loading: boolean;
  empty: string;
}) {
  return (
    <>
      <h3>{title}</h3>
      {loading ? (
        <p className="subtle">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="empty">{empty}</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Address</th>
              <th scope="col">MAC</th>
              <th scope="col">Machine</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.ip}>
                <td className="mono">{a.ip}</td>
                <td className="mono">{a.mac ?? '—'}</td>
                <td>{a.machineId ? <Link href={`/machines/${a.machineId}`}>{a.machineId}</Link> : '—'}</td>
                <td>{a.expiresAt ? when(a.expiresAt) : 'never'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
