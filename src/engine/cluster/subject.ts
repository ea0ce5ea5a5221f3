/**
 * Binds a cluster job to its cluster for the job runner (../job-run.ts): each step gets the
 * cluster as it is now and the rendered node files (rendered once per run, from the job's plan,
 * the PKI sealed in the store and the region's secrets); the job's end moves the cluster as the
 * cluster lifecycle table says.
 */
import { withDefaults } from '../../core/defaults.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Plan } from '../../cluster/plan/types.ts';
import { type JoinToken, parseJoinToken } from '../../cluster/pki/join-token.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { type NodeRender, renderNodes } from '../../cluster/render/index.ts';
import { resolveSecrets, type SecretSource } from '../../cluster/render/secrets.ts';
import type { Cluster } from '../../core/cluster.ts';
import { ClusterWorkflow, clusterWorkflowEnd } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import type { KubePort } from '../../kube/port.ts';
import type { JobRunDeps, RunSubject } from '../job-run.ts';
import { envSecrets } from './actions.ts';
import { scaleJoinToken } from './scale-steps.ts';
import type { ClusterSnapshots } from './context.ts';
import type { ClusterRestoreDeps } from './restore-run.ts';
import { type ClusterLimits, clusterStepDef, DEFAULT_CLUSTER_LIMITS } from './steps.ts';

export interface ClusterEngineOptions {
  kube: KubePort;
  limits?: Partial<ClusterLimits>;
  secrets?: SecretSource;
  snapshots?: ClusterSnapshots;
  restore?: ClusterRestoreDeps;
}

/**
 * The create's sealed join token. A job from before join tokens were minted per create has
 * none: its nodes were deployed with the PKI's token, so that one (24 h) is rendered again.
 */
async function joinToken(d: JobRunDeps, job: Job): Promise<JoinToken> {
  if (typeof job.params.joinTokenSecret === 'string')
    return parseJoinToken(await d.store.getSecret(job.params.joinTokenSecret));
  const pki = JSON.parse(await d.store.getSecret(String(job.params.pkiSecret))) as PkiMaterial;
  return { token: pki.tokens.bootstrapToken, ttlSeconds: 24 * 3600 };
}

/**
 * The join token a job's nodes render and join with: a scale's or an OS replacement's fresh
 * one (made on a control plane by its node agent, 1 h, before any node is rendered), else the
 * create's.
 */
async function tokenFor(d: JobRunDeps, job: Job, cluster: Cluster): Promise<JoinToken> {
  if (job.kind !== ClusterWorkflow.Scale && job.params.freshJoinToken !== true) return joinToken(d, job);
  const t = await scaleJoinToken(d.store, d.agent, cluster, job);
  if (!('token' in t)) throw new IngotError(ErrorCode.Internal, `job ${job.id} has no join token yet`);
  return { token: t.token, ttlSeconds: 3600 };
}

/** The `clusterSubject` a worker is given (WorkerOptions.clusterSubject). */
export function clusterSubject(o: ClusterEngineOptions): (job: Job, d: JobRunDeps) => RunSubject {
  const limits = withDefaults(DEFAULT_CLUSTER_LIMITS, o.limits);
  return (job, d) => {
    const clusterId = job.clusterId!;
    let rendered: Promise<Map<string, NodeRender>> | null = null;
    let cluster: Cluster | undefined;
    const nodes = async () => {
      rendered ??= (async () => {
        const cluster = await d.store.getCluster(clusterId);
        const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
        const plan = job.params.plan as Plan | undefined;
        if (!plan || typeof job.params.pkiSecret !== 'string')
          throw new IngotError(ErrorCode.Internal, `cluster job ${job.id} has no plan or PKI`);
        const pki = JSON.parse(await d.store.getSecret(job.params.pkiSecret)) as PkiMaterial;
        return renderNodes(
          spec,
          plan,
          pki,
          resolveSecrets(spec, o.secrets ?? envSecrets),
          await tokenFor(d, job, cluster),
        );
      })();
      rendered.catch(() => {
        rendered = null;
      });
      return rendered;
    };
    return {
      async step(name) {
        const def = clusterStepDef(name);
        // A create reads its cluster once per run: its members do not change while it runs (the
        // step reads their machines itself); 1,000 members are not re-read on every poll. A scale
        // or an operation changes members or state as it goes: read at every step.
        cluster =
          job.kind === ClusterWorkflow.Create
            ? (cluster ?? (await d.store.getCluster(clusterId)))
            : await d.store.getCluster(clusterId);
        const ctx = {
          cluster,
          job,
          store: d.store,
          agent: d.agent,
          kube: o.kube,
          nodes,
          joinToken: () => tokenFor(d, job, cluster!),
          limits,
          snapshots: o.snapshots,
          restore: o.restore,
        };
        return { usesBmc: false, timeoutMs: def.timeoutMs, run: () => def.run(ctx) };
      },
      async end(status, error, actor) {
        const workflow = job.kind as ClusterWorkflow;
        const { from, to } = clusterWorkflowEnd(workflow, status);
        return {
          cluster: {
            from,
            to,
            reason: status === 'done' ? `${workflow} finished` : (error ?? `${workflow} failed`),
          },
          event: {
            type: status === 'done' ? 'job.done' : 'job.failed',
            level: status === 'done' ? 'info' : 'error',
            actor,
            clusterId,
            jobId: job.id,
            message: status === 'done' ? `${workflow} finished` : `${workflow} failed: ${error}`,
            data: { kind: job.kind },
          },
        };
      },
      async close() {},
    };
  };
}
