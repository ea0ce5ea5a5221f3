/**
 * An AgentPort for network-booted machines until the on-machine agent lands: `hello` is done when the ephemeral OS
 * of this job phoned home (an `agent.hello` event carrying the job's id, written by the boot
 * HTTP server's POST /agent/v1/hello); every other task is answered by `rest` (the simulated
 * agent by default).
 */
import type { AgentPort } from './agent-port.ts';
import { FakeAgent } from './fake-agent.ts';
import type { Store } from '../store/store.ts';

export function helloAgentPort(store: () => Store, rest: AgentPort = new FakeAgent()): AgentPort {
  return {
    async task(machine, jobId, task, params) {
      if (task !== 'hello') return rest.task(machine, jobId, task, params);
      const ev = await store().listEvents({ machineId: machine.id, jobId, limit: 1000 });
      return ev.some((e) => e.type === 'agent.hello')
        ? { status: 'done' }
        : { status: 'pending', lastMessage: 'waiting for the ephemeral OS to phone home' };
    },
  };
}
