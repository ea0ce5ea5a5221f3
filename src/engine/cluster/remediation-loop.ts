/**
 * The region runs remediation by itself: every `intervalMs` it makes one remediation pass
 * (remediate.ts) on each running cluster whose Cluster file enables it
 * (`spec.remediation.enabled`, with its `unhealthyAfterSeconds` and `maxUnhealthy`), and tells
 * every rung and every guard halt on the cluster's timeline as `cluster.node.remediation`
 * events naming the node, the step and the reason (the member's machine timeline too).
 *
 * A pass awaits every remediation it starts, and a cluster whose pass is still running is
 * skipped by the next tick, so a node is never remediated twice at once. The same guard
 * message repeated pass after pass goes on the timeline once (until it changes).
 *
 * The members' machines give the failure domain (`zone/rack`, the planner's rackKey), the
 * operator's "broken" mark and the BMC (opened per rung with the machine's sealed password).
 * The BMC health rollup comes from the region's health poller's latest sample when it is
 * fresh (5 min), else from the BMC itself. Spares are the region's ready machines its role's
 * selectors allow, and a worker's `replace` rung is a scale job that joins the spare and marks
 * the dead machine broken (remediate-replace.ts), awaited until it ends; a control plane's is
 * the etcd member swap of remediate-control-plane.ts (quorum checked first, the spare deployed by
 * a scale job and joined with `kubeadm join --control-plane` by its node agent) through the
 * `controlPlane` port (the region's: control-plane-spare.ts), which also gives the fence its etcd
 * guard; where the region cannot replace one (k3s/RKE2, external etcd) the rung fails with the
 * reason and the node stays fenced. With
 * `spec.remediation.reprovision` a node's `reprovision` rung is an `os-replace` operation of
 * that one node (operation-os-replace.ts; a control plane's swaps its etcd member), awaited. Not a durable engine
 * operation yet: a region restarted mid-remediation starts again from the health it reads
 * (the replace's scale job itself is durable and resumes).
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { BmcDriver } from '../../bmc/driver.ts';
import { createBmcDriver } from '../../bmc/registry.ts';
import { rackKey } from '../../cluster/plan/quorum.ts';
import type { SecretSource } from '../../cluster/render/secrets.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Cluster } from '../../core/cluster.ts';
import { MachineState } from '../../core/lifecycle.ts';
import type { Machine } from '../../core/machine.ts';
import { FAKE_KUBECONFIG_MARKER } from '../../kube/fake.ts';
import type { Store } from '../../store/store.ts';
import { clusterMachines } from './context.ts';
import {
  type RemediationEvent,
  type RemediationMember,
  Remediator,
  type RemediatorPorts,
} from './remediate.ts';
import { requestAction } from '../actions.ts';
import { controlClusterOperation } from './operation-actions.ts';
import { startOsReplace } from './operation-os-replace.ts';
import type { TaskWaitOptions } from './agent-shell.ts';
import { controlPlaneReplaceGap, regionControlPlane } from './control-plane-spare.ts';
import { awaitClusterJob, readyMachines, replaceWorker, sparesFor } from './remediate-replace.ts';
import {
  type ControlPlaneRemediation,
  controlPlanesOf,
  etcdHealth,
  replaceControlPlaneMember,
} from './remediate-control-plane.ts';

export interface RemediationLoopOptions {
  readonly store: Store;
  /** How a machine's BMC is opened. @default Redfish/IPMI from its address and sealed password */
  readonly bmc?: (m: Machine, password: string) => BmcDriver;
  /**
   * The replace port. @default a worker is replaced by a scale job (remediate-replace.ts)
   * awaited up to `replaceTimeoutMs`; a control plane by the etcd member swap through `controlPlane`
   */
  readonly replace?: (cluster: Cluster) => RemediatorPorts['replace'];
  /**
   * How a cluster's control plane is replaced (remediate-control-plane.ts): a shell on its
   * control planes (also the etcd guard of the fence) and how a spare is brought up to join.
   * @default with `artifactsDir`, the region's (control-plane-spare.ts: the node agents, the
   * spare deployed by a scale job and joined by its node agent); none for a cluster where
   * controlPlaneReplaceGap says why (k3s/RKE2, external etcd): its replace rung fails with that
   */
  readonly controlPlane?: (cluster: Cluster) => ControlPlaneRemediation | undefined;
  /** The region's artifact store (the default control-plane port stages files for node agents there). */
  readonly artifactsDir?: string;
  /** The Cluster files' secrets (the spare's render). @default the region's environment */
  readonly secrets?: SecretSource;
  /** The default control-plane port's node-agent task limits (agent-shell.ts). */
  readonly nodeTasks?: TaskWaitOptions;
  /** How long a replace's scale job (deploy, join, Ready) may take. @default 1 800 000 ms */
  readonly replaceTimeoutMs?: number;
  /**
   * The reprovision port. @default with the Cluster file's `spec.remediation.reprovision`, an
   * OS replacement of the one dead node with its machine's image (operation-os-replace.ts),
   * awaited up to `reprovisionTimeoutMs`; without it the rung fails and the ladder goes on to replace
   */
  readonly reprovision?: (cluster: Cluster) => RemediatorPorts['reprovision'];
  /** How long a reprovision (redeploy, join, Ready) may take. @default 2 400 000 ms (the deploy watchdog) */
  readonly reprovisionTimeoutMs?: number;
  readonly fenceTimeoutMs?: number;
  readonly readyTimeoutMs?: number;
  /**
   * How the stored admin kubeconfig reaches the API from the region (the lab's API forward
   * rewrites the server address). @default as stored
   */
  readonly kubeconfig?: (stored: string) => string;
  /** The actor of the timeline events. @default "remediator" */
  readonly actor?: string;
}

/** A health poller's sample older than this is not trusted: the BMC is read instead. */
const HEALTH_FRESH_MS = 5 * 60_000;

const defaultBmc = (m: Machine, password: string): BmcDriver =>
  createBmcDriver({ address: m.bmc!.address, username: m.bmc!.username, password }, { timeoutMs: 10_000 });

const clusterSpecOf = (c: Cluster) => parseClusterFile(c.clusterFile, 'Cluster file');

/** The cluster's remediation policy, or null when its Cluster file does not enable it. */
export function remediationPolicyOf(c: Cluster) {
  const r = clusterSpecOf(c).spec.remediation;
  return r.enabled ? { unhealthyAfterSeconds: r.unhealthyAfterSeconds, maxUnhealthy: r.maxUnhealthy } : null;
}

export class RemediationLoop {
  readonly o: RemediationLoopOptions;
  readonly #running = new Set<string>();
  /** The last plan message per cluster and node, so a repeated guard halt is told once. */
  readonly #lastSaid = new Map<string, string>();

  /** The last pass failure per cluster, so the same one is told once. */
  readonly #lastFailure = new Map<string, string>();
  #stopped = false;

  constructor(o: RemediationLoopOptions) {
    this.o = o;
  }

  /**
   * No pass starts after this (the region is stopping). Passes already running are not
   * awaited: one may be waiting minutes for a node to be Ready.
   */
  stop(): void {
    this.#stopped = true;
  }

  /** One pass over every running cluster that enables remediation; errors go on the timeline. */
  async sweep(now = new Date()): Promise<void> {
    if (this.#stopped) return;
    for (const c of await this.o.store.listClusters()) {
      if (this.#stopped || c.state !== 'running' || this.#running.has(c.id)) continue;
      this.#running.add(c.id);
      // Passes of different clusters run side by side; one cluster's pass never overlaps itself.
      void this.passOn(c, now)
        .then(() => this.#lastFailure.delete(c.id))
        .catch((e) => {
          const message = `remediation pass failed: ${(e as Error).message.slice(0, 300)}`;
          // The same failure pass after pass (an API down for an hour) is told once.
          if (this.#lastFailure.get(c.id) === message) return;
          this.#lastFailure.set(c.id, message);
          return this.o.store.appendEvents([
            {
              type: 'cluster.remediation.failed',
              level: 'error',
              clusterId: c.id,
              actor: this.o.actor ?? 'remediator',
              message,
            },
          ]);
        })
        .catch(() => undefined)
        .finally(() => this.#running.delete(c.id));
    }
  }

  /** Whether any cluster's pass is still running (tests wait on it). */
  get busy(): boolean {
    return this.#running.size > 0;
  }

  /** One remediation pass on one cluster; null when its Cluster file does not enable remediation. */
  async passOn(c: Cluster, now = new Date()) {
    const policy = remediationPolicyOf(c);
    if (!policy) return null;
    const kubeconfig = await this.o.store.clusterKubeconfig(c.id);
    // A simulated (fake://) cluster has no API to remediate through.
    if (kubeconfig === null || kubeconfig.includes(FAKE_KUBECONFIG_MARKER)) return null;
    const nodes = c.members.filter((m) => m.role !== 'etcd');
    const machines = await clusterMachines(this.o.store, c, nodes);
    const byId = new Map(machines.map((m) => [m.id, m]));
    const passwords = new Map<string, string>();
    for (const m of machines) if (m.bmc) passwords.set(m.id, await this.o.store.bmcPassword(m));
    const members: RemediationMember[] = nodes.map((n, i) => ({
      node: n.hostname,
      machineId: n.machineId,
      role: n.role === 'worker' ? 'worker' : 'control-plane',
      domain: rackKey(machines[i]),
      machineBroken: machines[i].state === MachineState.Broken,
    }));
    const health = await this.#polledHealth(now);
    const r = this.#remediator(c, kubeconfig, policy, byId, passwords, health);
    return r.pass(members, now);
  }

  #remediator(
    c: Cluster,
    kubeconfig: string,
    policy: { unhealthyAfterSeconds: number; maxUnhealthy: number | string },
    machines: ReadonlyMap<string, Machine>,
    passwords: ReadonlyMap<string, string>,
    health: ReadonlyMap<string, 'OK' | 'Warning' | 'Critical' | null>,
  ): Remediator {
    const spec = clusterSpecOf(c);
    const kube = new KubeConfig();
    kube.loadFromString(this.o.kubeconfig ? this.o.kubeconfig(kubeconfig) : kubeconfig);
    const open = this.o.bmc ?? defaultBmc;
    const cp = this.#controlPlane(c);
    const ports: RemediatorPorts = {
      kube,
      bmc: (id) => {
        const m = machines.get(id);
        if (!m?.bmc) throw new Error(`machine ${id} has no BMC: it cannot be fenced`);
        return open(m, passwords.get(id) ?? '');
      },
      bmcHealth: (id) => health.get(id),
      spares: async (m) =>
        sparesFor(spec, machines.get(m.machineId)!, m.role, await readyMachines(this.o.store)),
      etcd: cp ? () => etcdHealth(cp.shell, controlPlanesOf(c)) : undefined,
      replace: this.o.replace
        ? this.o.replace(c)
        : (m, spare, why) =>
            m.role === 'control-plane'
              ? this.#replaceControlPlane(c, kube, cp, m, spare, why)
              : this.#replace(c, m, spare, why),
      reprovision: this.o.reprovision
        ? this.o.reprovision(c)
        : spec.spec.remediation.reprovision
          ? (m) => this.#reprovision(c, m)
          : undefined,
      event: (e) => this.#tell(c, e),
    };
    const options = {
      policy,
      fenceTimeoutMs: this.o.fenceTimeoutMs,
      readyTimeoutMs: this.o.readyTimeoutMs,
    };
    // A new one per pass (the kubeconfig and passwords read afresh): a pass awaits every
    // remediation it starts, and passes of one cluster never overlap, so none is in progress here.
    return new Remediator(ports, options);
  }

  /** The control-plane port of `c`: the option's, else the region's where it can replace one. */
  #controlPlane(c: Cluster): ControlPlaneRemediation | undefined {
    if (this.o.controlPlane) return this.o.controlPlane(c);
    const { artifactsDir, secrets } = this.o;
    if (!artifactsDir) return undefined;
    return regionControlPlane({
      store: this.o.store,
      artifactsDir,
      secrets,
      actor: this.o.actor,
      wait: this.o.nodeTasks,
    })(c);
  }

  /** The default replace: a scale job that swaps the dead worker for the spare, awaited. */
  async #replace(c: Cluster, m: RemediationMember, spare: string, why: string): Promise<string> {
    const r = await replaceWorker(this.o.store, c.id, {
      node: m.node,
      spare,
      reason: `remediation: ${why}`,
      actor: this.o.actor ?? 'remediator',
    });
    await awaitClusterJob(this.o.store, r.job.id, this.o.replaceTimeoutMs ?? 1_800_000);
    return `${r.hostname} (spare ${spare}) joined and Ready; ${m.node}'s machine marked broken`;
  }

  /**
   * A control plane's replace: the etcd member swap of remediate-control-plane.ts, each of its
   * steps on the timeline as a `replace` rung event of the node.
   */
  async #replaceControlPlane(
    c: Cluster,
    kube: KubeConfig,
    port: ControlPlaneRemediation | undefined,
    m: RemediationMember,
    spare: string,
    why: string,
  ): Promise<string> {
    if (!port) {
      const why =
        controlPlaneReplaceGap(clusterSpecOf(c)) ??
        'the region was started without an artifact store for its node agents (RemediationLoopOptions.artifactsDir)';
      throw new Error(
        `${m.node} is a control plane the region cannot replace: ${why}; it stays fenced: replace it by hand or restore (ingot cluster backup restore)`,
      );
    }
    return replaceControlPlaneMember({
      store: this.o.store,
      cluster: await this.o.store.getCluster(c.id),
      port,
      kube,
      dead: m,
      spareMachineId: spare,
      why: `remediation: ${why}`,
      actor: this.o.actor ?? 'remediator',
      readyTimeoutMs: this.o.readyTimeoutMs,
      say: (step, message, level = 'info') =>
        this.#tell(c, {
          node: m.node,
          step: 'replace',
          level,
          message: `${step}: ${message}`,
          at: new Date().toISOString(),
        }),
    });
  }

  /**
   * The default reprovision: an `os-replace` operation over the dead node alone (not drained,
   * redeployed with the image its machine runs, joined with a fresh token, Ready), awaited; a
   * control plane's (kubeadm, stacked etcd, 3 or more) has its etcd member removed through a
   * live one first and rejoins with `kubeadm join --control-plane` (operation-os-replace-cp.ts),
   * where the operation refuses it (the quorum, the topology) the rung fails with why. A
   * halt ends it aborted with the cluster running, so the replace rung can follow; past the
   * timeout it is aborted (and the machine's deploy with it).
   */
  async #reprovision(c: Cluster, m: RemediationMember): Promise<void> {
    const store = this.o.store;
    const deploy = (await store.listJobs({ machineId: m.machineId }, 50)).find((j) => j.kind === 'deploy');
    const image = deploy?.params.image;
    if (typeof image !== 'string')
      throw new Error(`${m.node}'s machine has no deploy of a named OS image to deploy again`);
    const actor = this.o.actor ?? 'remediator';
    const { operation, job } = await startOsReplace(store, c.id, {
      image,
      nodes: [m.node],
      dead: [m.node],
      abortOnHalt: true,
      actor,
    });
    try {
      await awaitClusterJob(store, job.id, this.o.reprovisionTimeoutMs ?? 2_400_000);
    } catch (e) {
      await controlClusterOperation(store, c.id, 'abort', actor).catch(() => undefined);
      const machine = await store.getMachine(m.machineId);
      if (machine.state === 'deploying')
        await requestAction(store, {
          machineId: m.machineId,
          action: 'abort',
          actor,
          comment: 'the reprovision timed out',
        }).catch(() => undefined);
      throw e;
    }
    const op = await store.getOperation(operation.id);
    if (op.state !== 'succeeded') throw new Error(op.reason);
  }

  /**
   * The BMC health rollups the region's health poller recorded in the last `HEALTH_FRESH_MS`
   * (one query per pass); a machine without a fresh sample is read from its BMC.
   */
  async #polledHealth(now: Date): Promise<Map<string, 'OK' | 'Warning' | 'Critical' | null>> {
    const out = new Map<string, 'OK' | 'Warning' | 'Critical' | null>();
    for (const { sample } of await this.o.store.latestHealth()) {
      if (!sample.reachable || now.getTime() - sample.at > HEALTH_FRESH_MS) continue;
      const h = sample.health;
      out.set(
        sample.machineId,
        h === 'critical' ? 'Critical' : h === 'warning' ? 'Warning' : h === 'ok' ? 'OK' : null,
      );
    }
    return out;
  }

  #tell(c: Cluster, e: RemediationEvent): void {
    const key = `${c.id}\0${e.node}`;
    if (e.step === 'plan' && e.level === 'warning' && this.#lastSaid.get(key) === e.message) return;
    this.#lastSaid.set(key, e.message);
    const member = c.members.find((m) => m.hostname === e.node);
    this.o.store
      .appendEvents([
        {
          type: 'cluster.node.remediation',
          level: e.level,
          clusterId: c.id,
          machineId: member?.machineId ?? null,
          actor: this.o.actor ?? 'remediator',
          message: `${e.node}: ${e.message}`,
          data: { node: e.node, step: e.step },
        },
      ])
      .catch(() => undefined);
  }
}
