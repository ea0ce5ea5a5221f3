/**
 * Agent tasks: what the engine asked of a machine's agent, one row per (job, machine, task). The engine's
 * AgentPort creates a row when it first asks (idempotent on the unique (job_id, machine_id, name)); the rack's
 * agent endpoints hand the row to the agent, record its progress lines and its result. Rows of
 * cancelled or finished jobs are never handed out again.
 *
 * A node agent's task (`NODE_TASKS`: bootstrap, node-exec, join-token, …) can carry a
 * cluster's credentials — a control-plane join's certificate key in its upload-certs command, a
 * bootstrap token in `kubeadm token create`'s output — so its row is sealed (migration 11):
 * params, result, reason and last message each AES-256-GCM with the row's id and column as
 * associated data (crypto.ts), opened only as a row is read here (the rack handing the task
 * out, the engine reading its end). Rows written before stay `sealed = 0` and read as written.
 */
import { type AgentTask, NODE_TASKS } from '../core/agent-protocol.ts';
import type { NewEvent } from '../core/event.ts';
import type { SecretBox } from './crypto.ts';
import type { Db, Row, SqlValue } from './db.ts';
import { newId } from './ids.ts';
import { insertEvents, placeholders } from './sql-util.ts';
import type { AgentTaskRow, AgentTaskStatus, AgentTaskUpdate, NewAgentTask } from './store.ts';

const json = (v: SqlValue): unknown => (typeof v === 'string' ? JSON.parse(v) : null);
const num = (v: SqlValue): number | null => (v === null || v === undefined ? null : Number(v));

/** Whether the store seals a task of this name (a node agent's). */
export const sealsTask = (name: string): boolean => NODE_TASKS.includes(name as AgentTask);

type Column = 'params' | 'result' | 'reason' | 'last_message';
const aad = (id: string, column: Column) => `agent-task:${id}:${column}`;

/** What a sealed row's column holds: the sealed text as JSON; null stays null. */
function sealed(box: SecretBox, on: boolean, id: string, column: Column, text: string | null): string | null {
  return text === null || !on ? text : JSON.stringify(box.seal(text, aad(id, column)));
}

function opened(box: SecretBox, on: boolean, id: string, column: Column, v: SqlValue): string | null {
  if (v === null || v === undefined) return null;
  return on ? box.open(JSON.parse(String(v)), aad(id, column)) : String(v);
}

export function agentTaskFromRow(box: SecretBox, r: Row): AgentTaskRow {
  const id = r.id as string;
  const on = Number(r.sealed ?? 0) === 1;
  const text = (column: Column) => opened(box, on, id, column, r[column]);
  const result = text('result');
  return {
    id,
    machineId: r.machine_id as string,
    jobId: r.job_id as string,
    name: r.name as string,
    params: (json(text('params')) ?? {}) as Record<string, unknown>,
    status: r.status as AgentTaskStatus,
    result: result === null ? null : json(result),
    reason: text('reason'),
    lastMessage: text('last_message'),
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    heartbeatAt: num(r.heartbeat_at),
    finishedAt: num(r.finished_at),
  };
}

/** Creates the task if (job, machine, name) has none; returns the stored row either way. */
export async function ensureAgentTask(db: Db, box: SecretBox, t: NewAgentTask): Promise<AgentTaskRow> {
  const have = await findAgentTask(db, box, t.jobId, t.name, t.machineId);
  if (have) return have;
  const id = newId('at');
  const on = sealsTask(t.name);
  await db.run(
    `INSERT INTO agent_tasks (id, machine_id, job_id, name, params, status, created_at, sealed)
     VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (job_id, machine_id, name) DO NOTHING`,
    [
      id,
      t.machineId,
      t.jobId,
      t.name,
      sealed(box, on, id, 'params', JSON.stringify(t.params ?? {})),
      Date.now(),
      on ? 1 : 0,
    ],
  );
  return (await findAgentTask(db, box, t.jobId, t.name, t.machineId))!;
}

/** The task `name` of job `jobId` (of `machineId`: a cluster job asks each member the same task). */
export async function findAgentTask(
  db: Db,
  box: SecretBox,
  jobId: string,
  name: string,
  machineId?: string,
): Promise<AgentTaskRow | null> {
  const rows = await db.query(
    `SELECT * FROM agent_tasks WHERE job_id = ? AND name = ?${machineId ? ' AND machine_id = ?' : ''} ORDER BY created_at, id LIMIT 1`,
    machineId ? [jobId, name, machineId] : [jobId, name],
  );
  return rows.length ? agentTaskFromRow(box, rows[0]) : null;
}

export async function getAgentTask(db: Db, box: SecretBox, id: string): Promise<AgentTaskRow | null> {
  const rows = await db.query('SELECT * FROM agent_tasks WHERE id = ?', [id]);
  return rows.length ? agentTaskFromRow(box, rows[0]) : null;
}

/**
 * The oldest unfinished task of the machine's active job (queued or running), leaving out
 * `exclude` (tasks another party answers, like `os-booted`).
 */
/** How long a task outside a job (a backup's, a restore's) may wait to be handed out. */
export const OPERATION_TASK_TTL_MS = 10 * 60_000;

export async function nextAgentTask(
  db: Db,
  box: SecretBox,
  machineId: string,
  exclude: readonly string[] = [],
): Promise<AgentTaskRow | null> {
  const not = exclude.length ? `AND t.name NOT IN (${placeholders(exclude.length)})` : '';
  // A task of a job goes out while its job is active; one of a region operation outside the jobs
  // (an etcd backup or restore: its job_id is the operation's id) only while it is fresh, so a
  // step a stopped region left behind never runs late.
  const rows = await db.query(
    `SELECT t.* FROM agent_tasks t LEFT JOIN jobs j ON j.id = t.job_id
      WHERE t.machine_id = ? AND t.status IN ('pending', 'running')
        AND (j.status IN ('queued', 'running') OR (j.id IS NULL AND t.created_at > ?)) ${not}
      ORDER BY t.created_at, t.id LIMIT 1`,
    [machineId, Date.now() - OPERATION_TASK_TTL_MS, ...exclude],
  );
  return rows.length ? agentTaskFromRow(box, rows[0]) : null;
}

/**
 * Records what the agent said about a task: progress (`running` + message), a heartbeat, or its
 * end (`done` with a result, `failed` with a reason), with `events` in the same transaction.
 * A finished task is never changed again: returns null then (the agent reported twice).
 */
export async function updateAgentTask(
  db: Db,
  box: SecretBox,
  id: string,
  u: AgentTaskUpdate,
  events: readonly NewEvent[] = [],
): Promise<AgentTaskRow | null> {
  return db.tx(async (t) => {
    const now = Date.now();
    const finished = u.status === 'done' || u.status === 'failed';
    const was = await t.query('SELECT sealed FROM agent_tasks WHERE id = ?', [id]);
    if (!was.length) return null;
    const on = Number(was[0].sealed) === 1;
    const n = await t.run(
      `UPDATE agent_tasks SET
         status = COALESCE(?, status),
         last_message = COALESCE(?, last_message),
         result = COALESCE(?, result),
         reason = COALESCE(?, reason),
         started_at = COALESCE(started_at, ?),
         heartbeat_at = ?,
         finished_at = ?
       WHERE id = ? AND status IN ('pending', 'running')`,
      [
        u.status ?? null,
        sealed(box, on, id, 'last_message', u.message ?? null),
        sealed(box, on, id, 'result', u.result === undefined ? null : JSON.stringify(u.result)),
        sealed(box, on, id, 'reason', u.reason ?? null),
        now,
        now,
        finished ? now : null,
        id,
      ],
    );
    if (n === 0) return null;
    if (events.length) await insertEvents(t, events, now);
    const rows = await t.query('SELECT * FROM agent_tasks WHERE id = ?', [id]);
    return agentTaskFromRow(box, rows[0]);
  });
}

export async function getMachineInventory(
  db: Db,
  machineId: string,
): Promise<Record<string, unknown> | null> {
  const rows = await db.query('SELECT inventory FROM machines WHERE id = ?', [machineId]);
  return rows.length && rows[0].inventory !== null
    ? (json(rows[0].inventory) as Record<string, unknown>)
    : null;
}
