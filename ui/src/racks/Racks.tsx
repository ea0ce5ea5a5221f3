/**
 * Machines laid out by zone and rack. Each machine is a tile coloured by state, carrying the
 * state's two-letter code as text (colour is never the only signal) and a full label for
 * screen readers; a tile is a link to the machine.
 */
import { useCallback, useMemo, useState } from 'react';
import { Link } from '../app/Link.tsx';
import { useSession } from '../auth/session.tsx';
import { EMPTY } from '../machines/filters.ts';
import { POWER, STATE_ORDER, STATES } from '../machines/labels.ts';
import { useMachineList } from '../machines/useMachineList.ts';
import { LiveIndicator } from '../ui/LiveIndicator.tsx';
import { usePoll } from '../machine/usePoll.ts';
import { HEAT_MODES, type HeatMode, heatOf, type RegionHealth, rackHeat } from './heat.ts';
import { layoutRacks } from './layout.ts';

export function Racks() {
  const { client } = useSession();
  const list = useMachineList(client, EMPTY);
  const zones = useMemo(() => layoutRacks(list.machines), [list.machines]);
  const present = useMemo(() => new Set(list.machines.map((m) => m.state)), [list.machines]);
  const [mode, setMode] = useState<HeatMode>('state');
  const [health, setHealth] = useState<RegionHealth>({ machines: [], disksAtRisk: [] });
  const loadHealth = useCallback(
    async (signal: AbortSignal) => {
      try {
        const h = await client.request<RegionHealth>('GET', '/health', undefined, signal);
        if (!signal.aborted) setHealth(h);
      } catch {
        // The heat map stays as it was; the state view does not need it.
      }
    },
    [client],
  );
  usePoll(loadHealth, { intervalMs: 60_000, enabled: true });
  const byId = useMemo(() => new Map(health.machines.map((h) => [h.machine, h])), [health]);
  const maxWatts = useMemo(() => Math.max(0, ...health.machines.map((h) => h.watts ?? 0)), [health]);

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
      <label className="heat-mode">
        Colour by{' '}
        <select value={mode} onChange={(e) => setMode(e.target.value as HeatMode)}>
          {HEAT_MODES.map((h) => (
            <option key={h.mode} value={h.mode}>
              {h.label}
            </option>
          ))}
        </select>
      </label>
      {mode !== 'state' && (
        <p className="subtle">
          {mode === 'temperature'
            ? 'Hottest sensor per machine in °C: green below 60, amber from 60, red from 80.'
            : `Power per machine in watts: amber from half the highest draw (${Math.round(maxWatts)} W), red from 80 %.`}{' '}
          ? = BMC not answering, · = not polled yet.
        </p>
      )}
      <ul className="legend" aria-label="Legend" hidden={mode !== 'state'}>
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
                <RackFigures
                  heat={rackHeat(
                    r.machines.map((m) => m.id),
                    byId,
                    health.disksAtRisk,
                  )}
                />
                <ul className="tiles">
                  {r.machines.map((m) => (
                    <li key={m.id}>
                      {mode === 'state' ? (
                        <Link
                          href={`/machines/${m.id}`}
                          className={`tile tone-${STATES[m.state].tone}`}
                          aria-label={`${m.hostname}: ${STATES[m.state].label}, power ${POWER[m.powerState].label.toLowerCase()}`}
                          title={`${m.hostname} — ${STATES[m.state].label}, power ${POWER[m.powerState].label.toLowerCase()}${m.stateReason ? `: ${m.stateReason}` : ''}`}
                        >
                          <span aria-hidden="true">{STATES[m.state].short}</span>
                          {m.powerState === 'on' && <span className="tile-power" aria-hidden="true" />}
                        </Link>
                      ) : (
                        (() => {
                          const h = heatOf(mode, byId.get(m.id), maxWatts);
                          return (
                            <Link
                              href={`/machines/${m.id}`}
                              className={`tile tone-${h.tone}`}
                              aria-label={`${m.hostname}: ${h.label}`}
                              title={`${m.hostname} — ${h.label}`}
                            >
                              <span aria-hidden="true">{h.text}</span>
                            </Link>
                          );
                        })()
                      )}
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

/** A rack's hottest machine, power drawn and disks at risk, when the health poller has them. */
function RackFigures({ heat }: { heat: ReturnType<typeof rackHeat> }) {
  if (heat.hottest === null && heat.watts === 0 && heat.disksAtRisk.length === 0 && heat.unanswered === 0)
    return null;
  return (
    <div className="rack-figures subtle">
      {heat.hottest !== null && <span>hottest {Math.round(heat.hottest)} °C</span>}
      {heat.watts > 0 && <span> · {(heat.watts / 1000).toFixed(1)} kW</span>}
      {heat.unanswered > 0 && <span className="text-error"> · {heat.unanswered} BMC not answering</span>}
      {heat.disksAtRisk.length > 0 && (
        <ul className="rack-risks text-error" aria-label="Disks at risk">
          {heat.disksAtRisk.map((d) => (
            <li key={`${d.machine}/${d.serial}`}>
              {d.hostname} {d.device}: {d.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
