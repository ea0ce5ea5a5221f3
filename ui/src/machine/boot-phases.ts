/**
 * A boot, as an operator thinks of it: BMC → DHCP → iPXE → kernel → agent → the workflow's
 * own tasks → hand-over. Events are sorted into those phases by type (dhcp.*, tftp.*, http.*,
 * agent.*) or, for the engine's step.* events, by step name, so the page can say where a
 * boot stopped and why.
 *
 * A phase with no events while a later one has some is "not reported", not "done": the
 * netboot services may not emit events yet, and the page must not pretend they did.
 */
import type { IngotEvent, Job, Machine } from '../api/types.ts';

export type PhaseId = 'bmc' | 'dhcp' | 'ipxe' | 'kernel' | 'agent' | 'tasks' | 'handover';
export type PhaseStatus = 'pending' | 'running' | 'done' | 'failed' | 'unreported';

export const PHASES: readonly { id: PhaseId; label: string; hint: string }[] = [
  { id: 'bmc', label: 'BMC', hint: 'boot order and power through the BMC' },
  { id: 'dhcp', label: 'DHCP', hint: 'address and boot file offered' },
  { id: 'ipxe', label: 'iPXE', hint: 'iPXE loaded over TFTP, boot script fetched' },
  { id: 'kernel', label: 'Kernel', hint: 'kernel and initrd downloaded over HTTP' },
  { id: 'agent', label: 'Agent', hint: 'the ephemeral OS agent checks in' },
  { id: 'tasks', label: 'Tasks', hint: 'inventory, hardware tests, image write or wipe' },
  { id: 'handover', label: 'Hand-over', hint: 'boot from disk, power off or cycle' },
];

const STEP_PHASE: Record<string, PhaseId> = {
  boot: 'bmc',
  'power-on': 'bmc',
  'wait-agent': 'agent',
  inventory: 'tasks',
  'hardware-tests': 'tasks',
  'write-image': 'tasks',
  'wipe-disks': 'tasks',
  'set-boot-disk': 'handover',
  'power-cycle': 'handover',
  'power-off': 'handover',
  'wait-os': 'handover',
};

const PREFIX_PHASE: [string, PhaseId][] = [
  ['bmc.', 'bmc'],
  ['dhcp.', 'dhcp'],
  ['tftp.', 'ipxe'],
  ['ipxe.', 'ipxe'],
  ['http.', 'kernel'],
  ['kernel.', 'kernel'],
  ['agent.', 'agent'],
];

export function phaseOf(e: Pick<IngotEvent, 'type' | 'data'>): PhaseId | null {
  if (e.type.startsWith('step.')) {
    const step = typeof e.data.step === 'string' ? e.data.step : '';
    return STEP_PHASE[step] ?? 'tasks';
  }
  for (const [prefix, id] of PREFIX_PHASE) if (e.type.startsWith(prefix)) return id;
  return null;
}

export interface PhaseView {
  id: PhaseId;
  label: string;
  hint: string;
  status: PhaseStatus;
  events: IngotEvent[];
  startedAt: string | null;
  endedAt: string | null;
}

export interface BootView {
  /** The job whose boot is shown: the newest one that boots, else the newest. */
  job: Job | null;
  phases: PhaseView[];
  /** Where and why the boot stopped, when it did not finish. */
  stopped: { phase: string; reason: string; at: string | null } | null;
}

const FAILED_STATES = new Set(['failed_commissioning', 'failed_deploying', 'failed_releasing']);

export function bootView(
  machine: Pick<Machine, 'state' | 'stateReason'>,
  events: IngotEvent[],
  jobs: Job[],
): BootView {
  const job = jobs.find((j) => j.steps.some((s) => s.name === 'boot')) ?? jobs[0] ?? null;
  // One boot attempt: the job's own events, and network/agent events since it started.
  const since = job ? Date.parse(job.createdAt) : Number.NEGATIVE_INFINITY;
  const attempt = events.filter((e) => {
    if (!job) return false;
    if (e.jobId) return e.jobId === job.id;
    return Date.parse(e.at) >= since && phaseOf(e) !== null;
  });
  const byPhase = new Map<PhaseId, IngotEvent[]>(PHASES.map((p) => [p.id, []]));
  for (const e of attempt) {
    const id = phaseOf(e);
    if (id) byPhase.get(id)!.push(e);
  }
  const lastActive = PHASES.reduce((last, p, i) => (byPhase.get(p.id)!.length > 0 ? i : last), -1);
  const jobOver = !job || job.status === 'done' || job.status === 'failed' || job.status === 'cancelled';
  const jobFailed =
    job?.status === 'failed' || job?.status === 'cancelled' || FAILED_STATES.has(machine.state);

  const phases: PhaseView[] = PHASES.map((p, i) => {
    const evs = byPhase.get(p.id)!;
    let status: PhaseStatus;
    if (evs.length === 0) status = i < lastActive ? 'unreported' : 'pending';
    else if (i < lastActive) status = 'done';
    else if (jobFailed) status = 'failed';
    else if (!jobOver) status = 'running';
    else status = 'done';
    return {
      ...p,
      status,
      events: evs,
      startedAt: evs[0]?.at ?? null,
      endedAt: status === 'done' || status === 'failed' ? (evs[evs.length - 1]?.at ?? null) : null,
    };
  });

  let stopped: BootView['stopped'] = null;
  if (job && jobFailed) {
    // The failing step's own event says it best; the transition event only repeats it.
    const errors = attempt.filter((e) => e.level === 'error');
    const lastError = errors.findLast((e) => e.type !== 'machine.transition') ?? errors.at(-1);
    const at = phases[lastActive]?.label ?? 'before the first step';
    // Say each thing once: drop a reason that another one already contains.
    const candidates = [lastError?.message ?? job.error, machine.stateReason].filter((r): r is string => !!r);
    const reasons = candidates.filter(
      (r, i) => !candidates.some((o, j) => j !== i && o.includes(r) && (o !== r || j < i)),
    );
    stopped = {
      phase: at,
      reason: reasons.join(' — ') || 'no reason recorded',
      at: lastError?.at ?? job.finishedAt,
    };
  }
  return { job, phases, stopped };
}
