/**
 * The cluster lifecycle as one table, like the machine's (lifecycle.ts): which action is
 * allowed in which state, where it leads and which workflow it starts. The engine asks this
 * table and applies the answer with a compare-and-set in the store.
 *
 *   (create) → creating → running → deleting → deleted
 *
 * Every in-progress state has a failed twin that keeps the reason (a node's last message);
 * `retry` resumes the failed workflow at the step it had not finished. `updating` and its twin
 * belong to day-2 changes: `scale` enters it (upgrades will too).
 */

export const ClusterState = {
  Creating: 'creating',
  Running: 'running',
  Updating: 'updating',
  Deleting: 'deleting',
  Deleted: 'deleted',
  FailedCreating: 'failed_creating',
  FailedUpdating: 'failed_updating',
  FailedDeleting: 'failed_deleting',
} as const;
export type ClusterState = (typeof ClusterState)[keyof typeof ClusterState];
export const CLUSTER_STATES: readonly ClusterState[] = Object.values(ClusterState);

export const ClusterAction = {
  Create: 'create',
  Delete: 'delete',
  Retry: 'retry',
  /** Add workers from ready machines or remove workers (docs/day2.md "Scale"). */
  Scale: 'scale',
} as const;
export type ClusterAction = (typeof ClusterAction)[keyof typeof ClusterAction];
export const CLUSTER_ACTIONS: readonly ClusterAction[] = Object.values(ClusterAction);

/** Cluster workflows; their job kinds are prefixed so they never collide with a machine's. */
export const ClusterWorkflow = {
  Create: 'cluster-create',
  Delete: 'cluster-delete',
  Scale: 'cluster-scale',
  /** A day-2 operation (core/operation.ts): its one step walks the roll the operation records. */
  Operation: 'cluster-operation',
} as const;
export type ClusterWorkflow = (typeof ClusterWorkflow)[keyof typeof ClusterWorkflow];
export const CLUSTER_WORKFLOWS: readonly ClusterWorkflow[] = Object.values(ClusterWorkflow);

/** The single-action steps of cluster workflows (src/engine/cluster/steps.ts runs each one). */
export const ClusterStep = {
  /** Deploy every member with the kubernetes-node image through its machine deploy job. */
  DeployNodes: 'deploy-nodes',
  /** Bootstrap the first control plane (`kubeadm init`); its admin kubeconfig is stored. */
  BootstrapInit: 'bootstrap-init',
  /** Join the other control planes (and external etcd members), one at a time. */
  BootstrapControlPlanes: 'bootstrap-control-planes',
  /** Join the workers, a bounded number at once. */
  BootstrapWorkers: 'bootstrap-workers',
  /** Every node registered and Ready. */
  WaitReady: 'wait-ready',
  /** Drain the nodes (skipped when the API does not answer). */
  Drain: 'drain',
  /** Release (and wipe) every member through its machine release job, and wait for them. */
  ReleaseNodes: 'release-nodes',
  /** Scale out: a fresh join token (1 h) from a control plane's node agent, for the new workers' files. */
  ScaleToken: 'scale-token',
  /** Scale out: the new workers' bootstrap (kubeadm join with that token), a bounded number at once. */
  ScaleJoin: 'scale-join',
  /**
   * A control-plane scale, one at a time: each new one joined (`kubeadm join --control-plane`,
   * fresh credentials) after a quorum check, its etcd member healthy and Node Ready; each leaving
   * one quorum-checked, drained, its etcd member removed, its Node deleted.
   */
  ScaleControlPlanes: 'scale-control-planes',
  /** Scale in: cordon and drain (Eviction API, PDBs respected) each leaving worker, delete its Node. */
  ScaleDrain: 'scale-drain',
  /** Scale in: release (and wipe) each leaving worker, then drop it from the members. */
  ScaleRelease: 'scale-release',
  /** Run the cluster's operation to its end (its progress is on the operation row). */
  Operation: 'operation',
} as const;
export type ClusterStep = (typeof ClusterStep)[keyof typeof ClusterStep];
export const CLUSTER_STEPS: readonly ClusterStep[] = Object.values(ClusterStep);

const S = ClusterState;
const T = ClusterStep;

/** States in which a workflow drives the cluster, each with the failed twin it lands in. */
export const CLUSTER_IN_PROGRESS: Readonly<Partial<Record<ClusterState, ClusterState>>> = {
  [S.Creating]: S.FailedCreating,
  [S.Updating]: S.FailedUpdating,
  [S.Deleting]: S.FailedDeleting,
};

export interface ClusterWorkflowRule {
  /** The state the cluster is in while the workflow runs. */
  readonly running: ClusterState;
  /** Where it lands when the workflow succeeds. */
  readonly success: ClusterState;
  readonly steps: readonly ClusterStep[];
}

export const CLUSTER_WORKFLOW_RULES: Readonly<Record<ClusterWorkflow, ClusterWorkflowRule>> = {
  [ClusterWorkflow.Create]: {
    running: S.Creating,
    success: S.Running,
    steps: [T.DeployNodes, T.BootstrapInit, T.BootstrapControlPlanes, T.BootstrapWorkers, T.WaitReady],
  },
  [ClusterWorkflow.Delete]: {
    running: S.Deleting,
    success: S.Deleted,
    steps: [T.Drain, T.ReleaseNodes],
  },
  [ClusterWorkflow.Scale]: {
    running: S.Updating,
    success: S.Running,
    steps: [
      T.ScaleToken,
      T.DeployNodes,
      T.ScaleJoin,
      T.ScaleControlPlanes,
      T.WaitReady,
      T.ScaleDrain,
      T.ScaleRelease,
    ],
  },
  [ClusterWorkflow.Operation]: { running: S.Updating, success: S.Running, steps: [T.Operation] },
};

export interface ClusterActionRule {
  /** States where the action is allowed; `null` stands for "no cluster of that name yet". */
  readonly from: readonly (ClusterState | null)[];
  /** The state the cluster enters at once, from the state it is in. */
  readonly to: (from: ClusterState | null) => ClusterState;
  /** The workflow it starts, from the state it is in. */
  readonly workflow: (from: ClusterState | null) => ClusterWorkflow;
  readonly description: string;
}

const FAILED = [S.FailedCreating, S.FailedUpdating, S.FailedDeleting] as const;

/**
 * Which failed state resumes which workflow. `failed_updating` resumes the day-2 workflow that
 * failed — a scale or an operation — which only the cluster's last job knows: `retryWorkflow`.
 */
const RETRY: Readonly<Partial<Record<ClusterState, { to: ClusterState; workflow: ClusterWorkflow }>>> = {
  [S.FailedCreating]: { to: S.Creating, workflow: ClusterWorkflow.Create },
  [S.FailedDeleting]: { to: S.Deleting, workflow: ClusterWorkflow.Delete },
  [S.FailedUpdating]: { to: S.Updating, workflow: ClusterWorkflow.Scale },
};

export const CLUSTER_ACTION_RULES: Readonly<Record<ClusterAction, ClusterActionRule>> = {
  [ClusterAction.Create]: {
    // A deleted cluster's name may be used again: the new cluster replaces the old row.
    from: [null, S.Deleted],
    to: () => S.Creating,
    workflow: () => ClusterWorkflow.Create,
    description: 'allocate ready machines, deploy them and bootstrap Kubernetes on them',
  },
  [ClusterAction.Delete]: {
    from: [S.Running, ...FAILED],
    to: () => S.Deleting,
    workflow: () => ClusterWorkflow.Delete,
    description: 'drain the nodes, then release and wipe every machine of the cluster',
  },
  [ClusterAction.Retry]: {
    from: Object.keys(RETRY) as ClusterState[],
    to: (from) => RETRY[from as ClusterState]!.to,
    workflow: (from) => RETRY[from as ClusterState]!.workflow,
    description:
      'resume the failed workflow at the step that failed (a halted operation at the node it stopped on)',
  },
  [ClusterAction.Scale]: {
    from: [S.Running],
    to: () => S.Updating,
    workflow: () => ClusterWorkflow.Scale,
    description: 'add workers from ready machines, or drain, delete and release workers',
  },
};

/** Actions allowed in a state, in table order: what a 409 lists and the console offers. */
export function allowedClusterActions(state: ClusterState | null): ClusterAction[] {
  return CLUSTER_ACTIONS.filter((a) => CLUSTER_ACTION_RULES[a].from.includes(state));
}

export type ClusterPlan =
  | { ok: true; action: ClusterAction; to: ClusterState; workflow: ClusterWorkflow }
  | { ok: false; allowed: ClusterAction[] };

/** Decides what an action does to a cluster in `state` (null: no such cluster). Pure. */
export function planClusterAction(action: ClusterAction, state: ClusterState | null): ClusterPlan {
  const rule = CLUSTER_ACTION_RULES[action];
  if (!rule.from.includes(state)) return { ok: false, allowed: allowedClusterActions(state) };
  return { ok: true, action, to: rule.to(state), workflow: rule.workflow(state) };
}

/** The workflows a cluster in `updating` may be running (its failed twin resumes the one that failed). */
const UPDATING_WORKFLOWS: readonly ClusterWorkflow[] = [ClusterWorkflow.Scale, ClusterWorkflow.Operation];

/**
 * The workflow a retry from `state` resumes, given the kind of the cluster's last job: in
 * `failed_updating` that job's workflow when it is one that runs in `updating` (a halted
 * operation is retried as that operation, not as a scale); otherwise the table's.
 */
export function retryWorkflow(state: ClusterState, lastJobKind: string | null): ClusterWorkflow | null {
  const rule = RETRY[state];
  if (!rule) return null;
  if (
    state === S.FailedUpdating &&
    lastJobKind &&
    (UPDATING_WORKFLOWS as readonly string[]).includes(lastJobKind)
  )
    return lastJobKind as ClusterWorkflow;
  return rule.workflow;
}

/** Where a cluster workflow's end leaves a cluster still in the workflow's running state. */
export function clusterWorkflowEnd(
  workflow: ClusterWorkflow,
  status: 'done' | 'failed',
): { from: ClusterState; to: ClusterState } {
  const rule = CLUSTER_WORKFLOW_RULES[workflow];
  return { from: rule.running, to: status === 'done' ? rule.success : CLUSTER_IN_PROGRESS[rule.running]! };
}

/**
 * Every state change the table allows, as (from, to) pairs: each action's move from each state
 * it is allowed in (a create from no cluster is an insert, not a move) and each workflow's end
 * (its running state to its success or its failed twin). The store refuses any other move, so a
 * state the table gives no way in is never written.
 */
export const CLUSTER_TRANSITIONS: readonly (readonly [ClusterState, ClusterState])[] = (() => {
  const out = new Map<string, readonly [ClusterState, ClusterState]>();
  const add = (from: ClusterState, to: ClusterState) => out.set(`${from}>${to}`, [from, to]);
  for (const a of CLUSTER_ACTIONS) {
    const rule = CLUSTER_ACTION_RULES[a];
    for (const from of rule.from) if (from !== null) add(from, rule.to(from));
  }
  for (const w of CLUSTER_WORKFLOWS) {
    const rule = CLUSTER_WORKFLOW_RULES[w];
    add(rule.running, rule.success);
    add(rule.running, CLUSTER_IN_PROGRESS[rule.running]!);
  }
  return [...out.values()];
})();

/** Whether the table lets a cluster move from `from` to `to` (CLUSTER_TRANSITIONS). */
export function clusterTransitionAllowed(from: ClusterState, to: ClusterState): boolean {
  return CLUSTER_TRANSITIONS.some(([f, t]) => f === from && t === to);
}

export function isClusterWorkflow(kind: string): kind is ClusterWorkflow {
  return (CLUSTER_WORKFLOWS as readonly string[]).includes(kind);
}
