/**
 * Machines laid out by zone and rack. Each machine is a tile coloured by state, carrying the
 * state's two-letter code as text (colour is never the only signal) and a full label for
 * screen readers; a tile is a link to the machine.
 */
import { useMemo } from 'react';
import { Link } from '../app/Link.tsx';
import { useSession } from '../auth/session.tsx';
import { EMPTY } from '../machines/filters.ts';
import { POWER, STATE_ORDER, STATES } from '../machines/labels.ts';
import { useMachineList } from '../machines/useMachineList.ts';
import { LiveIndicator } from '../ui/LiveIndicator.tsx';
import { layoutRacks } from './layout.ts';

export function Racks() {
  const { client } = useSession();
  const list = useMachineList(client, EMPTY);
  const zones = useMemo(() => layoutRacks(list.machines), [list.machines]);
  const present = useMemo(() => new Set(list.machines.map((m) => m.state)), [list.machines]);

  return (
    <div className="page racks-page">
      <div className="page-head">
        <h1>Racks</h1>
        <p className="subtle">
          {list.total === null
            ? 'Loading…'
            : `${zones.length} zone${zones.length === 1 ? '' : 's'} · ${zones.reduce((s, z) => s + z.racks.length, 0)} racks · ${list.machines.length.toLocaleString()} machines`}
        </p>
        <LiveIndicator status={list.stream} />
      </div>
      <ul className="legend" aria-label="Legend">
        {STATE_ORDER.filter((s) => present.has(s)).map((s) => (
          <li key={s}>
            <span className={`tile-swatch tone-${STATES[s].tone}`} aria-hidden="true">
              {STATES[s].short}
            </span>{' '}
            {STATES[s].label}
          </li>
        ))}
      </ul>
      {list.error && (
        <p className="error" role="alert">
          Could not load machines: {list.error}
        </p>
      )}
      {zones.map((z) => (
        <section key={z.zone} className="zone" id={`zone-${z.zone}`} aria-labelledby={`zone-h-${z.zone}`}>
          <h2 id={`zone-h-${z.zone}`}>
            Zone {z.zone} <span className="subtle">· {z.count} machines</span>
          </h2>
          <div className="racks">
            {z.racks.map((r) => (
              <section
                key={r.rack}
                className={`rack${r.unhealthy ? ' rack-unhealthy' : ''}`}
                aria-label={`Rack ${r.rack}`}
              >
                <h3>
                  <Link
                    href={`/machines?zone=${encodeURIComponent(z.zone)}&rack=${encodeURIComponent(r.rack)}`}
                  >
                    {r.rack}
                  </Link>
                  <span className="subtle">
                    {r.machines.length}
                    {r.unhealthy > 0 && <span className="text-error"> · {r.unhealthy} unhealthy</span>}
                  </span>
                </h3>
                <ul className="tiles">
                  {r.machines.map((m) => (
                    <li key={m.id}>
                      <Link
                        href={`/machines/${m.id}`}
                        className={`tile tone-${STATES[m.state].tone}`}
                        aria-label={`${m.hostname}: ${STATES[m.state].label}, power ${POWER[m.powerState].label.toLowerCase()}`}
                        title={`${m.hostname} — ${STATES[m.state].label}, power ${POWER[m.powerState].label.toLowerCase()}${m.stateReason ? `: ${m.stateReason}` : ''}`}
                      >
                        <span aria-hidden="true">{STATES[m.state].short}</span>
                        {m.powerState === 'on' && <span className="tile-power" aria-hidden="true" />}
                      </Link>
                    </li>
                  ))}
                </ul>
              </section>
            ))}
          </div>
        </section>
      ))}
      {list.total === 0 && (
        <p className="empty">No machines yet. Enrol one with `ingot machine add` or POST /api/v1/machines.</p>
      )}
    </div>
  );
}
