/**
 * Scaling a running cluster from its card (operators): the workers or the control planes
 * wanted and, when fewer, how the released machines are wiped. Which nodes go (the newest
 * first) and which ready machines join (the planner's spread over racks and zones) is the
 * region's, as for `ingot cluster scale NAME --workers N` / `--control-planes N`; a refusal
 * (too few ready machines, below the etcd quorum, another operation running, a distribution or
 * etcd topology that cannot) comes back with the region's reason.
 */
import { useState } from 'react';
import type { Wipe } from './api.ts';

/** What each kind of node takes (the API's ScaleClusterBody: workers 0–1000, control planes odd 1–99). */
const KINDS = {
  workers: {
    title: 'Workers',
    noun: 'workers',
    min: 0,
    max: 1000,
    ok: (n: number) => n >= 0 && n <= 1000,
    rule: 'a whole number of workers from 0 to 1000',
  },
  controlPlanes: {
    title: 'Control planes',
    noun: 'control planes',
    min: 1,
    max: 99,
    // etcd keeps a quorum on an odd count: 1, 3, 5…
    ok: (n: number) => n >= 1 && n <= 99 && n % 2 === 1,
    rule: 'an odd number of control planes from 1 to 99 (etcd’s quorum)',
  },
} as const;

export type ScaleKind = keyof typeof KINDS;

interface Props {
  cluster: string;
  kind: ScaleKind;
  /** Nodes of this kind the cluster has now. */
  current: number;
  busy: boolean;
  /** `wipe` only when nodes are released. */
  onScale: (count: number, wipe?: Wipe) => void;
}

export function ScaleNodes({ cluster, kind, current, busy, onScale }: Props) {
  const k = KINDS[kind];
  const [text, setText] = useState(String(current));
  const [wipe, setWipe] = useState<Wipe>('quick');
  const wanted = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  const valid = Number.isInteger(wanted) && k.ok(wanted);
  return (
    <fieldset className="scale" aria-label={`Scale ${cluster}: ${k.noun}`}>
      <legend>
        {k.title} ({current} now)
      </legend>
      <label>
        {k.title} wanted{' '}
        <input
          type="number"
          min={k.min}
          max={k.max}
          step={kind === 'controlPlanes' ? 2 : 1}
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
      {!valid && <span className="hint">{k.rule}</span>}
    </fieldset>
  );
}
