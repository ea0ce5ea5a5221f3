/**
 * The lab-only stand-in for the node agent on a test bed whose nodes run none (the HA bed:
 * `up` brings its cluster up with kubeadm, not through a region's deploy): an AgentPort whose
 * `bootstrap` task runs the script the region hands the node agent — the rendered reconfigure,
 * certificate rotation or upgrade script — inside the node (its mount, UTS and network
 * namespaces, through the bed's NodeShell), and answers as the node agent's task does: pending
 * while it runs, done, or failed with the script's last lines. What this skips is the transport
 * (the node agent polling the rack for its task and reporting back), which the 1+1 bed's
 * clusters run for real (test/cluster-reconfigure-bed.test.ts); the script and everything the
 * region does around it are the same.
 *
 * A task is keyed by job, machine and task name as the node agent's are: asked again (the next
 * poll, a resumed job) it answers for the run it started and never runs the script twice. Every
 * other task fails naming itself: nothing else is wired here.
 */
import { AgentTask } from '../../core/agent-protocol.ts';
import type { Machine } from '../../core/machine.ts';
import type { AgentPort, AgentResult } from '../../engine/agent-port.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';

interface Run {
  result: AgentResult;
  /** When the script started and ended (epoch ms). */
  startedAt: number;
  endedAt: number | null;
}

/** The script's last `ingot-phase:` line, as the node agent reports it. */
function lastPhase(out: string): string | undefined {
  return out
    .split('\n')
    .filter((l) => l.startsWith('ingot-phase: '))
    .at(-1)
    ?.slice('ingot-phase: '.length);
}

export class BedShellAgent implements AgentPort {
  readonly #shell: NodeShell;
  readonly #runs = new Map<string, Run>();

  constructor(shell: NodeShell) {
    this.#shell = shell;
  }

  /** Each script run so far: node, job, start and end (for a benchmark's breakdown). */
  runs(): { key: string; startedAt: number; endedAt: number | null; status: AgentResult['status'] }[] {
    return [...this.#runs].map(([key, r]) => ({
      key,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      status: r.result.status,
    }));
  }

  async task(
    machine: Machine,
    jobId: string,
    task: AgentTask,
    params?: Record<string, unknown>,
  ): Promise<AgentResult> {
    if (task !== AgentTask.Bootstrap)
      return { status: 'failed', reason: `the bed's shell agent runs bootstrap scripts only, not ${task}` };
    const key = `${jobId}/${machine.id}/${task}`;
    const known = this.#runs.get(key);
    if (known) return known.result;
    const script = params?.script;
    if (typeof script !== 'string' || !script)
      return { status: 'failed', reason: `${machine.hostname}: the bootstrap task has no script` };
    const run: Run = {
      result: { status: 'pending', lastMessage: 'script started' },
      startedAt: Date.now(),
      endedAt: null,
    };
    this.#runs.set(key, run);
    this.#shell.exec(machine.hostname, ['sh', '-c', script]).then(
      (out) => {
        run.endedAt = Date.now();
        run.result = { status: 'done', result: { phase: lastPhase(out) ?? null } };
      },
      (e: Error) => {
        run.endedAt = Date.now();
        const lines = e.message.trim().split('\n').slice(-8).join('\n');
        run.result = { status: 'failed', reason: `${machine.hostname}: the script failed: ${lines}` };
      },
    );
    return run.result;
  }
}
