/**
 * What a health poll puts on the machine's timeline: only changes, never one line per poll —
 * the BMC stopped answering (with the reason) or answers again, the rollup moved, new critical
 * entries in the SEL. Pure: the poller keeps `Known` per machine (seeded from the store's
 * newest samples at start, so a region restart repeats nothing).
 */
import type { NewEvent } from '../core/event.ts';
import type { HealthSample } from '../core/health.ts';

export interface Known {
  readonly reachable: boolean;
  /** The rollup at the last poll that got an answer; null before any did. */
  readonly health: string | null;
  /** Critical SEL entries at the last poll that read the SEL. */
  readonly selCritical: number | null;
}

export const knownOf = (s: HealthSample, before?: Known): Known => ({
  reachable: s.reachable,
  health: s.reachable ? s.health : (before?.health ?? null),
  selCritical: s.selCritical ?? before?.selCritical ?? null,
});

const levelOf = (health: string) =>
  health === 'critical' ? 'error' : health === 'warning' ? 'warning' : 'info';

export function healthEvents(
  machineId: string,
  before: Known | undefined,
  s: HealthSample,
): { known: Known; events: NewEvent[] } {
  const known = knownOf(s, before);
  const base = { machineId, actor: 'health' };
  const events: NewEvent[] = [];
  if (!s.reachable) {
    if (before?.reachable !== false)
      events.push({
        ...base,
        type: 'health.bmc-unreachable',
        level: 'warning',
        message: `BMC stopped answering health polls: ${s.error}`,
        data: { reason: s.error },
      });
    return { known, events };
  }
  if (before?.reachable === false)
    events.push({ ...base, type: 'health.bmc-recovered', message: 'BMC answers health polls again' });
  if (before?.health != null && before.health !== s.health)
    events.push({
      ...base,
      type: 'health.changed',
      level: levelOf(s.health),
      message: `hardware health ${before.health} → ${s.health}`,
      data: { from: before.health, to: s.health },
    });
  const added = (s.selCritical ?? 0) - (before?.selCritical ?? 0);
  if (s.selCritical !== null && added > 0)
    events.push({
      ...base,
      type: 'health.sel-critical',
      level: 'error',
      message: `${added} new critical ${added === 1 ? 'entry' : 'entries'} in the BMC's event log (${s.selCritical} in all)`,
      data: { added, total: s.selCritical },
    });
  return { known, events };
}
