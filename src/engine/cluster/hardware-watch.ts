/**
 * Hardware-driven drain (issue 16, docs/day2.md): after each health poll round the region looks
 * at every member of its running clusters — each disk's newest and previous SMART report (from
 * commissioning or the node agent, by serial) and the machine's newest BMC poll — and applies
 * the cluster's `spec.hardware.onRisk` policy through `hardwareDecision` (src/core): alert on
 * the timeline, cordon, or drain through the Eviction API with PodDisruptionBudgets honoured
 * (`drainClusterNode`; a drain a PDB holds leaves the node cordoned and names the PDB). Once per
 * episode: the reason acted on is remembered per machine (seeded from the timeline, so a region
 * restart repeats nothing); a node already cordoned is not cordoned or drained again.
 */
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { ClusterState } from '../../core/cluster-lifecycle.ts';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import {
  type DiskPair,
  HardwareAction,
  type HardwarePolicy,
  hardwareDecision,
} from '../../core/hardware-drain.ts';
import type { DiskHealth, HealthSample } from '../../core/health.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import { drainClusterNode } from './node-maintenance.ts';

/** The timeline event of every hardware-driven decision; `data.reason` is the episode. */
export const HARDWARE_RISK_EVENT = 'cluster.node.hardware-risk';

/** Disk reports looked back on: the two newest per serial are what counts. */
const DISK_LOOKBACK_MS = 30 * 86_400_000;

export interface HardwareOutcome {
  readonly cluster: string;
  readonly node: string;
  readonly machineId: string;
  readonly action: HardwareAction;
  readonly reason: string;
  /** The drain's or cordon's error, when it did not go through. */
  readonly error: string | null;
}

export interface HardwareWatchOptions {
  readonly store: Store;
  readonly kube: KubePort;
  readonly now?: () => number;
  readonly log?: { warn(o: object, msg: string): void };
}

/** Each serial's newest report and the one before it. */
export function diskPairs(history: readonly DiskHealth[]): DiskPair[] {
  const bySerial = new Map<string, DiskHealth[]>();
  for (const d of history) bySerial.set(d.serial, [...(bySerial.get(d.serial) ?? []), d]);
  return [...bySerial.values()].map((l) => {
    const sorted = [...l].sort((a, b) => b.at - a.at);
    return { newest: sorted[0], previous: sorted[1] ?? null };
  });
}

export class HardwareWatch {
  readonly #o: HardwareWatchOptions;
  /** Machine → the episode last acted on (absent: none). */
  readonly #acted = new Map<string, string>();
  readonly #seeded = new Set<string>();
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
    const clusters = (await this.#o.store.listClusters()).filter((c) => c.state === ClusterState.Running);
    if (clusters.length === 0) return [];
    const samples = new Map<string, HealthSample>(
      (await this.#o.store.latestHealth()).map((x) => [x.sample.machineId, x.sample]),
    );
    const out: HardwareOutcome[] = [];
    for (const c of clusters) {
      let policy: HardwarePolicy;
      let timeoutMs: number;
      try {
        const spec = parseClusterFile(c.clusterFile).spec;
        policy = spec.hardware.onRisk;
        timeoutMs = spec.hardware.drainTimeoutSeconds * 1000;
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
          const r = await this.#member(c, m, policy, timeoutMs, kubeconfig, samples.get(m.machineId) ?? null);
          if (r) out.push(r);
        } catch (e) {
          this.#o.log?.warn(
            { cluster: c.name, node: m.hostname, err: (e as Error).message },
            'hardware watch failed',
          );
        }
      }
    }
    return out;
  }

  async #lastEpisode(machineId: string): Promise<string | null> {
    if (!this.#seeded.has(machineId)) {
      this.#seeded.add(machineId);
      const events = await this.#o.store.listEvents({ machineId, limit: 50, newestFirst: true });
      const last = events.find((e) => e.type === HARDWARE_RISK_EVENT);
      if (typeof last?.data?.episode === 'string') this.#acted.set(machineId, last.data.episode);
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
    policy: HardwarePolicy,
    timeoutMs: number,
    kubeconfig: string | null,
    newest: HealthSample | null,
  ): Promise<HardwareOutcome | null> {
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
    if (!d.reason) {
      this.#acted.delete(m.machineId); // the episode is over: the next trigger is a new one
      return null;
    }
    if (d.action === HardwareAction.None) return null;
    const acts = d.action === HardwareAction.Cordon || d.action === HardwareAction.Drain;
    if (acts && kubeconfig !== null && (await this.#o.kube.isCordoned(kubeconfig, m.hostname)))
      d = hardwareDecision({ ...input, cordoned: true });
    this.#acted.set(m.machineId, d.episode);
    const event = (level: 'warning' | 'error', message: string, data: Record<string, unknown> = {}) =>
      this.#o.store.appendEvents([
        {
          type: HARDWARE_RISK_EVENT,
          level,
          clusterId: c.id,
          machineId: m.machineId,
          actor: 'hardware',
          message,
          data: { node: m.hostname, reason: d.reason, episode: d.episode, policy, action: d.action, ...data },
        },
      ]);
    const head = `${m.hostname}'s hardware is at risk (${d.reason})`;
    let error: string | null = null;
    if (d.action === HardwareAction.Alert) {
      await event(
        'warning',
        `${head}: ${d.skipped ?? `policy alert (spec.hardware.onRisk): the node is left as it is`}`,
      );
    } else if (kubeconfig === null) {
      error = `cluster ${c.name} has no admin kubeconfig`;
      await event('error', `${head}: cannot ${d.action} it: ${error}`);
    } else if (d.action === HardwareAction.Cordon) {
      try {
        await this.#o.kube.cordon(kubeconfig, m.hostname);
        await event('warning', `${head}: cordoned (spec.hardware.onRisk: cordon); its pods keep running`);
      } catch (e) {
        error = (e as Error).message;
        await event('error', `${head}: cordon failed: ${error}`);
      }
    } else {
      await event('warning', `${head}: draining it (spec.hardware.onRisk: drain)`);
      try {
        const r = await drainClusterNode(this.#o.store, this.#o.kube, c.id, m.hostname, {
          timeoutMs,
          force: false,
          actor: 'hardware',
        });
        await event('warning', `${head}: drained, ${r.evicted.length} pod(s) evicted; replace the part`, {
          evicted: r.evicted,
        });
      } catch (e) {
        // drainClusterNode put the reason (the PDB) on the cluster's timeline; the machine's gets it too.
        error = (e as Error).message;
        await event('error', `${head}: drain stopped, the node stays cordoned: ${error}`);
      }
    }
    return {
      cluster: c.name,
      node: m.hostname,
      machineId: m.machineId,
      action: d.action,
      reason: d.reason,
      error,
    };
  }
}
