/**
 * The region's control-plane port (remediate-control-plane.ts's ControlPlaneRemediation), the
 * remediation loop's default: how a control plane's `replace` rung reaches the nodes and brings
 * a spare up, with nothing but what create and scale already use.
 *
 * - `shell`: the cluster's node agents (agent-shell.ts: each command a `node-exec` task), as
 *   the etcd backups and the restore use them; the spare is reached the same way once deployed.
 * - `spare(machine, dead)`: the machine planned as one more control plane (the create's IPAM,
 *   scale.ts planControlPlane), then a scale job (scale-steps.ts) allocates it with the
 *   cluster's running → updating move, records the plan with it (and without the dead node), and
 *   deploys it through its machine's deploy job with the cluster's OS image and its rendered
 *   control-plane node files (certificates, kubeadm config, kube-vip) — the create's
 *   `deploy-nodes` step. The job does not join it (`controlPlaneSpare`: the join waits for the
 *   etcd member swap); its node agent answering ends this.
 * - `join(j)`: the spare's JoinConfiguration rendered again with the fresh token and the key the
 *   control-plane certificates were uploaded with (render/index.ts renderControlPlaneJoin),
 *   written to the spare through its node agent, then the node agent's `bootstrap` task with
 *   its control-plane bootstrap script — the create's join: `kubeadm join --config`, the
 *   kubelet's journal on a failure, Registered and Ready waits; a failure's reason is the phase
 *   it stopped in and the script's last lines (kubeadm's own words among them).
 *
 * Not for k3s/RKE2 (their servers join their own way) nor external etcd (no member to swap):
 * controlPlaneReplaceGap says why, and the loop fails the rung with it.
 */
import { randomBytes } from 'node:crypto';
import type { Plan, PlannedNode } from '../../cluster/plan/types.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { renderControlPlaneJoin } from '../../cluster/render/index.ts';
import { resolveSecrets, type SecretSource } from '../../cluster/render/secrets.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { ClusterSpec } from '../../cluster/spec/types.ts';
import { AgentTask } from '../../core/agent-protocol.ts';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import { CLUSTER_WORKFLOW_RULES, ClusterWorkflow, planClusterAction } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Machine } from '../../core/machine.ts';
import { checkBootstrapResult } from '../../core/node-agent-protocol.ts';
import type { ControlPlaneJoin } from '../../kube/etcd/members.ts';
import type { Store } from '../../store/store.ts';
import { envSecrets } from './actions.ts';
import { AgentNodeShell, runNodeTask, type TaskWaitOptions } from './agent-shell.ts';
import type { ControlPlaneRemediation, ControlPlaneSpare } from './remediate-control-plane.ts';
import type { RemediationMember } from './remediate.ts';
import { awaitClusterJob } from './remediate-replace.ts';
import { lastPlan, planControlPlane } from './scale.ts';

export interface RegionControlPlaneOptions {
  readonly store: Store;
  /** The region's artifact store: a file written to a node is staged there for its node agent. */
  readonly artifactsDir: string;
  /** The Cluster file's secrets, as the cluster jobs resolve them. @default the region's environment */
  readonly secrets?: SecretSource;
  /** @default "remediator" */
  readonly actor?: string;
  /** How long the spare's scale job (its deploy) may take. @default 2 400 000 ms (the deploy watchdog) */
  readonly deployTimeoutMs?: number;
  /**
   * The node agents' task limits. @default a 30 s pickup (a live agent long-polls; the fenced
   * node's never comes, and the quorum check asks every control plane)
   */
  readonly wait?: TaskWaitOptions;
}

/**
 * Why the region does not replace (or, `scales`, scale: scale-control-planes.ts) this cluster's
 * control planes, or null when it does.
 */
export function controlPlaneReplaceGap(
  spec: ClusterSpec,
  what: 'replaces' | 'scales' = 'replaces',
): string | null {
  const s = spec.spec;
  if (s.distribution !== 'kubeadm')
    return `a ${s.distribution} cluster's servers join their own way: the region ${what} kubeadm control planes only`;
  if (s.etcd.topology === 'external')
    return what === 'replaces'
      ? 'its etcd is external: the control planes hold no etcd member to swap, and a replace without the swap is not done yet'
      : 'its etcd is external: a control-plane scale adds and removes stacked etcd members, and one without them is not done yet';
  return null;
}

/** The region's control-plane port of each cluster (undefined where controlPlaneReplaceGap says why). */
export function regionControlPlane(o: RegionControlPlaneOptions) {
  return (cluster: Cluster): ControlPlaneRemediation | undefined => {
    if (controlPlaneReplaceGap(parseClusterFile(cluster.clusterFile, 'Cluster file'))) return undefined;
    // One port per remediation pass: its node tasks' job ids are `<op>.<n>`.
    const op = `cpr-${cluster.name}-${randomBytes(4).toString('hex')}`;
    const wait = { pickupMs: 30_000, ...o.wait };
    const shell = new AgentNodeShell({ store: o.store, cluster, op, artifactsDir: o.artifactsDir, wait });
    return {
      shell,
      spare: (machine, dead) => bringUpSpare(o, { cluster, shell, op, wait }, machine, dead),
    };
  };
}

interface PortState {
  readonly cluster: Cluster;
  readonly shell: AgentNodeShell;
  readonly op: string;
  readonly wait: TaskWaitOptions;
}

/** The spare allocated, planned and deployed by a scale job of its own, its node agent answering. */
async function bringUpSpare(
  o: RegionControlPlaneOptions,
  p: PortState,
  machine: Machine,
  dead: RemediationMember,
): Promise<ControlPlaneSpare> {
  const { store } = o;
  const actor = o.actor ?? 'remediator';
  const cluster = await store.getCluster(p.cluster.id);
  const decision = planClusterAction('scale', cluster.state);
  if (!decision.ok)
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `cannot deploy the spare ${machine.hostname} while cluster ${cluster.name} is ${cluster.state}`,
    );
  const last = await lastPlan(store, cluster);
  const node = await planControlPlane(store, cluster, machine.id);
  const plan: Plan = {
    ...(last.plan as Plan),
    nodes: [...(last.plan as Plan).nodes.filter((n) => n.hostname !== dead.node), node],
  };
  const member: ClusterMember = {
    machineId: node.machineId,
    hostname: node.hostname,
    role: 'control-plane',
    order: Math.max(0, ...cluster.members.map((m) => m.order)) + 1,
    address: node.address,
  };
  const { job } = await store.scaleCluster({
    clusterId: cluster.id,
    from: cluster.state,
    to: decision.to,
    reason: `${node.hostname} deployed as a control plane to replace ${dead.node} (remediation by ${actor})`,
    actor,
    add: [member],
    job: {
      kind: ClusterWorkflow.Scale,
      steps: [...CLUSTER_WORKFLOW_RULES[ClusterWorkflow.Scale].steps],
      params: {
        plan,
        pkiSecret: last.pkiSecret,
        ...(typeof last.image === 'string' ? { image: last.image } : {}),
        add: [node.hostname],
        remove: [],
        controlPlaneSpare: { hostname: node.hostname, replaces: dead.node },
      },
    },
  });
  try {
    await awaitClusterJob(store, job.id, o.deployTimeoutMs ?? 2_400_000);
    // Its node agent answers: the join's commands can reach it.
    await p.shell.exec(node.hostname, ['true']);
  } catch (e) {
    throw new Error(
      `the spare ${node.hostname} (machine ${machine.id}) was not deployed as a control plane: ${(e as Error).message}; it stays allocated to the cluster`,
    );
  }
  return {
    hostname: node.hostname,
    address: node.address,
    join: (j) => joinSpare(o, p, { plan, pkiSecret: String(last.pkiSecret), node }, j),
  };
}

/** `kubeadm join --control-plane` on the deployed spare with the fresh credentials, by its node agent. */
async function joinSpare(
  o: RegionControlPlaneOptions,
  p: PortState,
  s: { plan: Plan; pkiSecret: string; node: PlannedNode },
  j: ControlPlaneJoin,
): Promise<void> {
  const cluster = await o.store.getCluster(p.cluster.id);
  const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
  const pki = JSON.parse(await o.store.getSecret(s.pkiSecret)) as PkiMaterial;
  const r = await renderControlPlaneJoin(
    spec,
    s.plan,
    pki,
    resolveSecrets(spec, o.secrets ?? envSecrets),
    s.node.hostname,
    { token: j.token, certificateKey: j.certificateKey },
  );
  // kubeadm would refuse the discovery anyway; said here with both hashes (they are public).
  if (r.caHash !== j.caCertHash)
    throw new IngotError(
      ErrorCode.StepFailed,
      `${s.node.hostname}: the cluster's CA (${j.caCertHash}) is not the one the region rendered its nodes with (${r.caHash}): was the CA replaced outside Ingot?`,
    );
  await p.shell.writeFile(s.node.hostname, r.configPath, Buffer.from(r.config));
  const result = await runNodeTask(
    o.store,
    {
      machineId: s.node.machineId,
      jobId: `${p.op}.join`,
      name: AgentTask.Bootstrap,
      params: { role: 'control-plane', script: r.bootstrap },
      what: `${s.node.hostname}: kubeadm join ${j.endpoint} --control-plane`,
    },
    p.wait,
  );
  checkBootstrapResult(result, 'control-plane');
}
