/**
 * What the engine asks of the agent running in a machine's ephemeral OS. The agent dials out
 * to the region (it never listens), so every call here is a question about a task: has the
 * agent of this job done it yet? Tasks are keyed by job and task name, so asking twice — after
 * a crash or a lease takeover — never runs a task twice. The tasks and their shapes are the
 * agent protocol's (src/core/agent-protocol.ts).
 */
import type { AgentTask } from '../core/agent-protocol.ts';
import type { Machine } from '../core/machine.ts';

export type AgentResult =
  | { status: 'pending'; lastMessage?: string }
  | { status: 'done'; result?: unknown }
  | { status: 'failed'; reason: string };

export interface AgentPort {
  /** Asks for `task` (with the job's `params`) in job `jobId`; answers without blocking. */
  task(
    machine: Machine,
    jobId: string,
    task: AgentTask,
    params?: Record<string, unknown>,
  ): Promise<AgentResult>;
}
