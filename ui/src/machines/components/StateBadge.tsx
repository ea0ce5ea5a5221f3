import type { MachineState, PowerState } from '../../api/types.ts';
import { POWER, STATES } from '../labels.ts';

/** A state as colour *and* words: the dot is decoration, the label carries the meaning. */
export function StateBadge({ state, title }: { state: MachineState; title?: string }) {
  const s = STATES[state];
  return (
    <span className={`badge tone-${s.tone}`} title={title}>
      <span className="dot" aria-hidden="true" />
      {s.label}
    </span>
  );
}

export function PowerBadge({ power }: { power: PowerState }) {
  const p = POWER[power];
  return (
    // The on/off mark is drawn by CSS so the element's text is just the label.
    <span className={`power tone-${p.tone}`}>{p.label}</span>
  );
}
