/**
 * A node drain as a durable cluster operation (kind `drain`, docs/day2.md "Drain"): its
 * parameters, the progress it keeps on the operation, and — pure — how long it may still wait
 * and how long it waits before asking again. The engine (src/engine/cluster/drain-run.ts)
 * cordons the node, then evicts its pods through the Eviction API (PodDisruptionBudgets
 * honoured) in attempts, until they are gone or the timeout.
 */
import { invalid } from './errors.ts';

export const DRAIN_TIMEOUT_DEFAULT_S = 300;
export const DRAIN_TIMEOUT_MAX_S = 3600;
/** The longest reason a drain keeps (a hardware reason is a line). */
export const DRAIN_REASON_MAX = 500;

export interface DrainParams {
  readonly timeoutSeconds: number;
  readonly force: boolean;
  readonly reason?: string;
}

/** Checks a drain's parameters (naming the field), with the defaults filled in. */
export function drainParams(i: { timeoutSeconds?: number; force?: boolean; reason?: string }): DrainParams {
  const t = i.timeoutSeconds ?? DRAIN_TIMEOUT_DEFAULT_S;
  if (!Number.isInteger(t) || t < 1 || t > DRAIN_TIMEOUT_MAX_S)
    throw invalid(
      'timeoutSeconds',
      `${t} must be a whole number of seconds from 1 to ${DRAIN_TIMEOUT_MAX_S}`,
    );
  if (i.reason !== undefined && (i.reason.length === 0 || i.reason.length > DRAIN_REASON_MAX))
    throw invalid('reason', `must be 1 to ${DRAIN_REASON_MAX} characters`);
  return {
    timeoutSeconds: t,
    force: i.force ?? false,
    ...(i.reason !== undefined ? { reason: i.reason } : {}),
  };
}

/** What a drain keeps on its operation (`progress.drain`). */
export interface DrainProgress {
  /** The region worker that runs it; another one taking the job over re-runs it from cordon. */
  runner: string | null;
  /** Its timeout counts from here (a takeover starts the clock again). */
  startedAt: string;
  /** Eviction attempts made so far (since `startedAt`). */
  attempts: number;
  /** Why it waits now: `blocked by PDB ns/name`, the API not answering; null when it does not. */
  waiting: string | null;
  /** The PodDisruptionBudget that held it last (`ns/name`), if one did. */
  pdb: string | null;
  /** Once drained: the pods evicted and those left on purpose (DaemonSet, mirror, finished). */
  evicted: string[];
  kept: string[];
}

export function newDrainProgress(at: string): DrainProgress {
  return { runner: null, startedAt: at, attempts: 0, waiting: null, pdb: null, evicted: [], kept: [] };
}

/** Milliseconds left before the drain's timeout (negative once past it). */
export function drainLeftMs(
  p: Pick<DrainProgress, 'startedAt'>,
  timeoutSeconds: number,
  now: number,
): number {
  return Date.parse(p.startedAt) + timeoutSeconds * 1000 - now;
}

/** How long one eviction attempt lasts at most: the time left, within [1 s, `maxMs`]. */
export function attemptMs(leftMs: number, maxMs: number): number {
  return Math.max(1000, Math.min(leftMs, maxMs));
}

/** The wait before attempt `attempts + 1` after an API that did not answer: doubling from `baseMs` up to `capMs`. */
export function retryDelayMs(attempts: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempts - 1), 20));
}
