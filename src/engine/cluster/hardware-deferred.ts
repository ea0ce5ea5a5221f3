/**
 * A drain the hardware watch put off while another operation held the cluster (hardware-watch.ts,
 * docs/day2.md): started on a later pass once the cluster is free, by this watch or one started
 * afresh (it is read back from the timeline).
 */
import type { Cluster } from '../../core/cluster.ts';
import { ErrorCode, isIngotError } from '../../core/errors.ts';
import { HARDWARE_RISK_EVENT, HARDWARE_WATCH_ACTOR, HardwareAction } from '../../core/hardware-drain.ts';
import { DRAIN_REASON_MAX } from '../../core/node-drain.ts';
import type { Store } from '../../store/store.ts';
import { startDrain } from './drain-start.ts';
import { busy, riskLine } from './hardware-retry.ts';
import type { HardwareOutcome } from './hardware-watch.ts';

/** A drain put off until the operation holding the cluster ends. */
export interface Deferred {
  readonly clusterId: string;
  readonly node: string;
  readonly reason: string;
  readonly episode: string;
  readonly timeoutSeconds: number;
}

/**
 * Starts a drain put off earlier, once no other operation holds the cluster; `deferred` loses
 * it once it is started, failed or moot (a new episode `acted` on, the node gone, another region
 * started it).
 */
export async function startDeferred(
  store: Store,
  deferred: Map<string, Deferred>,
  machineId: string,
  p: Deferred,
  acted: string | undefined,
): Promise<HardwareOutcome | null> {
  const data = {
    node: p.node,
    reason: p.reason,
    episode: p.episode,
    policy: 'drain',
    action: 'drain',
    attempt: 1,
  };
  let c: Cluster;
  try {
    c = await store.getCluster(p.clusterId);
  } catch (e) {
    if (isIngotError(e, ErrorCode.NotFound)) deferred.delete(machineId);
    throw e;
  }
  if ((acted !== undefined && acted !== p.episode) || !c.members.some((x) => x.hostname === p.node)) {
    deferred.delete(machineId); // a new episode acted on, or the node left: this drain is moot
    return null;
  }
  // Another region (sharing the store) may have started this episode's drain meanwhile.
  const recent = await store.listEvents({ machineId, limit: 50, newestFirst: true });
  if (
    recent.some((e) => e.type === HARDWARE_RISK_EVENT && e.data.episode === p.episode && e.data.operation)
  ) {
    deferred.delete(machineId);
    return null;
  }
  const m = { machineId, hostname: p.node };
  const head = `${p.node}'s hardware is at risk (${p.reason})`;
  const told = (error: string | null, operation: string | null): HardwareOutcome => ({
    cluster: c.name,
    node: p.node,
    machineId,
    action: HardwareAction.Drain,
    reason: p.reason,
    error,
    operation,
  });
  try {
    const { operation } = await startDrain(store, c.id, {
      node: p.node,
      timeoutSeconds: p.timeoutSeconds,
      reason: p.reason.slice(0, DRAIN_REASON_MAX),
      episode: p.episode,
      actor: HARDWARE_WATCH_ACTOR,
      events: [
        riskLine(
          c,
          m,
          'warning',
          `${head}: draining it now (spec.hardware.onRisk: drain), a drain operation; the cluster is free again`,
          { ...data, cordoned: true },
        ),
      ],
    });
    deferred.delete(machineId);
    return told(null, operation.id);
  } catch (e) {
    if (busy(e)) return null; // still held: a later pass
    deferred.delete(machineId);
    const error = (e as Error).message;
    await store.appendEvents([riskLine(c, m, 'error', `${head}: cannot drain it: ${error}`, data)]);
    return told(error, null);
  }
}
