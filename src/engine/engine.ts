/**
 * The engine of one region: a job worker plus the watchdog sweep, and the action entry point
 * the API calls. Several regions on one PostgreSQL each run one; leases share the work.
 */
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { WatchdogLimits } from '../core/lifecycle.ts';
import type { KubePort } from '../kube/port.ts';
import type { Store } from '../store/store.ts';
import { type ActionRequest, type ActionResult, requestAction } from './actions.ts';
import type { Cluster } from '../core/cluster.ts';
import type { Job } from '../core/job.ts';
import {
  type ClusterActionResult,
  type CreateClusterRequest,
  clusterAction,
  createCluster,
} from './cluster/actions.ts';
import { refreshConditions } from './cluster/conditions.ts';
import type { ClusterOperation } from '../core/operation.ts';
import { type DrainRequest, startDrain } from './cluster/drain-start.ts';
import { uncordonClusterNode } from './cluster/node-maintenance.ts';
import { type ScaleClusterInput, scaleCluster } from './cluster/scale.ts';
import { RemediationLoop, type RemediationLoopOptions } from './cluster/remediation-loop.ts';
import { sweepWatchdog } from './watchdog.ts';
import { Worker, type WorkerOptions } from './worker.ts';

export interface EngineOptions extends WorkerOptions {
  /** How often the watchdog sweeps. @default 30 seconds */
  watchdogIntervalMs?: number;
  watchdog?: WatchdogLimits;
  /** How often the conditions of clusters with an API are read again. @default 60 seconds */
  clusterConditionsIntervalMs?: number;
  /**
   * How often running clusters whose Cluster file enables remediation get a remediation pass
   * (cluster/remediation-loop.ts); 0 runs none. @default 30 seconds
   */
  remediationIntervalMs?: number;
  /** The remediation loop's options beyond the store (timeouts, the kubeconfig seam). */
  remediation?: Omit<RemediationLoopOptions, 'store'>;
}

export class Engine {
  readonly worker: Worker;
  readonly #store: Store;
  readonly #o: EngineOptions;
  #timer: NodeJS.Timeout | null = null;
  #conditions: NodeJS.Timeout | null = null;
  #remediationTimer: NodeJS.Timeout | null = null;
  /** Remediation passes on running clusters (the Cluster file's spec.remediation). */
  readonly remediation: RemediationLoop;

  constructor(o: EngineOptions) {
    this.#o = o;
    this.#store = o.store;
    this.worker = new Worker(o);
    this.remediation = new RemediationLoop({
      bmc: o.bmcFactory,
      secrets: o.cluster?.secrets,
      ...o.remediation,
      store: o.store,
    });
  }

  get owner(): string {
    return this.worker.owner;
  }

  start(): void {
    this.worker.start();
    this.#timer = setInterval(() => {
      sweepWatchdog(this.#store, this.#o.watchdog).catch(() => undefined);
    }, this.#o.watchdogIntervalMs ?? 30_000);
    const kube = this.#o.cluster?.kube;
    if (kube)
      this.#conditions = setInterval(() => {
        refreshConditions(this.#store, kube).catch(() => undefined);
      }, this.#o.clusterConditionsIntervalMs ?? 60_000);
    const every = this.#o.remediationIntervalMs ?? 30_000;
    if (kube && every > 0)
      this.#remediationTimer = setInterval(() => {
        this.remediation.sweep().catch(() => undefined);
      }, every);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#conditions) clearInterval(this.#conditions);
    if (this.#remediationTimer) clearInterval(this.#remediationTimer);
    this.remediation.stop();
    await this.worker.stop();
  }

  async act(req: ActionRequest): Promise<ActionResult> {
    const r = await requestAction(this.#store, req);
    if (r.from !== r.machine.state) this.#o.hooks?.transition?.(r.from, r.machine.state);
    if (r.job) this.worker.nudge();
    return r;
  }

  /** Creates a cluster from its Cluster file (see cluster/actions.ts); its create job starts at once. */
  async createCluster(req: CreateClusterRequest): Promise<{ cluster: Cluster; job: Job }> {
    const r = await createCluster(this.#store, { secrets: this.#o.cluster?.secrets, ...req });
    this.worker.nudge();
    return r;
  }

  /** Delete or retry a cluster, as the cluster lifecycle table allows. */
  async clusterAct(
    ref: string,
    action: 'delete' | 'retry',
    actor: string,
    params?: { wipe?: 'quick' | 'secure' },
  ): Promise<ClusterActionResult> {
    const r = await clusterAction(this.#store, ref, action, actor, params);
    if (r.job) this.worker.nudge();
    return r;
  }

  /** The region's Kubernetes client for clusters (capacity reads pod requests through it). */
  get kube(): KubePort | null {
    return this.#o.cluster?.kube ?? null;
  }

  /** Scales a running cluster's workers (see cluster/scale.ts); its scale job starts at once. */
  async scaleCluster(ref: string, req: ScaleClusterInput): Promise<{ cluster: Cluster; job: Job | null }> {
    const r = await scaleCluster(this.#store, ref, req);
    if (r.job) this.worker.nudge();
    return r;
  }

  #kube(): KubePort {
    const kube = this.#o.cluster?.kube;
    if (!kube) throw new IngotError(ErrorCode.Config, 'this region has no Kubernetes client for clusters');
    return kube;
  }

  /**
   * Starts the drain of one node of a cluster (a `drain` operation: Eviction API, PDBs
   * honoured); answers once it is recorded, the job runs it.
   */
  async drainNode(ref: string, req: DrainRequest): Promise<ClusterOperation> {
    return (await startDrain(this.#store, ref, req)).operation;
  }

  uncordonNode(ref: string, node: string, actor: string): Promise<void> {
    return uncordonClusterNode(this.#store, this.#kube(), ref, node, actor);
  }
}
