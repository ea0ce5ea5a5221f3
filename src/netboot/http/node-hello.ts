/**
 * POST /agent/v1/node-hello: a deployed machine's node agent (src/agent/node/) started and
 * checked in with the machine's OS token, from an address leased to it. Writes
 * `agent.node-hello` on the machine's timeline with what it said about the node (its kernel,
 * cgroup hierarchy, kubelet and containerd versions, whether containerd runs).
 */
import { NODE_HELLO_EVENT, nodeHelloFields } from '../../core/node-agent-protocol.ts';
import { nodeAgentCaller } from './agent-auth.ts';
import type { Handler } from './context.ts';
import { readSmallBody, sendJson } from './context.ts';
import { sourceIp } from './identify.ts';

export const agentNodeHello: Handler = async (req, res, _url, ctx) => {
  const caller = await nodeAgentCaller(req, res, ctx, 'the node hello');
  if (!caller) return;
  const { machine } = caller;
  let body: unknown = {};
  try {
    body = JSON.parse((await readSmallBody(req)) ?? '{}');
  } catch {
    // The check-in itself is what matters.
  }
  const reported = nodeHelloFields(body);
  const ip = sourceIp(req);
  const runtime = reported.containerdRunning === true ? 'containerd running' : 'containerd not running';
  await ctx.events.write({
    type: NODE_HELLO_EVENT,
    actor: 'agent',
    machineId: machine.id,
    jobId: null,
    level: 'info',
    message: `node agent checked in from ${ip} (${runtime})`,
    data: { ip, ...reported },
  });
  sendJson(res, 200, { machineId: machine.id, hostname: machine.hostname, state: machine.state });
};
