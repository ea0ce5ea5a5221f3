import type { Machine } from '../../api/types.ts';
import { bytes } from '../../machines/format.ts';

export function Inventory({ m }: { m: Machine }) {
  const noInventory = !m.cpu && m.memoryBytes === null && m.disks.length === 0;
  return (
    <div className="inventory">
      {noInventory && <p className="empty">No hardware inventory yet: commissioning collects it.</p>}
      <dl className="facts">
        <dt>Architecture</dt>
        <dd>{m.arch}</dd>
        <dt>CPU</dt>
        <dd>
          {m.cpu
            ? `${m.cpu.model ?? 'unknown model'} · ${m.cpu.cores} cores${m.cpu.threads ? ` / ${m.cpu.threads} threads` : ''}`
            : '—'}
        </dd>
        <dt>Memory</dt>
        <dd>{bytes(m.memoryBytes)}</dd>
      </dl>
      <h3>Disks</h3>
      {m.disks.length === 0 ? (
        <p className="empty">None reported.</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Model</th>
              <th scope="col">Serial</th>
              <th scope="col">Type</th>
            </tr>
          </thead>
          <tbody>
            {m.disks.map((d) => (
              <tr key={d.name}>
                <td>{d.name}</td>
                <td className="num">{bytes(d.sizeBytes)}</td>
                <td>{d.model ?? '—'}</td>
                <td>{d.serial ?? '—'}</td>
                <td>{d.rotational === undefined ? '—' : d.rotational ? 'HDD' : 'SSD'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Network interfaces</h3>
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col">MAC</th>
            <th scope="col">Name</th>
            <th scope="col">Driver</th>
            <th scope="col">Speed</th>
            <th scope="col">Boot</th>
          </tr>
        </thead>
        <tbody>
          {m.nics.map((n) => (
            <tr key={n.mac}>
              <td className="mono">{n.mac}</td>
              <td>{n.name ?? '—'}</td>
              <td>{n.driver ?? '—'}</td>
              <td className="num">{n.speedMbps ? `${n.speedMbps.toLocaleString()} Mb/s` : '—'}</td>
              <td>{n.boot ? 'PXE boot' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
