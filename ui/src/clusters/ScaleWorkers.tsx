/**
 * Scaling a running cluster's workers from its card (operators): the count wanted and, when it
 * is fewer, how the released machines are wiped. Which workers go (the newest first) and
 * which ready machines join (the planner's spread over racks) is the region's, as for
 * `ingot cluster scale NAME --workers N`; a refusal (too few ready machines, another
 * operation running) comes back with the region's reason.
 */
import { useState } from 'react';
import type { Wipe } from './api.ts';

/** The most workers the API takes (its ScaleClusterBody). */
const MAX_WORKERS = 1000;

interface Props {
  cluster: string;
  /** Workers the cluster has now. */
  current: number;
  busy: boolean;
  /** `wipe` only when workers are released. */
  onScale: (workers: number, wipe?: Wipe) => void;
}

export function ScaleWorkers({ cluster, current, busy, onScale }: Props) {
  const [text, setText] = useState(String(current));
  const [wipe, setWipe] = useState<Wipe>('quick');
  const wanted = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  const valid = Number.isInteger(wanted) && wanted >= 0 && wanted <= MAX_WORKERS;
  const problem = valid ? null : `a whole number of workers from 0 to ${MAX_WORKERS}`;
  return (
    <fieldset className="scale" aria-label={`Scale ${cluster}`}>
      <legend>Workers ({current} now)</legend>
      <label>
        Workers wanted{' '}
        <input
          type="number"
          min={0}
          max={MAX_WORKERS}
          value={text}
          aria-invalid={!valid}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      {valid && wanted < current && (
        <label>
          Wipe of the {current - wanted} released{' '}
          <select value={wipe} onChange={(e) => setWipe(e.target.value as Wipe)}>
            <option value="quick">quick</option>
            <option value="secure">secure</option>
          </select>
        </label>
      )}
      <button
        type="button"
        disabled={busy || !valid || wanted === current}
        onClick={() => onScale(wanted, wanted < current ? wipe : undefined)}
      >
        {valid ? `Scale to ${wanted}` : 'Scale'}
      </button>
      {problem && <span className="hint">{problem}</span>}
    </fieldset>
  );
}
