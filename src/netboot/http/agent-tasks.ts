/**
 * The agent's task endpoints on the rack's boot HTTP server (next to /agent/v1/hello): the agent
 * in the ephemeral OS dials out with its boot token and never listens; a deployed OS's node
 * agent does the same with the machine's OS token, from an address leased to it, and gets the
 * node tasks (`bootstrap`) only — the ephemeral agent never gets those. The protocol — task
 * names, parameters as `T_*` variables, the report body — is src/core/agent-protocol.ts.
 *
 *   GET  /agent/v1/task?wait=25      long-poll: 200 + the next task as shell assignments, or 204
 *   POST /agent/v1/tasks/<id>        {status?, message?, event?, level?, data?, result?, reason?, log?}
 *
 * Task rows are created by the engine's AgentPort (src/engine/agent-tasks-port.ts); this file
 * hands them out, records progress lines (heartbeats too) and results on the task row — the
 * engine reads the result from there — and writes the timeline: `agent.<task>.started`,
 * `agent.<task>.progress`, `agent.<event>` (e.g. `agent.test.smart`), `agent.<task>` when done,
 * `agent.<task>.failed` with the agent's log.
 */
import {
  AgentTask,
  agentEvent,
  LOG_TAIL_BYTES,
  MAX_REPORT_BYTES,
  MAX_WAIT_S,
  NODE_TASKS,
  EPHEMERAL_TASKS,
  parseReport,
  RACK_ANSWERED,
  taskAsShell,
} from '../../core/agent-protocol.ts';

import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import { redactSecrets } from '../../core/redact.ts';
import type { NewEvent } from '../../core/event.ts';
import type { AgentTaskRow } from '../../store/store.ts';
import { bootCaller, machineOfToken } from './agent-auth.ts';
import { type SealedBootstrap, sealedJoinToken, sealedResult } from './bootstrap-result.ts';
import type { BootContext, Handler } from './context.ts';
import { readSmallBody, sendError, sendJson, sendText } from './context.ts';
import { sourceIp } from './identify.ts';
import { hashBootToken, newBootToken } from './tokens.ts';

/** How often a long-poll looks at the store. Overridable for tests. */
export const AGENT_POLL = { ms: 500 };
/**
 * A report about a running task after this long without a word from its agent puts
 * `agent.silence` on the timeline (how long, since when, the last thing said): the rack's side
 * of a silence, also when the engine already failed the task for it (the row stays running).
 */
export const SILENCE_NOTE = { ms: 60_000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The task as the agent sources it, with what the rack adds for write-image: the image's URL
 * on this server (for an artifact), where the metadata and the OS's phone-home are, and the
 * deployed OS's own token (never the boot token).
 */
function shellTask(task: AgentTaskRow, ctx: BootContext, osToken?: string): string {
  if (task.name !== AgentTask.WriteImage) return taskAsShell(task);
  const artifact = task.params.artifact;
  return taskAsShell(task, {
    url:
      typeof artifact === 'string'
        ? `${ctx.secureUrl}/artifacts/${artifact.split('/').map(encodeURIComponent).join('/')}`
        : undefined,
    metadataUrl: `${ctx.secureUrl}/metadata/`,
    osBootedUrl: `${ctx.agentUrl}/agent/v1/os-booted/`,
    osToken,
  });
}

/** GET /agent/v1/task?wait=SECONDS: the next task of this machine's active job. */
export const agentNextTask: Handler = async (req, res, url, ctx) => {
  const caller = await bootCaller(req, res, ctx, { osToken: true });
  if (!caller) return;
  const { machine, tokenHash, kind } = caller;
  // The ephemeral OS's agent and a deployed OS's node agent each get their own tasks only.
  const exclude = kind === 'os' ? [...RACK_ANSWERED, ...EPHEMERAL_TASKS] : [...RACK_ANSWERED, ...NODE_TASKS];
  const wait = Math.min(MAX_WAIT_S, Math.max(0, Number(url.searchParams.get('wait') ?? 0) || 0));
  const end = Date.now() + wait * 1000;
  let gone = false;
  req.socket.once('close', () => {
    gone = true;
  });
  for (;;) {
    // A machine that rebooted got a new token: a long-poll still open from its previous boot
    // (a VM killed mid-poll never closes its connection) must not take the new boot's task.
    const current = await machineOfToken(ctx, kind, tokenHash);
    if (current?.id !== machine.id) break;
    const task = await ctx.store.nextAgentTask(machine.id, exclude);
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
            type: agentEvent.started(task.name),
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
        if (started.name === AgentTask.WriteImage) {
          osToken = newBootToken();
          await ctx.store.setMachineOsToken(machine.id, hashBootToken(osToken));
        } else if (started.name === AgentTask.Wipe) {
          await ctx.store.setMachineOsToken(machine.id, null);
        }
        return sendText(res, 200, shellTask(started, ctx, osToken), 'text/x-shellscript; charset=utf-8');
      }
    }
    if (gone || Date.now() >= end) break;
    await sleep(Math.min(AGENT_POLL.ms, Math.max(0, end - Date.now())));
  }
  if (!gone) res.writeHead(204).end();
};

/** POST /agent/v1/tasks/<id>: progress, a heartbeat (empty body), a named event, or the end. */
export const agentReport: Handler = async (req, res, url, ctx) => {
  const caller = await bootCaller(req, res, ctx, { osToken: true });
  if (!caller) return;
  const { machine, kind } = caller;
  const id = decodeURIComponent(url.pathname.slice('/agent/v1/tasks/'.length));
  const task = await ctx.store.getAgentTask(id);
  if (
    !task ||
    task.machineId !== machine.id ||
    NODE_TASKS.includes(task.name as AgentTask) !== (kind === 'os')
  )
    return sendError(
      res,
      new IngotError(ErrorCode.NotFound, `no task ${id} for this machine; ask for the next one`),
    );
  const raw = await readSmallBody(req, MAX_REPORT_BYTES);
  if (raw === null)
    return sendError(
      res,
      new IngotError(ErrorCode.PayloadTooLarge, 'body: a report is at most 4 MiB; send the log’s tail'),
    );
  let body: unknown;
  try {
    body = raw.trim() ? JSON.parse(raw) : {};
  } catch (e) {
    return sendError(res, invalid('body', `not JSON: ${(e as Error).message}`));
  }
  const r = parseReport(body);
  // A bootstrap's result is checked and its admin kubeconfig sealed before anything is stored;
  // a malformed one ends the task as failed (the field named, the value never).
  let result: unknown = r.status === 'done' ? (r.result ?? null) : undefined;
  let sealed: SealedBootstrap | undefined;
  if (r.status === 'done' && (task.name === AgentTask.Bootstrap || task.name === AgentTask.JoinToken)) {
    try {
      sealed =
        task.name === AgentTask.JoinToken
          ? await sealedJoinToken(ctx.store, r.result)
          : await sealedResult(ctx.store, r.result, task.params.role);
      result = sealed.result;
    } catch (e) {
      r.status = 'failed';
      r.reason = (e as Error).message;
      result = undefined;
    }
  }
  // A node task's words go on the timeline and into the engine's errors: a credential the
  // task handled (a join's token or certificate key, a kubeconfig) is left out of them.
  const node = NODE_TASKS.includes(task.name as AgentTask);
  const clean = (s: string | undefined) => {
    const t = (sealed?.secrets ?? []).reduce((t, secret) => (t ? t.split(secret).join('<redacted>') : t), s);
    return t !== undefined && node ? redactSecrets(t) : t;
  };
  r.log = clean(r.log);
  r.message = clean(r.message);
  r.reason = clean(r.reason);
  const log = r.log ? { log: r.log.slice(-LOG_TAIL_BYTES) } : {};
  // A node task of a cluster job (a bootstrap): its reports go on the cluster's timeline too.
  const clusterId =
    kind === 'os' ? ((await ctx.store.getJob(task.jobId).catch(() => null))?.clusterId ?? null) : null;
  const base = { actor: 'agent', machineId: machine.id, jobId: task.jobId, clusterId } as const;
  // On a cluster's timeline, the node a line is about leads it (as the cluster steps' notes do).
  const who = clusterId ? `${machine.hostname}: ` : '';
  const events: NewEvent[] = [];
  const lastWord = task.heartbeatAt ?? task.startedAt;
  const quiet = lastWord === null ? 0 : Date.now() - lastWord;
  if (task.status === 'running' && lastWord !== null && quiet > SILENCE_NOTE.ms) {
    const at = new Date(lastWord).toISOString();
    const said = task.lastMessage ? ` (${task.lastMessage})` : '';
    events.push({
      ...base,
      type: agentEvent.named('silence'),
      level: 'warning',
      message: `${who}the agent spoke again about ${task.name} after ${Math.round(quiet / 1000)} s without a word; its last word before was at ${at}${said}`,
      data: { task: task.id, silentS: Math.round(quiet / 1000), lastWordAt: at },
    });
  }
  if (r.event) {
    events.push({
      ...base,
      type: agentEvent.named(r.event),
      level: r.level,
      message: r.message ?? r.event,
      data: { task: task.id, ...r.data, ...log },
    });
  } else if (r.message && r.message !== task.lastMessage && r.status !== 'done' && r.status !== 'failed') {
    events.push({
      ...base,
      type: agentEvent.progress(task.name),
      message: `${who}${r.message}`,
      data: { task: task.id, ...r.data },
    });
  }
  let reason: string | undefined;
  if (r.status === 'done') {
    events.push({
      ...base,
      type: agentEvent.done(task.name),
      message: `${who}${r.message ?? `${task.name} done`}`,
      data: { task: task.id, ...log },
    });
  } else if (r.status === 'failed') {
    reason = r.reason ?? r.message ?? 'the agent gave no reason';
    events.push({
      ...base,
      type: agentEvent.failed(task.name),
      level: 'error',
      message: `${who}${task.name} failed: ${reason}`,
      data: { task: task.id, ...log },
    });
  }
  const updated = await ctx.store.updateAgentTask(
    task.id,
    {
      status: r.status,
      message: r.message ?? reason,
      result,
      reason,
    },
    events,
  );
  if (!updated && sealed?.secretId) await ctx.store.deleteSecret(sealed.secretId);
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
