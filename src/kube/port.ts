/**
 * What the region asks of a cluster's Kubernetes API: its conditions (API reachable, etcd
 * members and quorum, nodes Ready, the earliest certificate expiry) and a drain before its
 * machines are released. `client.ts` is the real one over @kubernetes/client-node; `fake.ts`
 * answers for unit tests and simulated (fake://) clusters.
 */
import type { ClusterConditions } from '../core/cluster.ts';
import type { JoinToken } from '../core/cluster.ts';
import type { NodeHeard } from '../core/etcd-restore.ts';
import type { DrainResult } from './drain.ts';
import type { NodeRequests } from './requests.ts';

export interface KubePort {
  /** Reads the conditions; an API that does not answer is `apiReachable: false`, never a throw. */
  conditions(kubeconfig: string): Promise<ClusterConditions>;
  /**
   * Cordons the nodes and evicts their pods (DaemonSet pods and mirror pods stay, as kubectl
   * drain leaves them). Throws a retryable INGOT_UNREACHABLE when the API does not answer.
   */
  drain(kubeconfig: string, nodes: readonly string[]): Promise<{ cordoned: number; evicted: number }>;
  /**
   * Drains one node through the Eviction API honouring PodDisruptionBudgets (drain.ts): throws
   * INGOT_DRAIN_BLOCKED naming the PDB when evictions are still refused at the timeout;
   * `onBlocked` is told each refusal meanwhile ("blocked by PDB ns/name").
   */
  drainNode(kubeconfig: string, node: string, o: DrainNodeOptions): Promise<DrainResult>;
  /** Makes the node schedulable again. */
  uncordon(kubeconfig: string, node: string): Promise<void>;
  /** Makes the node unschedulable (no eviction). */
  cordon(kubeconfig: string, node: string): Promise<void>;
  /** Whether the node is unschedulable now (cordoned by anyone). */
  isCordoned(kubeconfig: string, node: string): Promise<boolean>;
  /**
   * The CPU and memory its bound, unfinished pods request, per node name (requests.ts). Throws
   * a retryable INGOT_UNREACHABLE when the API does not answer.
   */
  requests(kubeconfig: string): Promise<Map<string, NodeRequests>>;
  /** Deletes the Node object (a drained node leaving the cluster); false when it was not there. */
  deleteNode(kubeconfig: string, node: string): Promise<boolean>;
  /**
   * Makes sure the cluster's join token is valid on its control plane for a join about to
   * start: re-creates kubeadm's bootstrap-token Secret with a fresh expiry when it expired (or
   * has less than 15 min left); leaves a valid one alone (bootstrap-token.ts).
   */
  ensureBootstrapToken(kubeconfig: string, token: JoinToken): Promise<'valid' | 'created'>;
  /**
   * The versions an upgrade's skew rules check (core/version-skew.ts): each kube-apiserver's
   * (its static pod's image tag, by node) and each Node's kubelet. Optional: a port without it
   * leaves the check to the versions Ingot recorded. Throws a retryable INGOT_UNREACHABLE when
   * the API does not answer.
   */
  versions?(kubeconfig: string): Promise<ClusterVersions>;
  /**
   * Every Node with its Ready condition and when its kubelet last renewed its lease
   * (`kube-node-lease`): a restore's nodes are back once heard after the control plane started
   * again. Throws a retryable INGOT_UNREACHABLE when the API does not answer.
   */
  nodesHeard?(kubeconfig: string): Promise<NodeHeard[]>;
}

export interface DrainNodeOptions {
  readonly timeoutMs: number;
  readonly force: boolean;
  readonly onBlocked?: (pod: string, reason: string) => void;
}

export interface ClusterVersions {
  apiServers: { node: string; version: string }[];
  kubelets: { node: string; version: string }[];
}
