import type { BootView, PhaseStatus } from '../boot-phases.ts';
import { clock, duration } from '../../machines/format.ts';

const STATUS_TEXT: Record<PhaseStatus, string> = {
  pending: 'Not started',
  running: 'In progress',
  done: 'Done',
  failed: 'Stopped here',
  unreported: 'Not reported',
};

/** The boot as a row of phases, with the one where it stopped called out in words. */
export function BootProgress({ view }: { view: BootView }) {
  if (!view.job) {
    return <p className="empty">No boot yet. Commission or deploy the machine to see its boot here.</p>;
  }
  return (
    <div className="boot">
      <p className="subtle">
        {view.job.kind} job <code>{view.job.id}</code>: {view.job.status}
        {view.job.finishedAt ? ` at ${clock(view.job.finishedAt)}` : ''}
      </p>
      <ol className="phases" aria-label="Boot phases">
        {view.phases.map((p) => (
          <li key={p.id} className={`phase phase-${p.status}`} title={p.hint}>
            <span className="phase-label">{p.label}</span>
            <span className="phase-status">
              <span className="phase-icon" aria-hidden="true">
                {{ pending: '○', running: '◔', done: '✓', failed: '✕', unreported: '–' }[p.status]}
              </span>
              {STATUS_TEXT[p.status]}
            </span>
            {p.startedAt && <span className="phase-time">{duration(p.startedAt, p.endedAt)}</span>}
          </li>
        ))}
      </ol>
      {view.stopped && (
        <div className="stopped" role="alert">
          <strong>Boot stopped at {view.stopped.phase}:</strong> {view.stopped.reason}
          {view.stopped.at && <span className="subtle"> ({clock(view.stopped.at)})</span>}
        </div>
      )}
    </div>
  );
}
