import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Inventory, parseInventory } from './inventory.ts';
import { formatPlan } from './plan/format.ts';
import { buildPlan } from './plan/plan.ts';
import type { Plan } from './plan/types.ts';
import { readPkiDir, writePkiDir } from './pki/dir.ts';
import { generatePki } from './pki/generate.ts';
import type { PkiMaterial } from './pki/types.ts';
import { type Artifact, renderArtifacts } from './render/index.ts';
import { resolveSecrets, type SecretSource } from './render/secrets.ts';
import { writeArtifacts } from './render/write.ts';
import { parseClusterFile } from './spec/parse.ts';
import type { ClusterSpec } from './spec/types.ts';

export type { Inventory } from './inventory.ts';
export { parseInventory } from './inventory.ts';
export { formatPlan, formatWhatIf } from './plan/format.ts';
export { buildPlan } from './plan/plan.ts';
export type { Plan, PlannedNode, WhatIfRow } from './plan/types.ts';
export { generatePki } from './pki/generate.ts';
export type { CertExpiry, PkiMaterial } from './pki/types.ts';
export {
  type Artifact,
  ArtifactKind,
  type NodeRender,
  renderArtifacts,
  renderNodes,
} from './render/index.ts';
export { resolveSecrets, type SecretSource } from './render/secrets.ts';
export { clusterSchema } from './spec/schema.ts';
export { parseClusterFile, validateCluster } from './spec/parse.ts';
export type { ClusterSpec } from './spec/types.ts';

/** The group of the admin certificate: kubeadm ≥ 1.29 binds `kubeadm:cluster-admins`, others use system:masters. */
export function adminGroup(spec: ClusterSpec): string {
  const minor = Number(spec.spec.version.split('.')[1]);
  return spec.spec.distribution === 'kubeadm' && minor >= 29 ? 'kubeadm:cluster-admins' : 'system:masters';
}

/**
 * A new cluster's PKI (src/cluster/pki/generate.ts): the admin group its Kubernetes binds, and
 * an RSA service-account key where kubeadm before 1.31 (v1beta3 and older) needs one for a
 * control plane to join.
 */
export function clusterPki(spec: ClusterSpec, now?: Date): Promise<PkiMaterial> {
  const minor = Number(spec.spec.version.split('.')[1]);
  return generatePki(adminGroup(spec), now, {
    rsaServiceAccountKey: spec.spec.distribution === 'kubeadm' && minor < 31,
  });
}

export function loadClusterFiles(
  clusterPath: string,
  inventoryPath: string,
): { spec: ClusterSpec; inventory: Inventory } {
  return {
    spec: parseClusterFile(readFileSync(clusterPath, 'utf8'), clusterPath),
    inventory: parseInventory(readFileSync(inventoryPath, 'utf8'), inventoryPath),
  };
}

export function planCluster(spec: ClusterSpec, inventory: Inventory): { plan: Plan; text: string } {
  const plan = buildPlan(spec, inventory);
  return { plan, text: formatPlan(plan) };
}

/**
 * Offline render into `outDir`: plans, resolves secrets, reuses `<outDir>/pki` when present (so
 * re-rendering is byte-stable) or generates it, renders everything in memory, and only then
 * writes. Any error leaves the directory as it was.
 */
export async function renderClusterToDir(
  spec: ClusterSpec,
  inventory: Inventory,
  outDir: string,
  secretSource: SecretSource,
  now?: Date,
): Promise<{ plan: Plan; artifacts: Artifact[]; pki: PkiMaterial }> {
  const plan = buildPlan(spec, inventory);
  const secrets = resolveSecrets(spec, secretSource);
  const pkiDir = join(outDir, 'pki');
  const existing = readPkiDir(pkiDir);
  const pki = existing ?? (await clusterPki(spec, now));
  const artifacts = await renderArtifacts(spec, plan, pki, secrets);
  if (!existing) writePkiDir(pkiDir, pki);
  writeArtifacts(outDir, artifacts);
  return { plan, artifacts, pki };
}
