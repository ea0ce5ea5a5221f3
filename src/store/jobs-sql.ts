/**
 * Lifecycle transitions and durable jobs. Every transition is a compare-and-set on the
 * machine's state; every job write after the claim is fenced on the lease owner, so a worker
 * that lost its lease (paused, partitioned, presumed dead) can no longer change anything.
 */
import type { NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Job, JobStatus, JobStep } from '../core/job.ts';
import type { Machine } from '../core/machine.ts';
import { endClusterWorkflow } from './cluster-transitions-sql.ts';
import { endJobOperation } from './operation-end-sql.ts';
import type { Db, SqlValue } from './db.ts';
import { newId } from './ids.ts';
import { applyMachineChanges, bmcHost, getMachineRow } from './machines-sql.ts';
import { jobFromRow, ms } from './rows.ts';
import { insertEvents, placeholders } from './sql-util.ts';
import type { ClaimOptions, JobFinish, JobProgress, NewJob, TransitionRequest } from './store.ts';

const ACTIVE = "status IN ('queued', 'running')";

function initialSteps(names: readonly string[]): JobStep[] {
  return names.map((name) => ({ name, startedAt: null, endedAt: null, attempts: 0, error: null }));
}

/** A job's subject: a machine, or a cluster (which has no rack or BMC of its own). */
export type JobSubject = { machine: Machine } | { clusterId: string };

/** Inserts a queued job for its subject with its `job.queued` event (inside the caller's transaction). */
export async function insertJob(
  db: Db,
  subject: JobSubject,
  job: NewJob,
  actor: string,
  now: number,
): Promise<Job> {
  const id = newId('j', now);
  const machine = 'machine' in subject ? subject.machine : null;
  const clusterId = 'clusterId' in subject ? subject.clusterId : null;
  await db.run(
    `INSERT INTO jobs (id, machine_id, cluster_id, kind, status, steps, step_index, run_after, lease_owner, lease_expires_at,
      rack, bmc_host, error, params, scratch, actor, created_at, updated_at, finished_at)
     VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, NULL, NULL, ?, ?, NULL, ?, '{}', ?, ?, ?, NULL)`,
    [
      id,
      machine?.id ?? null,
      clusterId,
      job.kind,
      JSON.stringify(initialSteps(job.steps)),
      now,
      machine?.rack ?? '',
      bmcHost(machine?.bmc?.address),
      JSON.stringify(job.params ?? {}),
      actor,
      now,
      now,
    ],
  );
  await insertEvents(
    db,
    [
      {
        type: 'job.queued',
        machineId: machine?.id ?? null,
        clusterId,
        jobId: id,
        actor,
        message: `${job.kind} queued: ${job.steps.join(' → ')}`,
        data: { kind: job.kind, steps: job.steps },
      },
    ],
    now,
  );
  return jobFromRow((await db.query('SELECT * FROM jobs WHERE id = ?', [id]))[0]);
}

/** Cancels the subject's unfinished jobs (`machine_id` or `cluster_id` = id), with their events. */
export async function cancelActiveJobs(
  db: Db,
  subject: { machineId: string } | { clusterId: string },
  reason: string,
  actor: string,
  now: number,
): Promise<void> {
  const column = 'machineId' in subject ? 'machine_id' : 'cluster_id';
  const id = 'machineId' in subject ? subject.machineId : subject.clusterId;
  const active = await db.query<{ id: string; kind: string }>(
    `SELECT id, kind FROM jobs WHERE ${column} = ? AND ${ACTIVE}`,
    [id],
  );
  if (active.length === 0) return;
  await db.run(
    `UPDATE jobs SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, error = ?, finished_at = ?, updated_at = ?
     WHERE ${column} = ? AND ${ACTIVE}`,
    [reason, now, now, id],
  );
  await insertEvents(
    db,
    active.map((j) => ({
      type: 'job.cancelled',
      level: 'warning' as const,
      ...subject,
      jobId: j.id,
      actor,
      message: `${j.kind} cancelled: ${reason}`,
    })),
    now,
  );
}

type MachineTransition = Pick<TransitionRequest, 'machineId' | 'from' | 'to' | 'reason' | 'set'>;

/**
 * The one writer of a machine's lifecycle state: the compare-and-set `UPDATE … WHERE state =
 * from` with the fields the transition sets. True when the machine moved; false when it had
 * left `from` (the caller decides whether that is a lost race or a skipped move).
 */
export async function writeTransition(t: Db, tr: MachineTransition, now: number): Promise<boolean> {
  const sets = [
    'state = ?',
    'state_reason = ?',
    'state_entered_at = ?',
    'updated_at = ?',
    'version = version + 1',
  ];
  const params: SqlValue[] = [tr.to, tr.reason, now, now];
  if (tr.set?.owner !== undefined) {
    sets.push('owner = ?');
    params.push(tr.set.owner);
  }
  if (tr.set?.rescueFrom !== undefined) {
    sets.push('rescue_from = ?');
    params.push(tr.set.rescueFrom);
  }
  if (tr.set?.commissionedAt !== undefined) {
    sets.push('commissioned_at = ?');
    params.push(ms(tr.set.commissionedAt));
  }
  const changed = await t.run(`UPDATE machines SET ${sets.join(', ')} WHERE id = ? AND state = ?`, [
    ...params,
    tr.machineId,
    tr.from,
  ]);
  return changed === 1;
}

/** The `machine.transition` event of a transition that was written. */
export function transitionEvent(
  tr: MachineTransition,
  actor: string,
  jobId: string | null,
  data: Record<string, unknown> = {},
): NewEvent {
  return {
    type: 'machine.transition',
    level: tr.to.startsWith('failed_') || tr.to === 'broken' ? 'error' : 'info',
    machineId: tr.machineId,
    jobId,
    actor,
    message: `${tr.from} → ${tr.to}: ${tr.reason}`,
    data: { from: tr.from, to: tr.to, reason: tr.reason, ...data },
  };
}

export async function transition(
  db: Db,
  req: TransitionRequest,
): Promise<{ machine: Machine; job: Job | null }> {
  return db.tx(async (t) => {
    const now = Date.now();
    if (!(await writeTransition(t, req, now))) {
      const current = await getMachineRow(t, req.machineId); // throws not-found
      throw new IngotError(
        ErrorCode.ConcurrentUpdate,
        `machine ${current.hostname} is ${current.state}, not ${req.from}: another change won the race; re-read and retry`,
        { details: { id: req.machineId, expected: req.from, state: current.state } },
      );
    }
    // At most one active job per machine: a new workflow, abort or watchdog ends the previous one.
    if (req.cancelJobs || req.job)
      await cancelActiveJobs(t, { machineId: req.machineId }, req.reason, req.actor, now);
    await insertEvents(t, [transitionEvent(req, req.actor, null, req.data)], now);
    const machine = await getMachineRow(t, req.machineId);
    const job = req.job ? await insertJob(t, { machine }, req.job, req.actor, now) : null;
    return { machine, job };
  });
}

export async function getJob(db: Db, id: string): Promise<Job> {
  const rows = await db.query('SELECT * FROM jobs WHERE id = ?', [id]);
  if (!rows.length)
    throw new IngotError(ErrorCode.JobNotFound, `job ${id} does not exist`, { details: { id } });
  return jobFromRow(rows[0]);
}

/** Newest first. */
export async function listJobs(
  db: Db,
  filter: { machineId?: string; clusterId?: string; status?: JobStatus[] },
  limit: number,
): Promise<Job[]> {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  if (filter.machineId) {
    clauses.push('machine_id = ?');
    params.push(filter.machineId);
  }
  if (filter.clusterId) {
    clauses.push('cluster_id = ?');
    params.push(filter.clusterId);
  }
  if (filter.status?.length) {
    clauses.push(`status IN (${placeholders(filter.status.length)})`);
    params.push(...filter.status);
  }
  const rows = await db.query(
    `SELECT * FROM jobs WHERE ${clauses.length ? clauses.join(' AND ') : '1 = 1'} ORDER BY created_at DESC, id DESC LIMIT ?`,
    [...params, limit],
  );
  return rows.map(jobFromRow);
}

export async function enqueueJob(db: Db, machineId: string, job: NewJob, actor: string): Promise<Job> {
  return db.tx(async (t) => {
    const now = Date.now();
    const machine = await getMachineRow(t, machineId);
    await cancelActiveJobs(t, { machineId }, `superseded by ${job.kind}`, actor, now);
    return insertJob(t, { machine }, job, actor, now);
  });
}

/** How many candidates one claim reads per page, at least, while it looks for jobs `accept` takes. */
const CLAIM_PAGE = 64;

export async function claimJobs(db: Db, opts: ClaimOptions): Promise<Job[]> {
  const now = Date.now();
  // `accept` runs before the limit: the claim pages through the runnable jobs in order until it
  // has `limit` accepted ones or none are left, so jobs one worker skips (another rack's, a
  // cluster's) can never hide the jobs behind them from it.
  const chosen: string[] = [];
  const pageSize = Math.max(opts.limit * 4, CLAIM_PAGE);
  let after: { runAfter: number; id: string } | null = null;
  while (chosen.length < opts.limit) {
    const page: { id: string; rack: string; bmc_host: string; kind: string; run_after: number | string }[] =
      await db.query(
        `SELECT id, rack, bmc_host, kind, run_after FROM jobs
         WHERE ${ACTIVE} AND run_after <= ? AND (lease_owner IS NULL OR lease_expires_at < ?)
         ${after ? 'AND (run_after > ? OR (run_after = ? AND id > ?))' : ''}
         ORDER BY run_after, id LIMIT ?`,
        [now, now, ...(after ? [after.runAfter, after.runAfter, after.id] : []), pageSize],
      );
    for (const c of page) {
      if (chosen.length >= opts.limit) break;
      if (
        !opts.accept ||
        opts.accept({ id: c.id, rack: c.rack, bmcHost: c.bmc_host, kind: c.kind as Job['kind'] })
      ) {
        chosen.push(c.id);
      }
    }
    if (page.length < pageSize) break;
    const last = page[page.length - 1];
    after = { runAfter: Number(last.run_after), id: last.id };
  }
  if (chosen.length === 0) return [];
  // The same condition again, now as a compare-and-set: of two regions racing, one wins each job.
  const rows = await db.query(
    `UPDATE jobs SET lease_owner = ?, lease_expires_at = ?, status = 'running', updated_at = ?
     WHERE id IN (${placeholders(chosen.length)}) AND ${ACTIVE} AND (lease_owner IS NULL OR lease_expires_at < ?)
     RETURNING *`,
    [opts.owner, now + opts.leaseMs, now, ...chosen, now],
  );
  return rows.map(jobFromRow);
}

export async function heartbeat(db: Db, owner: string, leaseMs: number): Promise<number> {
  return db.run("UPDATE jobs SET lease_expires_at = ? WHERE lease_owner = ? AND status = 'running'", [
    Date.now() + leaseMs,
    owner,
  ]);
}

export async function saveJobProgress(
  db: Db,
  jobId: string,
  owner: string,
  p: JobProgress,
  events: readonly NewEvent[] = [],
): Promise<boolean> {
  const write = async (t: Db) => {
    const n = await t.run(
      `UPDATE jobs SET step_index = ?, steps = ?, run_after = ?, scratch = ?, updated_at = ?
       WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      [p.stepIndex, JSON.stringify(p.steps), p.runAfter, JSON.stringify(p.scratch), Date.now(), jobId, owner],
    );
    if (n === 0) return false;
    if (p.machine) {
      const machineId = await jobMachine(t, jobId);
      if (machineId) await applyMachineChanges(t, machineId, p.machine, `engine:${owner}`);
    }
    if (events.length > 0) await insertEvents(t, events);
    return true;
  };
  return events.length > 0 || p.machine ? db.tx(write) : write(db);
}

async function jobMachine(t: Db, jobId: string): Promise<string | null> {
  const rows = await t.query<{ machine_id: string | null }>('SELECT machine_id FROM jobs WHERE id = ?', [
    jobId,
  ]);
  return rows[0].machine_id;
}

export async function finishJob(db: Db, jobId: string, owner: string, f: JobFinish): Promise<boolean> {
  return db.tx(async (t) => {
    const now = Date.now();
    const n = await t.run(
      `UPDATE jobs SET status = ?, error = ?, steps = ?, step_index = ?, finished_at = ?, updated_at = ?,
        lease_owner = NULL, lease_expires_at = NULL
       WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      [f.status, f.error, JSON.stringify(f.steps), f.stepIndex, now, now, jobId, owner],
    );
    if (n === 0) return false;
    const job = jobFromRow((await t.query('SELECT * FROM jobs WHERE id = ?', [jobId]))[0]);
    const events = [...f.events];
    if (f.machine && job.machineId) await applyMachineChanges(t, job.machineId, f.machine, `engine:${owner}`);
    if (f.cluster && job.clusterId) {
      events.push(...(await endClusterWorkflow(t, job.clusterId, job, f.cluster, `engine:${owner}`, now)));
      events.push(
        ...(await endJobOperation(t, job, f.status, f.error ?? f.cluster.reason, `engine:${owner}`, now)),
      );
    }
    if (f.transition && job.machineId) {
      const tr = { ...f.transition, machineId: job.machineId };
      const actor = `engine:${owner}`;
      events.push(
        (await writeTransition(t, tr, now))
          ? transitionEvent(tr, actor, jobId)
          : {
              type: 'machine.transition.skipped',
              level: 'warning',
              machineId: job.machineId,
              jobId,
              actor,
              message: `${job.kind} ended but the machine had left ${tr.from}; its state was not changed`,
            },
      );
    }
    await insertEvents(t, events, now);
    return true;
  });
}

export async function releaseLeases(db: Db, owner: string): Promise<number> {
  return db.run(
    "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ? AND status = 'running'",
    [owner],
  );
}
