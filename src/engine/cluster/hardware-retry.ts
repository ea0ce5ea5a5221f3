/**
 * The hardware watch's second look at an episode it already acted on (hardware-watch.ts,
 * docs/day2.md): a cordon or drain that failed is tried again, bounded
 * (`spec.hardware.drainAttempts`, the first included) and with backoff
 * (`retryAfterSeconds` after the first failure, doubled after each further one), each try and
 * the give-up on the timeline; a Node gone from the API is not tried again. And once the
 * hardware gives no reason any more, a node the watch cordoned in that episode is uncordoned
 * when `uncordonWhenHealthy` says so — never one an operator drained or gave back meanwhile,
 * nor while an operation holds the cluster. Everything is read from the timeline
 * (core/hardware-episode.ts), so a region restarted neither resets the count nor starts a try
 * twice.
 */
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import { ClusterState } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, isIngotError } from '../../core/errors.ts';
import type { IngotEvent, NewEvent } from '../../core/event.ts';
import { HARDWARE_RISK_EVENT, HARDWARE_WATCH_ACTOR, HardwareAction } from '../../core/hardware-drain.ts';
import {
  type EpisodeRecord,
  EpisodeState,
  episodeRecord,
  retryVerdict,
} from '../../core/hardware-episode.ts';
import { DRAIN_REASON_MAX } from '../../core/node-drain.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import { startDrain } from './drain-start.ts';

/** The Cluster file's `spec.hardware`, as the watch applies it. */
export interface HardwareSpec {
  readonly onRisk: 'alert' | 'cordon' | 'drain';
  readonly drainTimeoutSeconds: number;
  readonly drainAttempts: number;
  readonly retryAfterSeconds: number;
  readonly uncordonWhenHealthy: boolean;
}

/** Events of a machine read back per look: the episode's are among its newest. */
const LOOKBACK = 100;

/** What a second look did (hardware-watch.ts turns it into the pass's outcome). */
export interface EpisodeOutcome {
  readonly action: HardwareAction | 'uncordon';
  readonly error: string | null;
  readonly operation: string | null;
  readonly attempt?: number;
  readonly gaveUp?: true;
}

export interface EpisodeDeps {
  readonly store: Store;
  readonly kube: KubePort;
  readonly now: number;
}

/** The Node is not there any more (the fake's NotFound, the API's 404). */
export function nodeGone(e: unknown): boolean {
  return isIngotError(e, ErrorCode.NotFound) || (e as { code?: unknown })?.code === 404;
}

/** The cluster cannot take a drain now: another operation holds it, or it is not running yet. */
export const busy = (e: unknown): boolean =>
  isIngotError(e, ErrorCode.OperationRunning) || isIngotError(e, ErrorCode.InvalidTransition);

/** One `cluster.node.hardware-risk` line, on the cluster's and the machine's timelines. */
export function riskLine(
  c: Pick<Cluster, 'id'>,
  m: Pick<ClusterMember, 'machineId' | 'hostname'>,
  level: NewEvent['level'],
  message: string,
  data: Record<string, unknown>,
): NewEvent {
  return {
    type: HARDWARE_RISK_EVENT,
    level,
    clusterId: c.id,
    machineId: m.machineId,
    actor: 'hardware',
    message,
    data: { node: m.hostname, ...data },
  };
}

export async function machineEvents(store: Store, machineId: string): Promise<IngotEvent[]> {
  return store.listEvents({ machineId, limit: LOOKBACK, newestFirst: true });
}

/**
 * The same episode again on a cordon or drain policy: tries once more when the last try failed
 * and its wait is over, gives up after the last try (or at once for a Node gone); else nothing.
 */
export async function retryEpisode(
  deps: EpisodeDeps,
  c: Cluster,
  m: ClusterMember,
  spec: HardwareSpec,
  kubeconfig: string | null,
  d: { reason: string; episode: string },
  record?: EpisodeRecord,
): Promise<EpisodeOutcome | null> {
  if (spec.onRisk === 'alert') return null;
  const r = record ?? episodeRecord(await machineEvents(deps.store, m.machineId), d.episode);
  const v = retryVerdict(r, spec, deps.now);
  if (v.kind === 'none' || v.kind === 'wait') return null;
  const action = spec.onRisk === 'cordon' ? HardwareAction.Cordon : HardwareAction.Drain;
  const head = `${m.hostname}'s hardware is at risk (${d.reason})`;
  const line = (level: NewEvent['level'], message: string, data: Record<string, unknown>) =>
    riskLine(c, m, level, message, {
      reason: d.reason,
      episode: d.episode,
      policy: spec.onRisk,
      action,
      ...data,
    });
  const by = `drain it by hand once the cause is fixed: \`ingot cluster drain ${c.name} ${m.hostname}\``;
  const giveUp = async (why: string, more: Record<string, unknown> = {}): Promise<EpisodeOutcome> => {
    await deps.store.appendEvents([
      line('error', `${head}: gave up: ${why}; ${by}`, { gaveUp: true, attempts: r.attempts, ...more }),
    ]);
    return { action, error: why, operation: null, gaveUp: true };
  };
  const last = (r.failure ?? '').startsWith(`${head}: `) ? r.failure!.slice(head.length + 2) : r.failure;
  if (v.kind === 'give-up')
    return giveUp(
      `${r.attempts} ${action} tr${r.attempts === 1 ? 'y' : 'ies'} this episode failed, the last: ${last}`,
    );
  if (kubeconfig === null) return null; // a try without it fails the same way: wait for one
  try {
    await deps.kube.isCordoned(kubeconfig, m.hostname);
  } catch (e) {
    if (nodeGone(e))
      return giveUp(`the Node ${m.hostname} is gone from the cluster's API: not tried again`, { gone: true });
    // The API does not answer: the try tells it.
  }
  const attempt = v.attempt;
  const of = `try ${attempt} of ${spec.drainAttempts}; the last failed: ${last}`;
  if (action === HardwareAction.Cordon) {
    try {
      await deps.kube.cordon(kubeconfig, m.hostname);
      await deps.store.appendEvents([
        line('warning', `${head}: cordoned (${of})`, { attempt, cordoned: true }),
      ]);
      return { action, error: null, operation: null, attempt };
    } catch (e) {
      const error = (e as Error).message;
      await deps.store.appendEvents([
        line('error', `${head}: cordon failed (try ${attempt}): ${error}`, { attempt }),
      ]);
      return { action, error, operation: null, attempt };
    }
  }
  try {
    const { operation } = await startDrain(deps.store, c.id, {
      node: m.hostname,
      timeoutSeconds: spec.drainTimeoutSeconds,
      reason: d.reason.slice(0, DRAIN_REASON_MAX),
      episode: d.episode,
      actor: HARDWARE_WATCH_ACTOR,
      events: [
        line('warning', `${head}: draining it again (${of}), a drain operation`, { attempt, cordoned: true }),
      ],
    });
    return { action, error: null, operation: operation.id, attempt };
  } catch (e) {
    if (busy(e)) return null; // another operation holds the cluster: a later pass
    const error = (e as Error).message;
    await deps.store.appendEvents([
      line('error', `${head}: cannot drain it (try ${attempt}): ${error}`, { attempt }),
    ]);
    return { action, error, operation: null, attempt };
  }
}

/** The first operator's drain or uncordon of `node` on the cluster's timeline after event `afterId`. */
async function operatorSince(
  store: Store,
  clusterId: string,
  node: string,
  afterId: number,
): Promise<IngotEvent | null> {
  for (let after = afterId; ; ) {
    const page = await store.listEvents({ clusterId, afterId: after, limit: 500 });
    const hit = page.find(
      (e) =>
        e.data.node === node &&
        ((e.type === 'cluster.node.drain' && e.actor !== HARDWARE_WATCH_ACTOR) ||
          e.type === 'cluster.node.uncordoned'),
    );
    if (hit || page.length < 500) return hit ?? null;
    after = page[page.length - 1].id;
  }
}

/**
 * The episode is over (the hardware gives no reason any more). With `uncordonWhenHealthy`, a
 * node the watch cordoned in it is uncordoned, unless an operator drained it or gave it back
 * since (their events on the cluster's timeline after the watch's cordon). Answers whether the
 * episode is closed (false: look again next pass — an operation holds the cluster, the API
 * did not answer).
 */
export async function closeEpisode(
  deps: EpisodeDeps,
  c: Cluster,
  m: ClusterMember,
  spec: HardwareSpec,
  kubeconfig: string | null,
  episode: string,
): Promise<{ closed: boolean; outcome: EpisodeOutcome | null }> {
  const done = { closed: true, outcome: null };
  if (!spec.uncordonWhenHealthy) return done;
  const r = episodeRecord(await machineEvents(deps.store, m.machineId), episode);
  if (r.cordonedBy === null || r.state === EpisodeState.Ended) return done;
  const line = (level: NewEvent['level'], message: string, data: Record<string, unknown>) =>
    riskLine(c, m, level, message, {
      episode,
      policy: spec.onRisk,
      action: 'uncordon',
      ended: true,
      ...data,
    });
  const head = `${m.hostname}'s hardware gives no reason any more (it was: ${episode})`;
  const cordonedBy = r.cordonedBy;
  // An operator's drain or uncordon of the node since the watch's cordon: it is theirs now.
  const since = await operatorSince(deps.store, c.id, m.hostname, cordonedBy);
  if (since) {
    await deps.store.appendEvents([
      line('info', `${head}: left as it is, ${since.actor} acted on it since (${since.message})`, {
        uncordoned: false,
      }),
    ]);
    return done;
  }
  if (c.state !== ClusterState.Running || kubeconfig === null) return { closed: false, outcome: null };
  try {
    if (!(await deps.kube.isCordoned(kubeconfig, m.hostname))) {
      await deps.store.appendEvents([
        line('info', `${head}: already schedulable, nothing to uncordon`, { uncordoned: false }),
      ]);
      return done;
    }
    await deps.kube.uncordon(kubeconfig, m.hostname);
  } catch (e) {
    if (nodeGone(e)) return done;
    return { closed: false, outcome: { action: 'uncordon', error: (e as Error).message, operation: null } };
  }
  await deps.store.appendEvents([
    line(
      'info',
      `${head}: uncordoned, schedulable again (spec.hardware.uncordonWhenHealthy; Ingot cordoned it for this episode)`,
      { uncordoned: true },
    ),
  ]);
  return { closed: true, outcome: { action: 'uncordon', error: null, operation: null } };
}
