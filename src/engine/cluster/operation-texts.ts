/**
 * What an operation's timeline says, by kind: a control plane's start and its end, the
 * operation's success (operation-run.ts writes them as it goes).
 */
import { type ClusterOperation, describeChange, type NodeStep, OperationKind } from '../../core/operation.ts';

/** What a node's start says on the timeline. */
export function startedText(op: ClusterOperation): string {
  if (op.kind === OperationKind.CertRotate)
    return 'certificate rotation started: kubeadm certs renew all, then its static pods restarted';
  if (op.kind === OperationKind.Upgrade)
    return `upgrade to ${op.params.target} started: cordoning and draining (Eviction API) before its kubelet restarts`;
  return `reconfigure started: ${op.params.changes.map(describeChange).join(', ')}`;
}

/** A control plane's step once its node agent's script ended well, and what the timeline says. */
export const CP_DONE: Partial<Record<OperationKind, readonly [NodeStep, (first: boolean) => string]>> = {
  reconfigure: [
    'reconfigured',
    () =>
      'kube-apiserver manifest regenerated (kubeadm init phase control-plane apiserver) and running with the new flags',
  ],
  'cert-rotate': [
    'renewed',
    () => 'certificates renewed (kubeadm certs renew all) and the static pods restarted on them',
  ],
  upgrade: [
    'upgraded',
    (first) =>
      `${first ? 'kubeadm upgrade apply' : 'kubeadm upgrade node'} done, kubelet restarted, the API answers`,
  ],
};

/** A node's drain, as the timeline says it. */
export function drainedText(d: { evicted: readonly string[]; kept: readonly string[] }): string {
  return `drained: ${d.evicted.length} pods evicted, ${d.kept.length} kept`;
}

/** The operation's success, as the timeline says it. */
export function succeededText(op: ClusterOperation): string {
  const what = `${op.kind} ${op.id} succeeded`;
  if (op.kind === OperationKind.CertRotate) return `${what}: certificates renewed on every control plane`;
  if (op.kind === OperationKind.Upgrade) return `${what}: every node at ${op.params.target}`;
  if (op.kind === OperationKind.OsReplace)
    return `${what}: ${op.progress.nodes.map((n) => n.hostname).join(', ')} redeployed with image ${op.params.image} and Ready`;
  return `${what}: ${op.params.changes.map(describeChange).join(', ')} on every control plane`;
}
