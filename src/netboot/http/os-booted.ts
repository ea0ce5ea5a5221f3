/**
 * POST /agent/v1/os-booted/<token> (cloud-init phone_home cannot send headers) or with the token
 * as Bearer: the deployed OS is up. The token is the OS token from its seed (or a boot token).
 * Finishes the `os-booted` task of the machine's running deploy; any other phone-home (a
 * reboot) only goes on the timeline.
 */
import { AgentTask, OS_BOOTED_EVENT } from '../../core/agent-protocol.ts';
import type { NewEvent } from '../../core/event.ts';
import { osTokenHonoured } from '../../core/machine.ts';
import { bootCaller } from './agent-auth.ts';
import type { Handler } from './context.ts';
import { readSmallBody, sendJson } from './context.ts';
import { addressBelongsTo, sourceIp } from './identify.ts';
import { hashBootToken, looksLikeToken, tokenFromHeaders } from './tokens.ts';

/** What cloud-init's phone_home posts (form data) that goes on the timeline. */
const REPORTED = ['instance_id', 'hostname', 'fqdn'] as const;

export const agentOsBooted: Handler = async (req, res, url, ctx) => {
  const inPath = url.pathname.slice('/agent/v1/os-booted'.length).replace(/^\//, '');
  if (inPath && !req.headers.authorization) req.headers.authorization = `Bearer ${inPath}`;
  const token = tokenFromHeaders(req);
  const osMachine = looksLikeToken(token)
    ? await ctx.store
        .findMachineByOsToken(hashBootToken(token))
        .then((m) => (m && osTokenHonoured(m) ? m : null))
    : null;
  const machine = osMachine ?? (await bootCaller(req, res, ctx))?.machine;
  if (!machine) return;
  const ip = sourceIp(req);
  const form = new URLSearchParams((await readSmallBody(req)) ?? '');
  const reported: Record<string, string> = {};
  for (const k of REPORTED) {
    const v = form.get(k);
    if (v) reported[k] = v.slice(0, 200);
  }
  const [job] = await ctx.store.listJobs({ machineId: machine.id, status: ['running', 'queued'] }, 1);
  const leaseMatch = await addressBelongsTo(ctx.store, ip, machine);
  const ev: NewEvent = {
    type: OS_BOOTED_EVENT,
    actor: 'agent',
    machineId: machine.id,
    jobId: job?.id ?? null,
    level: leaseMatch ? 'info' : 'warning',
    message: `the deployed OS phoned home from ${ip}${leaseMatch ? '' : ' (address not leased to this machine)'}`,
    data: { ip, leaseMatch, ...reported },
  };
  if (job?.kind === 'deploy') {
    const task = await ctx.store.ensureAgentTask({
      machineId: machine.id,
      jobId: job.id,
      name: AgentTask.OsBooted,
    });
    const done = await ctx.store.updateAgentTask(
      task.id,
      { status: 'done', message: ev.message, result: { ip, ...reported } },
      [ev],
    );
    if (!done) await ctx.events.write(ev); // a second phone-home (a reboot): only the event
  } else {
    await ctx.events.write(ev);
  }
  sendJson(res, 200, { machineId: machine.id, state: machine.state });
};
