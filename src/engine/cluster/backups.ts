import { AgentTask } from '../../core/agent-protocol.ts';
import {
  type Backup,
  type BackupS3Keys,
  BackupState,
  BackupTrigger,
  dueBackupSlot,
  retentionVictims,
} from '../../core/backup.ts';
import type { Cluster } from '../../core/cluster.ts';
import { ClusterState } from '../../core/cluster-lifecycle.ts';
import { parseCron } from '../../core/cron.ts';
import { withDefaults } from '../../core/defaults.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { checkEtcdSnapshotResult, MAX_SNAPSHOT_BYTES } from '../../core/etcd-backup-protocol.ts';
import type { NewEvent } from '../../core/event.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Backups } from '../../cluster/spec/types.ts';
import type { Store } from '../../store/store.ts';
import { runNodeTask, type TaskWaitOptions } from './agent-shell.ts';
import type { S3Target } from './backup-s3.ts';
import { currentS3Secret, s3TargetOf } from './backup-s3-keys.ts';
import { ArtifactStoreTarget, type BackupTarget } from './backup-target.ts';

export interface BackupServiceOptions {
  store: Store;
  /** The region's artifacts dir (the rack's too): snapshots go to `etcd-snapshots/<cluster>/`. */
  artifactsDir: string;
  /** This region (its worker's owner): who holds a running backup's lease. */
  owner: string;
  /** @default 60 s */
  leaseMs?: number;
  /** How often schedules are looked at and backups claimed. @default 15 s */
  tickMs?: number;
  /** Largest snapshot accepted. @default 8 GiB */
  maxBytes?: number;
  wait?: TaskWaitOptions;
  now?: () => number;
  /** Where backups are kept. @default the artifact store (ArtifactStoreTarget) */
  target?: BackupTarget;
}

/** The control planes of a cluster (stacked etcd members), the init node first. */
export function controlPlanes(c: Cluster): string[] {
  return c.members
    .filter((m) => m.role === 'init' || m.role === 'control-plane')
    .sort((a, b) => a.order - b.order)
    .map((m) => m.hostname);
}

/**
 * The nodes running the cluster's etcd members: its dedicated etcd nodes (external topology),
 * else its control planes (stacked). Snapshots are taken on the first; a restore restores them all.
 */
export function etcdNodes(c: Cluster): string[] {
  const external = c.members
    .filter((m) => m.role === 'etcd')
    .sort((a, b) => a.order - b.order)
    .map((m) => m.hostname);
  return external.length > 0 ? external : controlPlanes(c);
}

/** The Cluster file's etcd backup settings, or null (none, or the in-cluster CronJob's S3). */
export function regionBackups(c: Cluster): NonNullable<Backups['etcd']> | null {
  const b = parseClusterFile(c.clusterFile, `cluster ${c.name}`).spec.backups.etcd;
  return b && !b.s3 ? b : null;
}

export class BackupService {
  readonly #o: Required<Omit<BackupServiceOptions, 'wait' | 'target'>> & { wait: TaskWaitOptions };
  /** The region's artifact store (or the target the options gave). */
  readonly target: BackupTarget;
  readonly #s3 = new Map<string, S3Target>();
  readonly #running = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #again = false;

  constructor(o: BackupServiceOptions) {
    // The other options as given, the defaulted ones through withDefaults: the region passes its
    // `backupTickMs` through as undefined, and `{ tickMs: 15_000, ...o }` ticked every
    // millisecond (src/core/defaults.ts).
    const defaults = {
      leaseMs: 60_000,
      tickMs: 15_000,
      maxBytes: MAX_SNAPSHOT_BYTES,
      now: Date.now,
      wait: {},
    };
    this.#o = { ...o, ...withDefaults<typeof defaults & { wait: TaskWaitOptions }>(defaults, o) };
    this.target = o.target ?? new ArtifactStoreTarget(o.artifactsDir);
  }

  get artifactsDir(): string {
    return this.#o.artifactsDir;
  }

  start(): void {
    this.#timer = setInterval(() => this.nudge(), this.#o.tickMs);
    this.nudge();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
    await Promise.allSettled(this.#running.values());
    for (const t of this.#s3.values()) t.destroy();
    this.#s3.clear();
  }

  /**
   * Where a backup of `c` is kept: the bucket of its Cluster file's `target: region-s3` (its keys
   * unsealed from the store), else the artifact store. A `location` given (a kept backup's)
   * chooses by its kind, so backups kept before a change of target stay readable.
   */
  async targetFor(c: Cluster, location?: string | null): Promise<BackupTarget> {
    if (location !== undefined && location !== null && !location.startsWith('s3://')) return this.target;
    const b = regionBackups(c);
    if (b?.target !== 'region-s3' || !b.regionS3) {
      if (location)
        throw new IngotError(
          ErrorCode.Conflict,
          `backup location ${location} is in S3 but cluster ${c.name}'s Cluster file has no target: region-s3`,
        );
      return this.target;
    }
    const secret = await currentS3Secret(this.#o.store, c);
    if (secret === null)
      throw new IngotError(
        ErrorCode.Config,
        `cluster ${c.name} has target: region-s3 but no sealed S3 keys (it was created before the target was set): give them with \`ingot cluster backup s3-keys ${c.name}\``,
      );
    const cached = this.#s3.get(`${c.id}/${secret}`);
    if (cached) return cached;
    const keys = JSON.parse(await this.#o.store.getSecret(secret)) as BackupS3Keys;
    const t = s3TargetOf(b.regionS3, keys, this.#o.artifactsDir);
    this.#s3.set(`${c.id}/${secret}`, t);
    return t;
  }

  /** Forgets the cluster's S3 clients (its keys were rotated): the next backup unseals the new ones. */
  forgetS3(clusterId: string): void {
    for (const [k, t] of this.#s3)
      if (k.startsWith(`${clusterId}/`)) {
        t.destroy();
        this.#s3.delete(k);
      }
  }

  /** Looks at schedules and claims backups now (after a create). */
  nudge(): void {
    if (this.#ticking) {
      // A round is under way: run one more after it, so a create is never left for the timer.
      this.#again = true;
      return;
    }
    this.#ticking = this.tick()
      .catch(() => undefined)
      .finally(() => {
        this.#ticking = null;
        if (this.#again && this.#timer) {
          this.#again = false;
          this.nudge();
        }
      });
  }

  /** One round: due slots recorded, backups claimed and started, leases extended. */
  async tick(): Promise<void> {
    const now = this.#o.now();
    for (const c of await this.#o.store.listClusters()) {
      if (c.state !== ClusterState.Running) continue;
      const b = (() => {
        try {
          return regionBackups(c);
        } catch {
          return null;
        }
      })();
      if (!b) continue;
      const slot = dueBackupSlot(parseCron(b.schedule), {
        lastSlot: await this.#o.store.backups.lastSlot(c.id),
        clusterCreatedAt: Date.parse(c.createdAt),
        now,
      });
      if (slot !== null)
        await this.#o.store.backups.insert(
          { clusterId: c.id, trigger: BackupTrigger.Schedule, slot, reason: `schedule "${b.schedule}"` },
          (id) => [
            {
              type: 'cluster.backup.requested',
              actor: 'region',
              clusterId: c.id,
              message: `scheduled etcd backup ${id} for ${new Date(slot).toISOString()} ("${b.schedule}")`,
              data: { backup: id, slot: new Date(slot).toISOString() },
            },
          ],
          now,
        );
    }
    await this.#o.store.backups.heartbeat(this.#o.owner, this.#o.leaseMs, now);
    for (const b of await this.#o.store.backups.claim(this.#o.owner, this.#o.leaseMs, now)) {
      const p = this.#run(b).finally(() => this.#running.delete(b.id));
      this.#running.set(b.id, p);
    }
  }

  /** Records a manual backup of the cluster and starts it; answers at once with the record. */
  async create(ref: string, actor: string): Promise<Backup> {
    const c = await this.#o.store.getCluster(ref);
    if (c.state !== ClusterState.Running)
      throw new IngotError(
        ErrorCode.Conflict,
        `cluster ${c.name} is ${c.state}: a backup needs a running cluster`,
      );
    const b = await this.#o.store.backups.insert(
      { clusterId: c.id, trigger: BackupTrigger.Manual, slot: null, reason: `requested by ${actor}` },
      (id) => [
        {
          type: 'cluster.backup.requested',
          actor,
          clusterId: c.id,
          message: `etcd backup ${id} requested by ${actor}`,
          data: { backup: id },
        },
      ],
      this.#o.now(),
    );
    this.nudge();
    return b!;
  }

  async list(ref: string): Promise<{ cluster: Cluster; backups: Backup[] }> {
    const cluster = await this.#o.store.getCluster(ref);
    return { cluster, backups: await this.#o.store.backups.list(cluster.id) };
  }

  /** A backup of the cluster, or a NotFound naming the command that lists them. */
  async get(ref: string, id: string): Promise<{ cluster: Cluster; backup: Backup }> {
    const cluster = await this.#o.store.getCluster(ref);
    const backup = await this.#o.store.backups.get(id);
    if (!backup || backup.clusterId !== cluster.id)
      throw new IngotError(
        ErrorCode.NotFound,
        `backup ${id} of cluster ${cluster.name} not found: \`ingot cluster backup ls ${cluster.name}\` lists them`,
        { details: { backup: id } },
      );
    return { cluster, backup };
  }

  /** Waits for the backups this region runs (tests). */
  async settled(): Promise<void> {
    await this.#ticking;
    await Promise.allSettled(this.#running.values());
  }

  async #run(b: Backup): Promise<void> {
    const { store } = this.#o;
    const c = await store.getCluster(b.clusterId);
    const ev = (
      type: string,
      level: NewEvent['level'],
      message: string,
      data: Record<string, unknown> = {},
    ) => ({
      type,
      level,
      actor: 'region',
      clusterId: c.id,
      message,
      data: { backup: b.id, ...data },
    });
    const node = etcdNodes(c)[0];
    const upload = this.target.uploadPath(c.name, b.id);
    let target: BackupTarget = this.target;
    try {
      target = await this.targetFor(c);
      if (!node) throw new IngotError(ErrorCode.Config, `cluster ${c.name} has no etcd member to snapshot`);
      const m = c.members.find((x) => x.hostname === node)!;
      await store.appendEvents([
        ev('cluster.backup.started', 'info', `etcd backup ${b.id}: snapshot on ${node}`, { node }),
      ]);
      const r = checkEtcdSnapshotResult(
        await runNodeTask(
          store,
          {
            machineId: m.machineId,
            jobId: b.id,
            name: AgentTask.EtcdSnapshot,
            params: { artifact: upload, maxBytes: this.#o.maxBytes },
            what: `etcd backup ${b.id} on ${node}`,
          },
          this.#o.wait,
        ),
      );
      // The region checks what the rack stored against what the node measured.
      const location = await target.keep(upload, r);
      const done = await store.backups.finish(
        b.id,
        this.#o.owner,
        {
          state: BackupState.Done,
          reason: `taken on ${node}`,
          takenAt: this.#o.now(),
          node,
          sizeBytes: r.bytes,
          sha256: r.sha256,
          location,
          revision: r.revision,
          totalKeys: r.totalKeys,
        },
        [
          ev(
            'cluster.backup.done',
            'info',
            `etcd backup ${b.id} taken on ${node}: ${r.bytes} bytes, revision ${r.revision}, ${r.totalKeys} keys, sha256 ${r.sha256}`,
            { node, sha256: r.sha256, bytes: r.bytes, location },
          ),
        ],
      );
      if (done) await this.retention(c);
    } catch (e) {
      const ended = await store.backups.finish(
        b.id,
        this.#o.owner,
        { state: BackupState.Failed, reason: (e as Error).message },
        [
          ev('cluster.backup.failed', 'warning', `etcd backup ${b.id} failed: ${(e as Error).message}`, {
            node,
          }),
        ],
      );
      // Only the region that still held the backup removes what its failure left.
      if (ended) await this.target.remove(upload);
    }
  }

  /** Applies the Cluster file's retention to the cluster's backups; returns the ids removed. */
  async retention(c: Cluster): Promise<string[]> {
    const b = regionBackups(c);
    if (!b) return [];
    const victims = retentionVictims(
      await this.#o.store.backups.list(c.id),
      { keep: b.retention, maxAgeDays: b.maxAgeDays },
      this.#o.now(),
    );
    if (victims.length === 0) return [];
    const why = `retention: keep ${b.retention}${b.maxAgeDays ? `, at most ${b.maxAgeDays} days old` : ''}`;
    const gone = await this.#o.store.backups.markDeleted(
      victims.map((v) => v.id),
      why,
      victims.map((v) => ({
        type: 'cluster.backup.deleted',
        actor: 'region',
        clusterId: c.id,
        message: `etcd backup ${v.id} removed (${why})`,
        data: { backup: v.id },
      })),
    );
    // The record first, then the file: a listed backup always has its file.
    for (const v of victims)
      if (gone.includes(v.id) && v.location) await (await this.targetFor(c, v.location)).remove(v.location);
    return gone;
  }
}
