import { useCallback, useState } from 'react';
import { clock } from '../../machines/format.ts';
import {
  type DiskRow,
  diskPlotLabel,
  diskRows,
  type HealthAnswer,
  healthPlots,
  plotLabel,
  reachability,
} from '../health.ts';
import { formatValue } from '../sensors.ts';
import { usePoll } from '../usePoll.ts';
import { Sparkline } from './Sparkline.tsx';

const W = 320;
const H = 56;

const count = (n: number | null) => (n === null ? '—' : n.toLocaleString('en'));

function Verdict({ d }: { d: DiskRow }) {
  if (d.latest.passed === null) return <span className="subtle">not reported</span>;
  return d.latest.passed ? (
    <span className="sensor-health tone-ok">
      <span aria-hidden="true">✓</span> passed
    </span>
  ) : (
    <span className="sensor-health tone-error">
      <span aria-hidden="true">✗</span> failure predicted
    </span>
  );
}

/**
 * The machine's hardware health over the last `hours`, as the region's health poller kept it:
 * plots of the hottest temperature and the power draw (gaps where the BMC did not answer), how
 * often it did not and why, and each disk's SMART counters with their rise since the first
 * report and small plots of them over its reports. Read again every `intervalMs`.
 */
export function HealthHistoryPanel({
  load,
  hours = 24,
  intervalMs = 60_000,
}: {
  load: (signal: AbortSignal) => Promise<HealthAnswer>;
  hours?: number;
  intervalMs?: number;
}) {
  const [answer, setAnswer] = useState<HealthAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (signal: AbortSignal) => {
      try {
        const a = await load(signal);
        if (signal.aborted) return;
        setAnswer(a);
        setError(null);
      } catch (e) {
        if (!signal.aborted) setError(e instanceof Error ? e.message : String(e));
      }
    },
    [load],
  );
  usePoll(run, { intervalMs, enabled: true });

  if (!answer)
    return <p className="subtle">{error ? `Could not read the health history: ${error}` : 'Loading…'}</p>;
  const plots = healthPlots(answer.samples);
  const r = reachability(answer.samples);
  const disks = diskRows(answer.disks);
  const last = answer.samples.at(-1);
  return (
    <div className="health-history">
      <p className="sensor-summary">
        {r.polls === 0 ? (
          <span className="subtle">
            No health polls in the last {hours} h: the region polls machines with a BMC.
          </span>
        ) : (
          <>
            {r.polls} polls in the last {hours} h
            {last && (
              <span className="subtle">
                {' '}
                · last at <time dateTime={last.at}>{clock(last.at)}</time>
              </span>
            )}
            {r.unanswered > 0 && (
              <span className="text-error">
                {' '}
                · the BMC did not answer {r.unanswered}: {r.lastError}
              </span>
            )}
          </>
        )}
      </p>
      {plots.map((p) => (
        <figure key={p.key} className="health-plot">
          <figcaption>
            {p.label} <span className="subtle">{formatValue(p.latest, p.unit)}</span>
          </figcaption>
          <Sparkline values={p.values} label={plotLabel(p, hours)} width={W} height={H} />
        </figure>
      ))}
      {disks.length === 0 ? (
        <p className="empty">
          No SMART reports yet: commissioning reads the disks, and a deployed node's agent every hour.
        </p>
      ) : (
        <table className="table compact">
          <caption className="visually-hidden">Disk health (SMART)</caption>
          <thead>
            <tr>
              <th scope="col">Disk</th>
              <th scope="col">SMART</th>
              <th scope="col" className="num">
                Reallocated
              </th>
              <th scope="col" className="num">
                Pending
              </th>
              <th scope="col" className="num">
                Media errors
              </th>
              <th scope="col" className="num">
                Wear
              </th>
              <th scope="col">Over time</th>
              <th scope="col">Reported</th>
            </tr>
          </thead>
          <tbody>
            {disks.map((d) => (
              <tr key={d.latest.serial} className={d.atRisk ? 'at-risk' : undefined}>
                <th scope="row">
                  {d.latest.serial} <span className="subtle mono">{d.latest.device}</span>
                  {d.atRisk && <span className="text-error"> · at risk</span>}
                </th>
                <td>
                  <Verdict d={d} />
                </td>
                <td className="num">
                  {count(d.latest.reallocatedSectors)}
                  {d.reports > 1 &&
                    d.firstReallocated !== null &&
                    d.latest.reallocatedSectors !== null &&
                    d.latest.reallocatedSectors > d.firstReallocated && (
                      <span className="text-error"> (was {count(d.firstReallocated)})</span>
                    )}
                </td>
                <td className="num">{count(d.latest.pendingSectors)}</td>
                <td className="num">{count(d.latest.mediaErrors)}</td>
                <td className="num">
                  {d.latest.percentageUsed === null ? '—' : `${d.latest.percentageUsed}%`}
                </td>
                <td>
                  {d.reports > 1 ? (
                    d.plots.map((p) => (
                      <Sparkline
                        key={p.key}
                        values={p.values}
                        label={diskPlotLabel(d.latest.serial, p)}
                        height={20}
                      />
                    ))
                  ) : (
                    <span className="subtle">one report</span>
                  )}
                </td>
                <td>
                  <time dateTime={d.latest.at}>{d.latest.at.slice(0, 10)}</time>
                  {d.latest.source === 'node-agent' && <span className="subtle"> · by the node</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
