/**
 * Binds a cluster job to its cluster for the job runner (../job-run.ts): each step gets the
 * cluster as it is now and the rendered node files (rendered once per run, from the job's plan,
 * the PKI sealed in the store and the region's secrets); the job's end moves the cluster as the
 * cluster lifecycle table says.
 */
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Plan } from '../../cluster/plan/types.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { type NodeRender, renderNodes } from '../../cluster/render/index.ts';
import { resolveSecrets, type SecretSource } from '../../cluster/render/secrets.ts';
import { ClusterWorkflow, clusterWorkflowEnd } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import type { KubePort } from '../../kube/port.ts';
import type { JobRunDeps, RunSubject } from '../job-run.ts';
import { envSecrets } from './actions.ts';
import { scaleJoinToken } from './scale-steps.ts';
import type { ClusterSnapshots } from './context.ts';
import { type ClusterLimits, clusterStepDef, DEFAULT_CLUSTER_LIMITS } from './steps.ts';

export interface ClusterEngineOptions {
  kube: KubePort;
  limits?: Partial<ClusterLimits>;
  secrets?: SecretSource;
  snapshots?: ClusterSnapshots;
}

/** The `clusterSubject` a worker is given (WorkerOptions.clusterSubject). */
export function clusterSubject(o: ClusterEngineOptions): (job: Job, d: JobRunDeps) => RunSubject {
  const limits = { ...DEFAULT_CLUSTER_LIMITS, ...o.limits };
  return (job, d) => {
    const clusterId = job.clusterId!;
    let rendered: Promise<Map<string, NodeRender>> | null = null;
    const nodes = async () => {
      rendered ??= (async () => {
        const cluster = await d.store.getCluster(clusterId);
        const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
        const plan = job.params.plan as Plan | undefined;
        if (!plan || typeof job.params.pkiSecret !== 'string')
          throw new IngotError(ErrorCode.Internal, `cluster job ${job.id} has no plan or PKI`);
        let pki = JSON.parse(await d.store.getSecret(job.params.pkiSecret)) as PkiMaterial;
        // A scale's new workers join with the fresh token its scale-token step made.
        if (job.kind === ClusterWorkflow.Scale) {
          const t = await scaleJoinToken(d.store, d.agent, cluster, job);
          if (!('token' in t))
            throw new IngotError(ErrorCode.Internal, `scale job ${job.id} has no join token yet`);
          pki = { ...pki, tokens: { ...pki.tokens, bootstrapToken: t.token } };
        }
        return renderNodes(spec, plan, pki, resolveSecrets(spec, o.secrets ?? envSecrets));
      })();
      rendered.catch(() => {
        rendered = null;
      });
      return rendered;
    };
    return {
      async step(name) {
        const def = clusterStepDef(name);
        const cluster = await d.store.getCluster(clusterId);
        const ctx = {
          cluster,
          job,
          store: d.store,
          agent: d.agent,
          kube: o.kube,
          nodes,
          limits,
          snapshots: o.snapshots,
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
