/**
 * Hardware-driven drain (issue 16, docs/day2.md): after each health poll round the region looks
 * at every member of its running clusters (and of those an operation holds) — each disk's
 * newest and previous SMART report (from commissioning or the node agent, by serial) and the
 * machine's newest BMC poll — and applies the cluster's `spec.hardware.onRisk` policy through
 * `hardwareDecision` (src/core): alert on the timeline, cordon, or drain. A drain is a durable
 * `drain` operation (drain-start.ts; actor `hardware-watch`, the hardware reason and episode
 * on it): the pass returns once it is started, and the operation tells its end on the machine's
 * timeline too (drain-run.ts: "drained, N pod(s) evicted; replace the part", or the PDB that held
 * it, the node left cordoned). When another operation holds the cluster, the node is cordoned
 * now and the drain started on a later pass (said on the timeline, `data.deferred`). Once per
 * episode: the reason acted on is remembered per machine (seeded from the timeline, so a region
 * restart repeats nothing and still starts a deferred drain, hardware-deferred.ts); a node
 * already cordoned is not cordoned or drained again. A cordon or drain that failed is tried again
 * in the same episode, bounded and with backoff, and with `uncordonWhenHealthy` the node the watch
 * cordoned is given back once the episode is over (hardware-retry.ts).
 */
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { ClusterState } from '../../core/cluster-lifecycle.ts';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import type { NewEvent } from '../../core/event.ts';
import {
  diskPairs,
  HARDWARE_RISK_EVENT,
  HARDWARE_WATCH_ACTOR,
  HardwareAction,
  type HardwarePolicy,
  hardwareDecision,
} from '../../core/hardware-drain.ts';
import { EpisodeState, episodeRecord } from '../../core/hardware-episode.ts';
import type { HealthSample } from '../../core/health.ts';
import { DRAIN_REASON_MAX } from '../../core/node-drain.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import { startDrain } from './drain-start.ts';
import { type Deferred, startDeferred } from './hardware-deferred.ts';
import {
  busy,
  closeEpisode,
  type HardwareSpec,
  machineEvents,
  retryEpisode,
  riskLine,
} from './hardware-retry.ts';

export { HARDWARE_RISK_EVENT };

/** The cluster states the watch looks at: running, or held by an operation or a scale. */
const WATCHED: readonly ClusterState[] = [
  ClusterState.Running,
  ClusterState.Updating,
  ClusterState.FailedUpdating,
];

/** Disk reports looked back on: the two newest per serial are what counts. */
const DISK_LOOKBACK_MS = 30 * 86_400_000;

export interface HardwareOutcome {
  readonly cluster: string;
  readonly node: string;
  readonly machineId: string;
  /** `uncordon`: the episode over, the node the watch cordoned given back (uncordonWhenHealthy). */
  readonly action: HardwareAction | 'uncordon';
  readonly reason: string;
  /** The drain's or cordon's error, when it did not go through. */
  readonly error: string | null;
  /** The drain operation started (its end is on the timelines), or null. */
  readonly operation: string | null;
  /** A drain put off: another operation holds the cluster (the node cordoned meanwhile). */
  readonly deferred?: boolean;
  /** The try of the episode this was, from the second on (a failed one tried again). */
  readonly attempt?: number;
  /** The watch gave up on the episode (its tries failed, or the Node is gone). */
  readonly gaveUp?: true;
}

export interface HardwareWatchOptions {
  readonly store: Store;
  readonly kube: KubePort;
  readonly now?: () => number;
  readonly log?: { warn(o: object, msg: string): void };
}

export class HardwareWatch {
  readonly #o: HardwareWatchOptions;
  /** Machine → the episode last acted on (absent: none). */
  readonly #acted = new Map<string, string>();
  readonly #seeded = new Set<string>();
  /** Machine → the drain it starts as soon as the cluster is free. */
  readonly #deferred = new Map<string, Deferred>();
  /** Machine → an episode given up or closed: its events need not be read again. */
  readonly #settled = new Map<string, string>();
  #running: Promise<HardwareOutcome[]> | null = null;

  constructor(o: HardwareWatchOptions) {
    this.#o = o;
  }

  /** One look at every running cluster's members; concurrent calls share the pass running. */
  pass(): Promise<HardwareOutcome[]> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(): Promise<HardwareOutcome[]> {
    const out: HardwareOutcome[] = [];
    const clusters = (await this.#o.store.listClusters()).filter((c) => WATCHED.includes(c.state));
    const samples = new Map<string, HealthSample>(
      clusters.length ? (await this.#o.store.latestHealth()).map((x) => [x.sample.machineId, x.sample]) : [],
    );
    for (const c of clusters) {
      let hw: HardwareSpec;
      try {
        hw = parseClusterFile(c.clusterFile).spec.hardware;
      } catch (e) {
        this.#o.log?.warn(
          { cluster: c.name, err: (e as Error).message },
          'hardware watch: Cluster file unreadable',
        );
        continue;
      }
      const kubeconfig = await this.#o.store.clusterKubeconfig(c.id);
      for (const m of c.members) {
        try {
          const r = await this.#member(c, m, hw, kubeconfig, samples.get(m.machineId) ?? null);
          if (r) out.push(r);
        } catch (e) {
          this.#o.log?.warn(
            { cluster: c.name, node: m.hostname, err: (e as Error).message },
            'hardware watch failed',
          );
        }
      }
    }
    // The drains put off (this pass, an earlier one, or before a restart: seeded above).
    for (const [machineId, p] of this.#deferred) {
      try {
        const r = await startDeferred(
          this.#o.store,
          this.#deferred,
          machineId,
          p,
          this.#acted.get(machineId),
        );
        if (r) out.push(r);
      } catch (e) {
        this.#o.log?.warn({ node: p.node, err: (e as Error).message }, 'hardware watch: deferred drain');
      }
    }
    return out;
  }

  async #lastEpisode(machineId: string): Promise<string | null> {
    if (!this.#seeded.has(machineId)) {
      this.#seeded.add(machineId);
      const events = await this.#o.store.listEvents({ machineId, limit: 50, newestFirst: true });
      const last = events.find((e) => e.type === HARDWARE_RISK_EVENT);
      // An episode closed (the node uncordoned or left to the operator) is not one acted on.
      if (typeof last?.data?.episode === 'string' && last.data.ended !== true)
        this.#acted.set(machineId, last.data.episode);
      // A drain put off when the region stopped: started on the next pass.
      const d = last?.data;
      if (last?.clusterId && d?.deferred === true && typeof d.episode === 'string')
        this.#deferred.set(machineId, {
          clusterId: last.clusterId,
          node: String(d.node),
          reason: String(d.reason),
          episode: d.episode,
          timeoutSeconds: Number(d.timeoutSeconds) || 300,
        });
    }
    return this.#acted.get(machineId) ?? null;
  }

  /**
   * The newest sample comes without its readings (src/store: what a scrape reads); a critical
   * one's sensors are read from the history, where a sample whose rollup moved keeps them.
   */
  async #withReadings(s: HealthSample): Promise<HealthSample> {
    const recent = await this.#o.store.healthHistory(s.machineId, s.at - 3_600_000, 60);
    const kept = recent.findLast((x) => x.health === 'critical' && x.readings.length > 0);
    return kept ? { ...s, readings: kept.readings } : s;
  }

  async #member(
    c: Cluster,
    m: ClusterMember,
    hw: HardwareSpec,
    kubeconfig: string | null,
    newest: HealthSample | null,
  ): Promise<HardwareOutcome | null> {
    const policy: HardwarePolicy = hw.onRisk;
    let sample = newest;
    const now = (this.#o.now ?? Date.now)();
    if (sample?.health === 'critical' && sample.readings.length === 0)
      sample = await this.#withReadings(sample);
    const disks = diskPairs(await this.#o.store.diskHealthHistory(m.machineId, now - DISK_LOOKBACK_MS));
    const input = {
      policy,
      disks,
      sample,
      cordoned: false,
      lastEpisode: await this.#lastEpisode(m.machineId),
    };
    let d = hardwareDecision(input);
    const deps = { store: this.#o.store, kube: this.#o.kube, now };
    const told = (o: {
      action: HardwareOutcome['action'];
      error: string | null;
      operation: string | null;
    }) => ({
      cluster: c.name,
      node: m.hostname,
      machineId: m.machineId,
      reason: d.reason,
      ...o,
    });
    if (!d.reason) {
      // The episode is over: the next trigger is a new one; the node the watch cordoned for it
      // given back first, when the Cluster file says so (looked at again while it cannot be).
      if (input.lastEpisode === null) return null;
      const { closed, outcome } = await closeEpisode(deps, c, m, hw, kubeconfig, input.lastEpisode);
      if (closed) this.#acted.delete(m.machineId);
      return outcome ? told(outcome) : null;
    }
    if (d.action === HardwareAction.None) {
      // The same episode: a try that failed is tried again (bounded, with backoff), else nothing.
      if (
        policy === 'alert' ||
        this.#settled.get(m.machineId) === d.episode ||
        this.#deferred.has(m.machineId)
      )
        return null;
      const r = episodeRecord(await machineEvents(this.#o.store, m.machineId), d.episode);
      if (r.state === EpisodeState.GaveUp || r.state === EpisodeState.Ended) {
        this.#settled.set(m.machineId, d.episode);
        return null;
      }
      const o = await retryEpisode(deps, c, m, hw, kubeconfig, d, r);
      if (o?.gaveUp) this.#settled.set(m.machineId, d.episode);
      return o ? told(o) : null;
    }
    const acts = d.action === HardwareAction.Cordon || d.action === HardwareAction.Drain;
    if (acts && kubeconfig !== null && (await this.#o.kube.isCordoned(kubeconfig, m.hostname)))
      d = hardwareDecision({ ...input, cordoned: true });
    this.#acted.set(m.machineId, d.episode);
    const line = (
      level: 'warning' | 'error',
      message: string,
      data: Record<string, unknown> = {},
    ): NewEvent =>
      riskLine(c, m, level, message, {
        reason: d.reason,
        episode: d.episode,
        policy,
        action: d.action,
        ...data,
      });
    const event = (level: 'warning' | 'error', message: string, data: Record<string, unknown> = {}) =>
      this.#o.store.appendEvents([line(level, message, data)]);
    const head = `${m.hostname}'s hardware is at risk (${d.reason})`;
    let error: string | null = null;
    let operation: string | null = null;
    let deferred = false;
    const first = { attempt: 1 };
    if (d.action === HardwareAction.Alert) {
      await event(
        'warning',
        `${head}: ${d.skipped ?? `policy alert (spec.hardware.onRisk): the node is left as it is`}`,
      );
    } else if (kubeconfig === null) {
      error = `cluster ${c.name} has no admin kubeconfig`;
      await event('error', `${head}: cannot ${d.action} it: ${error}`, first);
    } else if (d.action === HardwareAction.Cordon) {
      try {
        await this.#o.kube.cordon(kubeconfig, m.hostname);
        await event('warning', `${head}: cordoned (spec.hardware.onRisk: cordon); its pods keep running`, {
          ...first,
          cordoned: true,
        });
      } catch (e) {
        error = (e as Error).message;
        await event('error', `${head}: cordon failed: ${error}`, first);
      }
    } else {
      const timeoutSeconds = hw.drainTimeoutSeconds;
      try {
        operation = (
          await startDrain(this.#o.store, c.id, {
            node: m.hostname,
            timeoutSeconds,
            reason: d.reason.slice(0, DRAIN_REASON_MAX),
            episode: d.episode,
            actor: HARDWARE_WATCH_ACTOR,
            events: [
              line('warning', `${head}: draining it (spec.hardware.onRisk: drain), a drain operation`, {
                ...first,
                cordoned: true,
              }),
            ],
          })
        ).operation.id;
      } catch (e) {
        if (!busy(e)) {
          error = (e as Error).message;
          await event('error', `${head}: cannot drain it: ${error}`, first);
        } else {
          // Another operation (or a scale) holds the cluster: no new pods now, the drain later.
          deferred = true;
          const p = {
            clusterId: c.id,
            node: m.hostname,
            reason: d.reason,
            episode: d.episode,
            timeoutSeconds,
          };
          this.#deferred.set(m.machineId, p);
          const cordoned = await this.#o.kube.cordon(kubeconfig, m.hostname).then(
            () => true,
            (x: Error) => x.message,
          );
          await event(
            'warning',
            `${head}: ${cordoned === true ? 'cordoned now' : `not cordoned (${cordoned})`}; the drain starts on a later pass: ${(e as Error).message.split(';')[0]}`,
            { deferred: true, timeoutSeconds, cordoned: cordoned === true },
          );
        }
      }
    }
    return {
      cluster: c.name,
      node: m.hostname,
      machineId: m.machineId,
      action: d.action,
      reason: d.reason,
      error,
      operation,
      ...(deferred ? { deferred } : {}),
    };
  }
}
