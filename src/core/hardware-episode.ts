/**
 * What the timeline says of one hardware episode (docs/day2.md, Hardware-driven drain): how
 * many times the watch tried to cordon or drain the node, how the last try ended, whether the
 * watch itself cordoned the node, and whether it gave up or the episode was closed. The watch
 * keeps no other memory: a region restarted (or another region on the same store) reads the
 * same events and goes on where the first one was — never a try counted twice nor started
 * twice. Pure: the caller reads the machine's events.
 */
import type { IngotEvent } from './event.ts';
import { HARDWARE_RISK_EVENT } from './hardware-drain.ts';

export const EpisodeState = {
  /** No try yet (only told on the timeline, or a drain put off). */
  None: 'none',
  /** The last try is under way (a drain operation running) or went through. */
  Active: 'active',
  /** The last try failed (the newest event of the episode is an error). */
  Failed: 'failed',
  /** The watch gave up on the episode (`data.gaveUp`): the operator acts. */
  GaveUp: 'gave-up',
  /** The episode was closed (`data.ended`: the node uncordoned, or left to the operator). */
  Ended: 'ended',
} as const;
export type EpisodeState = (typeof EpisodeState)[keyof typeof EpisodeState];

export interface EpisodeRecord {
  readonly state: EpisodeState;
  /** Tries made: the highest `data.attempt` of the episode (1 for a try from before the count). */
  readonly attempts: number;
  /** When the last try failed (ms), with its message; null unless `state` is failed. */
  readonly failedAt: number | null;
  readonly failure: string | null;
  /** The id of the first event saying the watch cordoned the node (`data.cordoned`), or null. */
  readonly cordonedBy: number | null;
}

const acts = (e: IngotEvent) => e.data.action === 'cordon' || e.data.action === 'drain';

/** The record of `episode` from the machine's events (any order). */
export function episodeRecord(events: readonly IngotEvent[], episode: string): EpisodeRecord {
  const mine = events
    .filter((e) => e.type === HARDWARE_RISK_EVENT && e.data.episode === episode)
    .sort((a, b) => a.id - b.id);
  const numbered = mine.map((e) => e.data.attempt).filter((x): x is number => typeof x === 'number');
  const attempts = numbered.length
    ? Math.max(...numbered)
    : mine.some((e) => acts(e) && e.data.deferred !== true)
      ? 1
      : 0;
  const cordonedBy = mine.find((e) => e.data.cordoned === true)?.id ?? null;
  const last = mine.at(-1);
  const none = { attempts, failedAt: null, failure: null, cordonedBy };
  if (!last) return { state: EpisodeState.None, ...none };
  if (last.data.ended === true) return { state: EpisodeState.Ended, ...none };
  if (last.data.gaveUp === true) return { state: EpisodeState.GaveUp, ...none };
  if (last.level === 'error' && acts(last))
    return {
      state: EpisodeState.Failed,
      attempts: Math.max(1, attempts),
      failedAt: Date.parse(last.at),
      failure: last.message,
      cordonedBy,
    };
  return { state: attempts ? EpisodeState.Active : EpisodeState.None, ...none };
}

export interface RetryPolicy {
  /** Tries per episode, the first included. */
  readonly drainAttempts: number;
  /** The wait after the first failure; doubled after each further one. */
  readonly retryAfterSeconds: number;
}

/** The wait before the next try after `failures` failed tries (≥ 1): retryAfter · 2^(failures−1). */
export function retryWaitMs(failures: number, retryAfterSeconds: number): number {
  return retryAfterSeconds * 1000 * 2 ** Math.max(0, failures - 1);
}

export type RetryVerdict =
  | { readonly kind: 'none' }
  | { readonly kind: 'wait'; readonly at: number }
  | { readonly kind: 'retry'; readonly attempt: number }
  | { readonly kind: 'give-up' };

/** What to do about a failed episode now: nothing (not failed), wait, try again, or give up. */
export function retryVerdict(r: EpisodeRecord, p: RetryPolicy, now: number): RetryVerdict {
  if (r.state !== EpisodeState.Failed || r.failedAt === null) return { kind: 'none' };
  if (r.attempts >= p.drainAttempts) return { kind: 'give-up' };
  const at = r.failedAt + retryWaitMs(r.attempts, p.retryAfterSeconds);
  return now >= at ? { kind: 'retry', attempt: r.attempts + 1 } : { kind: 'wait', at };
}
