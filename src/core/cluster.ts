/**
 * A cluster as the region keeps it: the Cluster file it was created from, its members (the
 * machines allocated to it, with their role and bootstrap order), its lifecycle state with the
 * reason, and the conditions the engine last read from its Kubernetes API.
 */
import type { ClusterState } from './cluster-lifecycle.ts';

/** A member's part in the bootstrap: `init` is the first control plane. */
export const MemberRole = {
  Init: 'init',
  ControlPlane: 'control-plane',
  Etcd: 'etcd',
  Worker: 'worker',
} as const;
export type MemberRole = (typeof MemberRole)[keyof typeof MemberRole];
export const MEMBER_ROLES: readonly MemberRole[] = Object.values(MemberRole);

export interface ClusterMember {
  readonly machineId: string;
  readonly hostname: string;
  readonly role: MemberRole;
  /** Bootstrap order: the init node 0, then control planes, etcd, workers. */
  readonly order: number;
  /** The planned node address with prefix (`10.0.1.10/24`). */
  readonly address: string;
}

/** What the engine last read from the cluster's API (src/kube); null until first read. */
export interface ClusterConditions {
  readonly checkedAt: string;
  readonly apiReachable: boolean;
  /** Why the API did not answer, when it did not. */
  readonly apiError: string | null;
  readonly etcd: { readonly healthy: number; readonly members: number; readonly quorum: boolean } | null;
  readonly nodes: { readonly ready: number; readonly total: number } | null;
  /** The earliest expiry of the cluster's certificates (ISO). */
  readonly certificatesExpireAt: string | null;
}

export interface Cluster {
  readonly id: string;
  readonly name: string;
  readonly state: ClusterState;
  readonly stateReason: string;
  readonly stateEnteredAt: string;
  /** The Cluster file as submitted (YAML or JSON text). */
  readonly clusterFile: string;
  readonly distribution: string;
  readonly version: string;
  readonly endpoint: string;
  readonly members: readonly ClusterMember[];
  readonly conditions: ClusterConditions | null;
  readonly hasKubeconfig: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The owner a machine gets when a cluster allocates it. */
export function clusterOwner(name: string): string {
  return `cluster:${name}`;
}

/**
 * The kubeadm join token of a cluster a region creates (minted per create, short-lived, sealed:
 * src/cluster/pki/join-token.ts). A credential: never in an event, a log line or an error.
 */
export interface JoinToken {
  /** `[a-z0-9]{6}.[a-z0-9]{16}`: kubeadm's `<id>.<secret>`. */
  readonly token: string;
  /** Lifetime from `kubeadm init` (or from its re-creation on the control plane), in seconds. */
  readonly ttlSeconds: number;
}
