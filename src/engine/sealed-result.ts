/**
 * What the store-backed AgentPort adds for the node agent's tasks (docs/node-os.md): the rack
 * sealed a bootstrap's admin kubeconfig before storing the result (secrets are encrypted at
 * rest), so the engine gets it opened here; and a node task nobody picks up points at the node
 * agent's service, not at the ephemeral OS.
 */
import { AgentTask, NODE_TASKS } from '../core/agent-protocol.ts';
import { ADMIN_KUBECONFIG_SECRET, JOIN_TOKEN_SECRET } from '../core/node-agent-protocol.ts';
import type { AgentTaskRow, Store } from '../store/store.ts';

/** The task's result as the agent sent it (a bootstrap's kubeconfig unsealed, as text). */
export async function openedResult(store: Store, row: AgentTaskRow): Promise<unknown> {
  const r = row.result ?? undefined;
  if (typeof r !== 'object' || r === null) return r;
  if (row.name === AgentTask.JoinToken) {
    const id = (r as Record<string, unknown>)[JOIN_TOKEN_SECRET];
    return typeof id === 'string' ? { token: await store.getSecret(id) } : r;
  }
  if (row.name !== AgentTask.Bootstrap) return r;
  const { [ADMIN_KUBECONFIG_SECRET]: id, ...rest } = r as Record<string, unknown>;
  if (typeof id !== 'string') return rest;
  return { ...rest, adminKubeconfig: await store.getSecret(id) };
}

/** Why a task still waits for its pickup after `seconds`. */
export function notPickedUp(name: string, seconds: number): string {
  return NODE_TASKS.includes(name as AgentTask)
    ? `no node agent picked up ${name} within ${seconds} s; check that ingot-node-agent.service runs on the machine (journalctl -u ingot-node-agent)`
    : `no agent picked up ${name} within ${seconds} s; the ephemeral OS stopped polling (check the console)`;
}
