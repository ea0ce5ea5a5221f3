import type { Job } from '../../api/types.ts';
import { clock, duration } from '../../machines/format.ts';

/** A job's ordered single-action steps with their times, attempts and errors. */
export function JobSteps({ job }: { job: Job }) {
  return (
    <table className="table compact">
      <caption className="visually-hidden">Steps of the {job.kind} job</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Started</th>
          <th scope="col">Took</th>
          <th scope="col">Attempts</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {job.steps.map((s, i) => {
          const result = s.error
            ? 'failed'
            : s.endedAt
              ? 'done'
              : s.startedAt
                ? 'running'
                : i < job.stepIndex
                  ? 'done'
                  : 'pending';
          return (
            <tr key={s.name} className={`step-${result}`}>
              <td>{s.name}</td>
              <td>{s.startedAt ? clock(s.startedAt) : '—'}</td>
              <td>{duration(s.startedAt, s.endedAt)}</td>
              <td className="num">{s.attempts}</td>
              <td>{s.error ? <span className="text-error">{s.error}</span> : result}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
