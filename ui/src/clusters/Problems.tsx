/** Why a plan was refused: every problem with its path, as the API reported them. */
import type { Refusal } from './api.ts';

const HEADLINE: Record<Refusal['stage'], string> = {
  'cluster-file': 'The Cluster file has problems',
  plan: 'The plan cannot be made on this region’s ready machines',
  request: 'The request was refused',
};

export function Problems({ refusal }: { refusal: Refusal }) {
  const n = refusal.problems.length;
  return (
    <section className="error plan-problems" role="alert" aria-labelledby="plan-problems-h">
      <h2 id="plan-problems-h">
        {HEADLINE[refusal.stage]}
        {n > 0 && (
          <span className="subtle">
            {' '}
            · {n} problem{n === 1 ? '' : 's'}
          </span>
        )}
      </h2>
      {n === 0 ? (
        <p>{refusal.message}</p>
      ) : (
        <ul>
          {refusal.problems.map((p, i) => (
            // The same path can carry several problems; the index keeps keys unique and stable.
            // biome-ignore lint/suspicious/noArrayIndexKey: the list is replaced, never reordered
            <li key={i}>
              {p.path && <code className="problem-path">{p.path}</code>}
              {p.path && ': '}
              <span className="problem-message">{p.message}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
