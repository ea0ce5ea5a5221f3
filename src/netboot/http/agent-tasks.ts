/**
 * The agent's task endpoints on the rack's boot HTTP server (next to /agent/v1/hello): the agent
 * in the ephemeral OS dials out with its boot token and never listens.
 *
 *   GET  /agent/v1/task?wait=25      long-poll: 200 + the next task as shell assignments, or 204
 *   POST /agent/v1/tasks/<id>        {status?, message?, event?, level?, data?, result?, reason?, log?}
 *   POST /agent/v1/os-booted[/<token>]  the deployed OS phones home (cloud-init phone_home)
 *
 * Task rows are created by the engine's AgentPort (src/engine/agent-tasks-port.ts); this file
 * hands them out, records progress lines (heartbeats too) and results, and writes the timeline:
 * `agent.<task>.started`, `agent.<task>.progress`, `agent.<event>` (e.g. `agent.test.smart`),
 * `agent.<task>` when done, `agent.<task>.failed` with the agent's log.
 */
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import type { NewEvent } from '../../core/event.ts';
import { osTokenHonoured } from '../../core/machine.ts';
import type { AgentTaskRow } from '../../store/store.ts';
import type { BootContext, Handler } from './context.ts';
import { readSmallBody, sendError, sendJson, sendText } from './context.ts';
import { bootCaller } from './agent-auth.ts';
import { addressBelongsTo, sourceIp } from './identify.ts';
import { hashBootToken, looksLikeToken, newBootToken, tokenFromHeaders } from './tokens.ts';

/** Answered by other requests (hello, the deployed OS), never handed to the ephemeral agent. */
const NOT_FOR_AGENT = ['hello', 'os-booted'] as const;
/** Longest long-poll, seconds. */
const MAX_WAIT_S = 30;
/** How often a long-poll looks at the store. Overridable for tests. */
export const AGENT_POLL = { ms: 500 };
/** Log bytes kept on a failure event. */
const LOG_TAIL = 16 * 1024;

/** A value as one POSIX-sh single-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `fooBar` → `FOO_BAR`, `memoryMiB` → `MEMORY_MIB`. */
function envName(k: string): string {
  return k
    .replace(/MiB/g, 'Mib')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]/g, '_')
    .toUpperCase();
}

/**
 * The task as `T_NAME='value'` lines the agent sources: no JSON parser needed in the ephemeral
 * OS. Arrays become space-separated words; objects are left out. The rack adds the URLs the
 * agent needs (an image's artifact path becomes a URL on this server), and for write-image the
 * deployed OS's own token (never the boot token).
 */
export function taskAsShell(
  task: AgentTaskRow,
  ctx: Pick<BootContext, 'publicUrl' | 'agentUrl'>,
  osToken?: string,
): string {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(task.params)) {
    if (typeof v === 'string') vars[envName(k)] = v;
    else if (typeof v === 'number' || typeof v === 'boolean')
      vars[envName(k)] = String(v === true ? 1 : v === false ? 0 : v);
    else if (Array.isArray(v)) vars[envName(k)] = v.map(String).join(' ');
  }
  // After the parameters: a parameter never renames the task.
  vars.ID = task.id;
  vars.NAME = task.name;
  if (task.name === 'write-image') {
    const artifact = task.params.artifact;
    if (!vars.URL && typeof artifact === 'string')
      vars.URL = `${ctx.publicUrl}/artifacts/${artifact.split('/').map(encodeURIComponent).join('/')}`;
    vars.METADATA_URL = `${ctx.publicUrl}/metadata/`;
    vars.OS_BOOTED_URL = `${ctx.agentUrl}/agent/v1/os-booted/`;
    if (osToken) vars.OS_TOKEN = osToken;
  }
  return `${Object.entries(vars)
    .filter(([k]) => /^[A-Z][A-Z0-9_]*$/.test(k))
    .map(([k, v]) => `T_${k}=${shellQuote(v)}`)
    .join('\n')}\n`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET /agent/v1/task?wait=SECONDS: the next task of this machine's active job. */
export const agentNextTask: Handler = async (req, res, url, ctx) => {
  const caller = await bootCaller(req, res, ctx);
  if (!caller) return;
  const { machine, tokenHash: hash } = caller;
  const wait = Math.min(MAX_WAIT_S, Math.max(0, Number(url.searchParams.get('wait') ?? 0) || 0));
  const end = Date.now() + wait * 1000;
  let gone = false;
  req.socket.once('close', () => {
    gone = true;
  });
  for (;;) {
    // A machine that rebooted got a new token: a long-poll still open from its previous boot
    // (a VM killed mid-poll never closes its connection) must not take the new boot's task.
    const current = await ctx.store.findMachineByBootToken(hash);
    if (current?.id !== machine.id) break;
    const task = await ctx.store.nextAgentTask(machine.id, NOT_FOR_AGENT);
    if (task) {
      const again = task.status === 'running';
      const started = await ctx.store.updateAgentTask(
        task.id,
        {
          status: 'running',
          message: again ? 'handed out again (the agent restarted)' : 'picked up by the agent',
        },
        [
          {
            type: `agent.${task.name}.started`,
            actor: 'agent',
            machineId: machine.id,
            jobId: task.jobId,
            level: again ? 'warning' : 'info',
            message: `agent ${again ? 'restarted' : 'started'} ${task.name} (from ${sourceIp(req)})`,
            data: { task: task.id, ip: sourceIp(req) },
          },
        ],
      );
      if (started) {
        // The written OS gets its own token: it reads this machine's metadata and reports the
        // OS booted, nothing else. Minted at hand-out, so only its hash is ever stored.
        let osToken: string | undefined;
        if (started.name === 'write-image') {
          osToken = newBootToken();
          await ctx.store.setMachineOsToken(machine.id, hashBootToken(osToken));
        } else if (started.name === 'wipe') {
          await ctx.store.setMachineOsToken(machine.id, null);
        }
        return sendText(res, 200, taskAsShell(started, ctx, osToken), 'text/x-shellscript; charset=utf-8');
      }
    }
    if (gone || Date.now() >= end) break;
    await sleep(Math.min(AGENT_POLL.ms, Math.max(0, end - Date.now())));
  }
  if (!gone) res.writeHead(204).end();
};

interface Report {
  status?: 'running' | 'done' | 'failed';
  message?: string;
  event?: string;
  level?: 'info' | 'warning' | 'error';
  data?: Record<string, unknown>;
  result?: unknown;
  reason?: string;
  log?: string;
}

function str(v: unknown, max: number): string | undefined {
  return typeof v === 'string' ? v.slice(0, max) : undefined;
}

/** POST /agent/v1/tasks/<id>: progress, a heartbeat (empty body), a named event, or the end. */
export const agentReport: Handler = async (req, res, url, ctx) => {
  const caller = await bootCaller(req, res, ctx);
  if (!caller) return;
  const { machine } = caller;
  const id = decodeURIComponent(url.pathname.slice('/agent/v1/tasks/'.length));
  const task = await ctx.store.getAgentTask(id);
  if (!task || task.machineId !== machine.id)
    return sendError(
      res,
      new IngotError(ErrorCode.NotFound, `no task ${id} for this machine; ask for the next one`),
    );
  const raw = await readSmallBody(req, 4 * 2 ** 20);
  if (raw === null)
    return sendError(
      res,
      new IngotError(ErrorCode.TooLarge, 'body: a report is at most 4 MiB; send the log’s tail'),
    );
  let r: Report;
  try {
    r = raw.trim() ? (JSON.parse(raw) as Report) : {};
  } catch (e) {
    return sendError(res, invalid('body', `not JSON: ${(e as Error).message}`));
  }
  const status =
    r.status === 'running' || r.status === 'done' || r.status === 'failed' ? r.status : undefined;
  const message = str(r.message, 500);
  const log = str(r.log, 4 * 2 ** 20);
  const base = { actor: 'agent', machineId: machine.id, jobId: task.jobId } as const;
  const events: NewEvent[] = [];
  if (typeof r.event === 'string' && /^[a-z0-9][a-z0-9.-]{0,63}$/.test(r.event)) {
    const level = r.level === 'warning' || r.level === 'error' ? r.level : 'info';
    events.push({
      ...base,
      type: `agent.${r.event}`,
      level,
      message: message ?? r.event,
      data: {
        task: task.id,
        ...(r.data && typeof r.data === 'object' ? r.data : {}),
        ...(log ? { log: log.slice(-LOG_TAIL) } : {}),
      },
    });
  } else if (message && message !== task.lastMessage && status !== 'done' && status !== 'failed') {
    events.push({
      ...base,
      type: `agent.${task.name}.progress`,
      message,
      data: { task: task.id, ...(r.data ?? {}) },
    });
  }
  let reason: string | undefined;
  if (status === 'done') {
    events.push({
      ...base,
      type: `agent.${task.name}`,
      message: message ?? `${task.name} done`,
      data: { task: task.id, ...(log ? { log: log.slice(-LOG_TAIL) } : {}) },
    });
    if (task.name === 'inventory' && r.result && typeof r.result === 'object')
      await ctx.store.setMachineInventory(machine.id, r.result as Record<string, unknown>);
  } else if (status === 'failed') {
    reason = str(r.reason, 1000) ?? message ?? 'the agent gave no reason';
    events.push({
      ...base,
      type: `agent.${task.name}.failed`,
      level: 'error',
      message: `${task.name} failed: ${reason}`,
      data: { task: task.id, ...(log ? { log: log.slice(-LOG_TAIL) } : {}) },
    });
  }
  const updated = await ctx.store.updateAgentTask(
    task.id,
    {
      status,
      message: message ?? reason,
      result: status === 'done' ? (r.result ?? null) : undefined,
      reason,
    },
    events,
  );
  if (!updated)
    return sendError(
      res,
      new IngotError(
        ErrorCode.Conflict,
        `task ${task.id} already ended (${task.status}); ask for the next one`,
        {
          details: { status: task.status },
        },
      ),
    );
  sendJson(res, 200, { id: updated.id, status: updated.status });
};

/**
 * POST /agent/v1/os-booted/<token> (cloud-init phone_home cannot send headers) or with the token
 * as Bearer: the deployed OS is up. The token is the OS token from its seed (or a boot token). Finishes the `os-booted` task of the machine's running job.
 */
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
  const raw = (await readSmallBody(req)) ?? '';
  // cloud-init posts form data: instance_id, hostname, fqdn, pub_key_*.
  const form = new URLSearchParams(raw);
  const reported: Record<string, string> = {};
  for (const k of ['instance_id', 'hostname', 'fqdn']) {
    const v = form.get(k);
    if (v) reported[k] = v.slice(0, 200);
  }
  const [job] = await ctx.store.listJobs({ machineId: machine.id, status: ['running', 'queued'] }, 1);
  const leaseMatch = await addressBelongsTo(ctx.store, ip, machine);
  const ev: NewEvent = {
    type: 'agent.os-booted',
    actor: 'agent',
    machineId: machine.id,
    jobId: job?.id ?? null,
    level: leaseMatch ? 'info' : 'warning',
    message: `the deployed OS phoned home from ${ip}${leaseMatch ? '' : ' (address not leased to this machine)'}`,
    data: { ip, leaseMatch, ...reported },
  };
  if (job?.kind === 'deploy') {
    const task = await ctx.store.ensureAgentTask({ machineId: machine.id, jobId: job.id, name: 'os-booted' });
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
