/**
 * The machine lifecycle as one table. Nothing else in Ingot decides which action is allowed
 * in which state or where it leads: the engine asks this table and applies the answer with a
 * compare-and-set in the store.
 *
 *   new → commissioning → ready → allocated → deploying → deployed → releasing → ready
 *
 * Every in-progress state has a failed twin and a watchdog. `broken` is set by an operator,
 * `rescue` boots the ephemeral OS for repair, `retired` is the end of a machine's life.
 */

export const MachineState = {
  New: 'new',
  Commissioning: 'commissioning',
  Ready: 'ready',
  Allocated: 'allocated',
  Deploying: 'deploying',
  Deployed: 'deployed',
  Releasing: 'releasing',
  Rescue: 'rescue',
  Broken: 'broken',
  Retired: 'retired',
  FailedCommissioning: 'failed_commissioning',
  FailedDeploying: 'failed_deploying',
  FailedReleasing: 'failed_releasing',
} as const;
export type MachineState = (typeof MachineState)[keyof typeof MachineState];
export const MACHINE_STATES: readonly MachineState[] = Object.values(MachineState);

export const Action = {
  Commission: 'commission',
  Allocate: 'allocate',
  Deploy: 'deploy',
  /** Write an OS image again onto a deployed machine and boot it (an OS replacement, a reprovision). */
  Redeploy: 'redeploy',
  Release: 'release',
  PowerOn: 'power-on',
  PowerOff: 'power-off',
  PowerCycle: 'power-cycle',
  Rescue: 'rescue',
  ExitRescue: 'exit-rescue',
  MarkBroken: 'mark-broken',
  MarkFixed: 'mark-fixed',
  Abort: 'abort',
  Retire: 'retire',
} as const;
export type Action = (typeof Action)[keyof typeof Action];
export const ACTIONS: readonly Action[] = Object.values(Action);

/** Workflows the engine knows how to run; WORKFLOW_RULES below says what each one is. */
export const WorkflowKind = {
  Commission: 'commission',
  Deploy: 'deploy',
  Release: 'release',
  PowerOn: 'power-on',
  PowerOff: 'power-off',
  PowerCycle: 'power-cycle',
  Rescue: 'rescue',
  ExitRescue: 'exit-rescue',
} as const;
export type WorkflowKind = (typeof WorkflowKind)[keyof typeof WorkflowKind];

const S = MachineState;

/** States in which a workflow is driving the machine; each has a failed twin and a watchdog. */
export const IN_PROGRESS: Readonly<
  Partial<Record<MachineState, { failed: MachineState; watchdogMs: number }>>
> = {
  [S.Commissioning]: { failed: S.FailedCommissioning, watchdogMs: 20 * 60_000 },
  [S.Deploying]: { failed: S.FailedDeploying, watchdogMs: 40 * 60_000 },
  [S.Releasing]: { failed: S.FailedReleasing, watchdogMs: 10 * 60_000 },
};

/** Watchdog limits in ms per in-progress state; operators may override them (`--watchdog`). */
export type WatchdogLimits = Partial<Record<MachineState, number>>;

export function watchdogFor(state: MachineState, overrides: WatchdogLimits = {}): number | null {
  const entry = IN_PROGRESS[state];
  if (!entry) return null;
  return overrides[state] ?? entry.watchdogMs;
}

/** What is known about a machine when an action is planned. */
export interface ActionContext {
  readonly state: MachineState;
  readonly rescueFrom: MachineState | null;
  readonly commissioned: boolean;
  readonly hasBmc: boolean;
}

export interface ActionRule {
  /** States where the action is allowed. */
  readonly from: readonly MachineState[];
  /** The state the machine enters at once; `null` keeps the current state (power actions). */
  readonly to: (ctx: ActionContext) => MachineState | null;
  /** The workflow started by the action, if any. */
  readonly workflow: WorkflowKind | null;
  /** Whether the action needs a BMC to be configured. */
  readonly needsBmc: boolean;
  /** Whether the action sets the owner (allocate, deploy); release clears it when its workflow succeeds. */
  readonly owner?: 'set';
  readonly description: string;
}

const always = (s: MachineState) => () => s;
const FAILED = [S.FailedCommissioning, S.FailedDeploying, S.FailedReleasing] as const;
/** States where no workflow runs and the BMC may be driven directly. */
const IDLE = [S.New, S.Ready, S.Allocated, S.Deployed, S.Broken, ...FAILED] as const;

export const ACTION_RULES: Readonly<Record<Action, ActionRule>> = {
  [Action.Commission]: {
    from: [S.New, S.Ready, S.Broken, S.FailedCommissioning],
    to: always(S.Commissioning),
    workflow: WorkflowKind.Commission,
    needsBmc: true,
    description: 'network-boot the ephemeral OS, inventory and test the hardware, then power off',
  },
  [Action.Allocate]: {
    from: [S.Ready],
    to: always(S.Allocated),
    workflow: null,
    needsBmc: false,
    owner: 'set',
    description: 'reserve a ready machine for the caller',
  },
  [Action.Deploy]: {
    from: [S.Ready, S.Allocated, S.FailedDeploying],
    to: always(S.Deploying),
    workflow: WorkflowKind.Deploy,
    needsBmc: true,
    owner: 'set',
    description: 'write the OS image to disk and boot it',
  },
  [Action.Redeploy]: {
    // Metal3's image change of a provisioned host: the machine keeps its owner and addresses,
    // its disk is written again from the ephemeral OS. Only from deployed: a machine never
    // deployed takes `deploy`, a failed deploy is deployed again with `deploy`.
    from: [S.Deployed],
    to: always(S.Deploying),
    workflow: WorkflowKind.Deploy,
    needsBmc: true,
    description: 'write an OS image again onto a deployed machine and boot it (keeps its owner)',
  },
  [Action.Release]: {
    from: [S.Allocated, S.Deployed, S.FailedDeploying, S.FailedReleasing],
    to: always(S.Releasing),
    workflow: WorkflowKind.Release,
    needsBmc: true,
    description: 'wipe the disks and return the machine to the ready pool',
  },
  [Action.PowerOn]: {
    from: IDLE,
    to: () => null,
    workflow: WorkflowKind.PowerOn,
    needsBmc: true,
    description: 'power the machine on through its BMC',
  },
  [Action.PowerOff]: {
    from: [...IDLE, S.Rescue],
    to: () => null,
    workflow: WorkflowKind.PowerOff,
    needsBmc: true,
    description: 'power the machine off through its BMC',
  },
  [Action.PowerCycle]: {
    from: [...IDLE, S.Rescue],
    to: () => null,
    workflow: WorkflowKind.PowerCycle,
    needsBmc: true,
    description: 'power-cycle the machine through its BMC',
  },
  [Action.Rescue]: {
    from: [S.Ready, S.Deployed, S.Broken, ...FAILED],
    to: always(S.Rescue),
    workflow: WorkflowKind.Rescue,
    needsBmc: true,
    description: 'boot the ephemeral OS for repair without touching the disks',
  },
  [Action.ExitRescue]: {
    from: [S.Rescue],
    to: (ctx) => ctx.rescueFrom ?? S.Ready,
    workflow: WorkflowKind.ExitRescue,
    needsBmc: true,
    description: 'leave rescue and return to the state the machine had before',
  },
  [Action.MarkBroken]: {
    from: [S.New, S.Ready, S.Allocated, S.Deployed, S.Rescue, ...FAILED],
    to: always(S.Broken),
    workflow: null,
    needsBmc: false,
    description: 'take the machine out of service for repair',
  },
  [Action.MarkFixed]: {
    from: [S.Broken],
    // A machine that was never commissioned has no trusted inventory: it goes back to new.
    to: (ctx) => (ctx.commissioned ? S.Ready : S.New),
    workflow: null,
    needsBmc: false,
    description: 'return a repaired machine to service',
  },
  [Action.Abort]: {
    from: [S.Commissioning, S.Deploying, S.Releasing],
    // Abort lands in the failed twin so the reason ("aborted by …") stays on the machine.
    to: (ctx) => IN_PROGRESS[ctx.state]?.failed ?? ctx.state,
    workflow: null,
    needsBmc: false,
    description: 'stop the running workflow; the machine moves to the failed state of its phase',
  },
  [Action.Retire]: {
    from: [S.New, S.Ready, S.Broken, ...FAILED],
    to: always(S.Retired),
    workflow: null,
    needsBmc: false,
    description: 'take the machine out of the inventory for good (it can then be deleted)',
  },
};

/** The single-action steps workflows are made of (src/engine/steps.ts runs each one). */
export const StepName = {
  SetBootDisk: 'set-boot-disk',
  /** Network-boot once: the one-time network override, then power on (or cycle). */
  Boot: 'boot',
  PowerOn: 'power-on',
  PowerOff: 'power-off',
  PowerCycle: 'power-cycle',
  WaitAgent: 'wait-agent',
  Inventory: 'inventory',
  HardwareTests: 'hardware-tests',
  WriteImage: 'write-image',
  WipeDisks: 'wipe-disks',
  WaitOs: 'wait-os',
} as const;
export type StepName = (typeof StepName)[keyof typeof StepName];
export const STEP_NAMES: readonly StepName[] = Object.values(StepName);

export interface WorkflowRule {
  /** The state the machine is in while the workflow drives it; null: it keeps any idle state. */
  readonly running: MachineState | null;
  /** Where it lands when it succeeds from `running`; null: it stays where it is. */
  readonly success: MachineState | null;
  /** Machine fields set in the same transaction as the success. */
  readonly onSuccess?: { readonly commissionedAt?: true; readonly owner?: 'clear' };
  /** The machine network-boots the ephemeral OS (the agent) while in `running`. */
  readonly bootsEphemeral: boolean;
  /** Counts against the per-rack limit: it network-boots a machine. */
  readonly bootHeavy: boolean;
  /** The ordered steps; each does one thing and is safe to repeat after a crash. */
  readonly steps: readonly StepName[];
}

const T = StepName;

export const WORKFLOW_RULES: Readonly<Record<WorkflowKind, WorkflowRule>> = {
  [WorkflowKind.Commission]: {
    running: S.Commissioning,
    success: S.Ready,
    onSuccess: { commissionedAt: true },
    bootsEphemeral: true,
    bootHeavy: true,
    steps: [T.Boot, T.WaitAgent, T.Inventory, T.HardwareTests, T.PowerOff],
  },
  [WorkflowKind.Deploy]: {
    running: S.Deploying,
    success: S.Deployed,
    bootsEphemeral: true,
    bootHeavy: true,
    steps: [T.Boot, T.WaitAgent, T.WriteImage, T.SetBootDisk, T.PowerCycle, T.WaitOs],
  },
  [WorkflowKind.Release]: {
    running: S.Releasing,
    success: S.Ready,
    onSuccess: { owner: 'clear' },
    // The disks are wiped from the ephemeral OS.
    bootsEphemeral: true,
    bootHeavy: true,
    steps: [T.Boot, T.WaitAgent, T.WipeDisks, T.PowerOff],
  },
  [WorkflowKind.PowerOn]: idleWorkflow(T.PowerOn),
  [WorkflowKind.PowerOff]: idleWorkflow(T.PowerOff),
  [WorkflowKind.PowerCycle]: idleWorkflow(T.PowerCycle),
  [WorkflowKind.Rescue]: {
    // The machine stays in rescue (booting the ephemeral OS) until exit-rescue.
    running: S.Rescue,
    success: null,
    bootsEphemeral: true,
    bootHeavy: true,
    steps: [T.Boot, T.WaitAgent],
  },
  [WorkflowKind.ExitRescue]: {
    // The state was restored when the action was accepted.
    running: null,
    success: null,
    bootsEphemeral: false,
    bootHeavy: false,
    steps: [T.SetBootDisk, T.PowerCycle],
  },
};

/** Power workflows drive the BMC only and never change the lifecycle state. */
function idleWorkflow(step: StepName): WorkflowRule {
  return { running: null, success: null, bootsEphemeral: false, bootHeavy: false, steps: [step] };
}

/** States in which a machine network-boots the ephemeral OS: the running states of such workflows. */
export const EPHEMERAL_STATES: ReadonlySet<MachineState> = new Set(
  Object.values(WORKFLOW_RULES)
    .filter((w) => w.bootsEphemeral && w.running !== null)
    .map((w) => w.running!),
);

/** The machine fields a workflow's success sets, at `now` (ISO). */
export function successFields(
  kind: WorkflowKind,
  now: string,
): { owner?: string; commissionedAt?: string } | undefined {
  const on = WORKFLOW_RULES[kind].onSuccess;
  if (!on) return undefined;
  return {
    ...(on.commissionedAt ? { commissionedAt: now } : {}),
    ...(on.owner === 'clear' ? { owner: '' } : {}),
  };
}

/** Where a workflow lands when it fails for good: the failed twin of its in-progress state. */
export function workflowFailureState(state: MachineState): MachineState | null {
  return IN_PROGRESS[state]?.failed ?? null;
}

/** Actions allowed in a state, in table order: what a 409 lists and the UI shows. */
export function allowedActions(state: MachineState): Action[] {
  return ACTIONS.filter((a) => ACTION_RULES[a].from.includes(state));
}

export type Plan =
  | {
      ok: true;
      action: Action;
      to: MachineState | null;
      workflow: WorkflowKind | null;
      owner?: 'set';
    }
  | { ok: false; reason: 'state' | 'no-bmc'; allowed: Action[] };

/** Decides what an action does to a machine in a given context. Pure. */
export function planAction(action: Action, ctx: ActionContext): Plan {
  const rule = ACTION_RULES[action];
  if (!rule.from.includes(ctx.state))
    return { ok: false, reason: 'state', allowed: allowedActions(ctx.state) };
  if (rule.needsBmc && !ctx.hasBmc)
    return { ok: false, reason: 'no-bmc', allowed: allowedActions(ctx.state) };
  return { ok: true, action, to: rule.to(ctx), workflow: rule.workflow, owner: rule.owner };
}

/** States a machine may be deleted in: none where hardware is in use or a workflow runs. */
export const DELETABLE: readonly MachineState[] = [S.New, S.Ready, S.Broken, S.Retired, ...FAILED];
