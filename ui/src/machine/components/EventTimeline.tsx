import { useState } from 'react';
import type { IngotEvent } from '../../api/types.ts';
import { clock } from '../../machines/format.ts';
import { PHASES, phaseOf } from '../boot-phases.ts';

const LEVEL_TEXT = { info: 'info', warning: 'warn', error: 'error' } as const;
const phaseLabel = (e: IngotEvent) => {
  const id = phaseOf(e);
  return id ? PHASES.find((p) => p.id === id)?.label : undefined;
};

/** Every event of the machine, newest first; the list keeps its height as events stream in. */
export function EventTimeline({ events }: { events: IngotEvent[] }) {
  const [onlyProblems, setOnlyProblems] = useState(false);
  const shown = (onlyProblems ? events.filter((e) => e.level !== 'info') : events).slice().reverse();
  return (
    <div className="timeline">
      <label className="check">
        <input type="checkbox" checked={onlyProblems} onChange={(e) => setOnlyProblems(e.target.checked)} />{' '}
        Only warnings and errors
      </label>
      {shown.length === 0 ? (
        <p className="empty">No events{onlyProblems ? ' at warning or error level' : ''}.</p>
      ) : (
        <ol className="events" aria-label="Events, newest first">
          {shown.map((e) => (
            <li key={e.id} className={`event level-${e.level}`}>
              <time dateTime={e.at}>{clock(e.at)}</time>
              <span className={`level level-${e.level}`}>{LEVEL_TEXT[e.level]}</span>
              <span className="etype">
                {e.type}
                {phaseLabel(e) && <span className="ephase"> · {phaseLabel(e)}</span>}
              </span>
              <span className="emsg">{e.message}</span>
              <span className="actor">{e.actor}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
