/**
 * POST /agent/v1/hello: the ephemeral OS phones home with its boot token (Bearer). Writes
 * `agent.hello` on the machine's timeline — attached to the machine's active job, if any — and
 * only then answers 200, so a 200 means the region can see it. The engine's AgentPort answers
 * the `hello` task from this event.
 */
import { helloFields } from '../../core/agent-protocol.ts';
import { BootEvent } from '../urls.ts';
import { bootCaller } from './agent-auth.ts';
import type { Handler } from './context.ts';
import { readSmallBody, sendJson } from './context.ts';
import { addressBelongsTo, sourceIp } from './identify.ts';

export const agentHello: Handler = async (req, res, _url, ctx) => {
  const caller = await bootCaller(req, res, ctx);
  if (!caller) return;
  const { machine } = caller;
  const ip = sourceIp(req);
  const raw = await readSmallBody(req);
  let body: unknown = {};
  try {
    body = raw ? JSON.parse(raw) : {};
  } catch {
    // busybox wget posts form-ish text at worst: the hello itself is what matters.
  }
  const reported = helloFields(body);
  const [job] = await ctx.store.listJobs({ machineId: machine.id, status: ['running', 'queued'] }, 1);
  const leaseMatch = await addressBelongsTo(ctx.store, ip, machine);
  await ctx.events.write({
    type: BootEvent.AgentHello,
    actor: 'agent',
    machineId: machine.id,
    jobId: job?.id ?? null,
    level: leaseMatch ? 'info' : 'warning',
    message: `agent phoned home from ${ip}${leaseMatch ? '' : ' (address not leased to this machine)'}`,
    data: { ip, leaseMatch, ...reported },
  });
  sendJson(res, 200, { machineId: machine.id, hostname: machine.hostname, state: machine.state });
};
