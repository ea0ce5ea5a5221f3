import { useCallback, useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { clock } from '../../machines/format.ts';
import {
  addReadings,
  byKind,
  EMPTY_HISTORY,
  formatValue,
  HEALTH,
  type SensorAnswer,
  type SensorHealth,
  type SensorHistory,
} from '../sensors.ts';
import { usePoll } from '../usePoll.ts';
import { Sparkline } from './Sparkline.tsx';

/** Health as a mark and a word; the colour only repeats them. */
function Health({ health }: { health: SensorHealth | undefined }) {
  if (!health) {
    return (
      <span className="subtle" title="The BMC reports no health for this sensor">
        <span aria-hidden="true">—</span>
        <span className="visually-hidden">not reported</span>
      </span>
    );
  }
  const h = HEALTH[health];
  return (
    <span className={`sensor-health tone-${h.tone}`}>
      <span aria-hidden="true">{h.mark}</span> {h.label}
    </span>
  );
}

type Status =
  | { kind: 'loading' }
  | { kind: 'ok' }
  | { kind: 'unsupported'; message: string }
  | { kind: 'error'; message: string };

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The machine's sensors, read from its BMC through the region every `intervalMs`: current
 * readings grouped by kind, with units and health, and a small chart of each since the page
 * opened (the last MAX_POINTS readings, kept here).
 */
export function SensorsPanel({
  load,
  intervalMs = 10_000,
}: {
  load: (signal: AbortSignal) => Promise<SensorAnswer>;
  intervalMs?: number;
}) {
  const [history, setHistory] = useState<SensorHistory>(EMPTY_HISTORY);
  const [status, setStatus] = useState<Status>({ kind: 'loading' });
  const unsupported = status.kind === 'unsupported';

  const run = useCallback(
    async (signal: AbortSignal) => {
      if (unsupported) return;
      try {
        const a = await load(signal);
        if (signal.aborted) return;
        setHistory((h) => addReadings(h, a));
        setStatus({ kind: 'ok' });
      } catch (e) {
        if (signal.aborted) return;
        // 422: this BMC cannot report sensors (or the machine has none); asking again won't help.
        if (e instanceof ApiError && e.status === 422) setStatus({ kind: 'unsupported', message: e.message });
        else setStatus({ kind: 'error', message: message(e) });
      }
    },
    [load, unsupported],
  );
  usePoll(run, { intervalMs, enabled: !unsupported });

  if (status.kind === 'unsupported') {
    return (
      <div className="sensors">
        <p className="empty">No sensor readings: this BMC does not report them.</p>
        <p className="subtle sensor-why">{status.message}</p>
      </div>
    );
  }
  const groups = byKind(history.series);
  const h = HEALTH[history.health];
  const every = `every ${Math.round(intervalMs / 1000)} s`;
  return (
    <div className="sensors">
      <p className="sensor-summary">
        {history.readAt ? (
          <>
            <span className={`badge tone-${h.tone}`}>
              <span aria-hidden="true">{h.mark}</span> System health: {h.label}
            </span>{' '}
            <span className="subtle">
              read at <time dateTime={history.readAt}>{clock(history.readAt)}</time> · {every}
            </span>
          </>
        ) : status.kind === 'loading' ? (
          <span className="subtle">Reading the BMC…</span>
        ) : (
          <span className="subtle">No sensor readings yet; asking the BMC again {every}.</span>
        )}
      </p>
      {/* Always present, so a failed read does not push the table down. */}
      <p className="sensor-note" role="status">
        {status.kind === 'error' &&
          `${history.readAt ? 'The last read failed' : 'Could not read the BMC'}: ${status.message}`}
      </p>
      {groups.length > 0 && (
        <table className="table compact sensor-table">
          <caption className="visually-hidden">Sensor readings from the BMC</caption>
          <colgroup>
            <col />
            <col className="c-value" />
            <col className="c-health" />
            <col className="c-trend" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Sensor</th>
              <th scope="col" className="num">
                Reading
              </th>
              <th scope="col">Health</th>
              <th scope="col">Since opened</th>
            </tr>
          </thead>
          {groups.map((g) => (
            <tbody key={g.kind}>
              <tr className="sensor-group">
                <th scope="colgroup" colSpan={4}>
                  {g.label}
                </th>
              </tr>
              {g.series.map((s) => (
                <tr key={s.key}>
                  <th scope="row" className="sensor-name">
                    {s.name}
                  </th>
                  <td className="num">{formatValue(s.latest.value, s.unit)}</td>
                  <td>
                    <Health health={s.latest.health} />
                  </td>
                  <td className="trend">
                    <Sparkline series={s} />
                  </td>
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      )}
      {history.readAt && groups.length === 0 && <p className="empty">The BMC reports no sensors.</p>}
    </div>
  );
}
