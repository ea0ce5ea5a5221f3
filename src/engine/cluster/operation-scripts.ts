/**
 * The script a node's agent runs for its part of an operation (as its `bootstrap` task): a
 * reconfigure's from the operation's new Cluster file, a certificate rotation's, an upgrade's
 * (`kubeadm upgrade apply` on the first control plane, `upgrade node` on the others and on
 * workers).
 */
import type { Plan } from '../../cluster/plan/types.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { certRotateScript } from '../../cluster/render/cert-rotate.ts';
import { reconfigureScript } from '../../cluster/render/reconfigure.ts';
import { upgradeScript } from '../../cluster/render/upgrade.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { bundleNamePrefix } from '../../core/bundle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { type ClusterOperation, OperationKind } from '../../core/operation.ts';
import type { ClusterStepContext } from './context.ts';

/** `hostname`'s script for its `part` of the operation `op`. */
export async function nodeScript(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  hostname: string,
  part: 'first' | 'control-plane' | 'worker',
): Promise<string> {
  const plan = ctx.job.params.plan as Plan;
  const node = plan.nodes.find((n) => n.hostname === hostname);
  if (!node) throw new IngotError(ErrorCode.Internal, `${hostname} is not in the cluster's plan`);
  const file = parseClusterFile(op.params.clusterFile, 'Cluster file');
  const port = file.spec.endpoint.port;
  if (op.kind === OperationKind.CertRotate) return certRotateScript({ hostname, ip: node.ip, port });
  if (op.kind === OperationKind.Upgrade) {
    if (!op.params.target)
      throw new IngotError(ErrorCode.Internal, `upgrade ${op.id} names no target version`);
    const bundle = file.spec.packages.source === 'bundle';
    return upgradeScript({
      hostname,
      part,
      target: op.params.target,
      ip: node.ip,
      port,
      // A bundle cluster's node installs the target's bundle from its rack first.
      ...(bundle
        ? { ignorePreflightErrors: ['ImagePull'], bundlePrefix: bundleNamePrefix(op.params.target) }
        : {}),
    });
  }
  const pki = JSON.parse(await ctx.store.getSecret(ctx.job.params.pkiSecret as string)) as PkiMaterial;
  const expect: Record<string, string> = {};
  for (const c of op.params.changes) if (c.to !== null) expect[c.flag] = c.to;
  return reconfigureScript({
    spec: parseClusterFile(op.params.clusterFile, 'Cluster file'),
    plan,
    pki,
    node,
    first: part === 'first',
    expect,
    absent: op.params.changes.filter((c) => c.to === null).map((c) => c.flag),
  });
}
