import type { RenderContext } from '../context.ts';
import { toYamlStreamDirect } from '../yaml-emit.ts';
import { backupManifests } from './backups.ts';
import { cniManifests } from './cni.ts';
import { gitopsManifests } from './gitops.ts';
import type { K8sObject } from './helm.ts';
import { helmControllerManifests } from './helm-controller.ts';
import { metallbManifests } from './metallb.ts';
import { observabilityManifests } from './observability.ts';
import { namespaceManifests, networkPolicyManifests } from './security.ts';
import { storageManifests } from './storage.ts';

/**
 * Cluster manifests as numbered files (applied in name order on kubeadm, auto-deployed by
 * k3s/RKE2). Empty files are left out.
 */
export function clusterManifests(
  ctx: RenderContext,
): { name: string; objects: K8sObject[]; content: string }[] {
  const files: [string, K8sObject[]][] = [
    ['00-namespaces.yaml', namespaceManifests(ctx)],
    ['10-helm-controller.yaml', helmControllerManifests(ctx)],
    ['20-cni.yaml', cniManifests(ctx)],
    ['30-metallb.yaml', metallbManifests(ctx)],
    ['40-storage.yaml', storageManifests(ctx)],
    ['50-observability.yaml', observabilityManifests(ctx)],
    ['60-network-policies.yaml', networkPolicyManifests(ctx)],
    ['70-etcd-backup.yaml', backupManifests(ctx)],
    ['80-gitops.yaml', gitopsManifests(ctx)],
  ];
  // helm-controller only runs charts: without any, its image would be pulled for nothing.
  const charts = files.some(([, objects]) => objects.some((o) => /^HelmChart/.test(String(o.kind))));
  return files
    .filter(([name, objects]) => objects.length > 0 && (charts || name !== '10-helm-controller.yaml'))
    .map(([name, objects]) => ({
      name: `ingot-${name}`,
      objects,
      content: toYamlStreamDirect(objects, ctx.yaml),
    }));
}
