/**
 * Clusters and their members (migration 8). A create allocates every member in one
 * transaction — each machine a compare-and-set ready → allocated, each member row unique per
 * machine — with the cluster row and its create job, so two creates never share a machine and a
 * refused create leaves nothing behind. The admin kubeconfig is a sealed secret.
 */
import type { Cluster, ClusterConditions, ClusterMember, MemberRole } from '../core/cluster.ts';
import { clusterOwner } from '../core/cluster.ts';
import type { ClusterState } from '../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { NewEvent } from '../core/event.ts';
import type { Job } from '../core/job.ts';
import { reserveMemberAddresses } from './cluster-addresses-sql.ts';
import { clusterTransitionEvent, moveClusterOrRefuse } from './cluster-transitions-sql.ts';
import type { Db, Row } from './db.ts';
import { newId } from './ids.ts';
import { cancelActiveJobs, insertJob, transitionEvent, writeTransition } from './jobs-sql.ts';
import { getMachineRow } from './machines-sql.ts';
import { iso, json } from './rows.ts';
import { insertEvents, mapUniqueViolation, placeholders } from './sql-util.ts';
import type { ClusterTransitionRequest, NewCluster } from './store.ts';

type Seal = (db: Db, purpose: string, plaintext: string) => Promise<string>;

function memberFromRow(r: Row): ClusterMember {
  return {
    machineId: r.machine_id as string,
    hostname: r.hostname as string,
    role: r.role as MemberRole,
    order: Number(r.member_order),
    address: r.address as string,
  };
}

function clusterFromRow(r: Row, members: ClusterMember[]): Cluster {
  return {
    id: r.id as string,
    name: r.name as string,
    state: r.state as ClusterState,
    stateReason: r.state_reason as string,
    stateEnteredAt: iso(r.state_entered_at as number)!,
    clusterFile: r.cluster_file as string,
    distribution: r.distribution as string,
    version: r.version as string,
    endpoint: r.endpoint as string,
    members,
    conditions: r.conditions === null ? null : json<ClusterConditions | null>(r.conditions, null),
    hasKubeconfig: r.kubeconfig_secret_id !== null,
    createdAt: iso(r.created_at as number)!,
    updatedAt: iso(r.updated_at as number)!,
  };
}

async function membersOf(db: Db, ids: string[]): Promise<Map<string, ClusterMember[]>> {
  const out = new Map<string, ClusterMember[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = await db.query(
    `SELECT * FROM cluster_members WHERE cluster_id IN (${placeholders(ids.length)}) ORDER BY member_order, hostname`,
    ids,
  );
  for (const r of rows) out.get(r.cluster_id as string)?.push(memberFromRow(r));
  return out;
}

/** By id or name; INGOT_NOT_FOUND naming the cluster when absent. */
export async function getCluster(db: Db, ref: string): Promise<Cluster> {
  const rows = await db.query('SELECT * FROM clusters WHERE id = ? OR name = ?', [ref, ref]);
  if (rows.length === 0)
    throw new IngotError(
      ErrorCode.NotFound,
      `cluster ${ref} does not exist; list clusters with \`ingot cluster ls\``,
      { details: { cluster: ref } },
    );
  const id = rows[0].id as string;
  return clusterFromRow(rows[0], (await membersOf(db, [id])).get(id)!);
}

/** Every cluster, by name; deleted ones only when asked. */
export async function listClusters(db: Db, opts: { includeDeleted?: boolean } = {}): Promise<Cluster[]> {
  const rows = await db.query(
    `SELECT * FROM clusters ${opts.includeDeleted ? '' : "WHERE state <> 'deleted'"} ORDER BY name`,
  );
  const members = await membersOf(
    db,
    rows.map((r) => r.id as string),
  );
  return rows.map((r) => clusterFromRow(r, members.get(r.id as string)!));
}

/**
 * The cluster row, its members (each machine ready → allocated, owned by `cluster:<name>`, its
 * planned address recorded as the machine's static allocation), the create job and the events:
 * all or nothing. A name held by a deleted cluster is taken over.
 */
export async function createCluster(
  db: Db,
  input: NewCluster,
  actor: string,
): Promise<{ cluster: Cluster; job: Job }> {
  return db.tx(async (t) => {
    const now = input.at ?? Date.now();
    const have = await t.query<{ id: string; state: string }>(
      'SELECT id, state FROM clusters WHERE name = ?',
      [input.name],
    );
    if (have.length > 0) {
      if (have[0].state !== 'deleted')
        throw new IngotError(
          ErrorCode.Conflict,
          `metadata.name: cluster ${input.name} exists (${have[0].state}); choose another name or delete it first`,
          { details: { field: 'metadata.name', state: have[0].state } },
        );
      await t.run('DELETE FROM clusters WHERE id = ?', [have[0].id]);
    }
    const id = newId('c', now);
    await t.run(
      `INSERT INTO clusters (id, name, state, state_reason, state_entered_at, cluster_file, distribution, version,
        endpoint, conditions, kubeconfig_secret_id, created_at, updated_at)
       VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`,
      [
        id,
        input.name,
        input.reason,
        now,
        input.clusterFile,
        input.distribution,
        input.version,
        input.endpoint,
        now,
        now,
      ],
    );
    const events: NewEvent[] = [
      {
        type: 'cluster.created',
        clusterId: id,
        actor,
        message: `cluster ${input.name} created with ${input.members.length} machines: ${input.reason}`,
        data: { members: input.members.map((m) => ({ hostname: m.hostname, role: m.role })) },
      },
    ];
    events.push(
      ...(await allocateMembers(t, { id, name: input.name }, input.members, actor, now, '', 'plan again')),
    );
    await insertEvents(t, events, now);
    const job = await insertJob(t, { clusterId: id }, input.job, actor, now);
    return { cluster: await getCluster(t, id), job };
  });
}

/**
 * Allocates each member's machine to the cluster (compare-and-set ready → allocated, owned by
 * `cluster:<name>`) and records the member; throws INGOT_CONCURRENT_UPDATE naming a machine
 * another change took (`retry` says what to do). Returns the machines' transition events.
 * Runs inside the caller's transaction: the create's and the scale's.
 */
export async function allocateMembers(
  t: Db,
  cluster: { id: string; name: string },
  members: readonly ClusterMember[],
  actor: string,
  now: number,
  note: string,
  retry: string,
): Promise<NewEvent[]> {
  const events: NewEvent[] = [];
  for (const m of members) {
    const tr = {
      machineId: m.machineId,
      from: 'ready' as const,
      to: 'allocated' as const,
      reason: `allocated to cluster ${cluster.name} as ${m.role}${note}`,
      set: { owner: clusterOwner(cluster.name) },
    };
    if (!(await writeTransition(t, tr, now))) {
      const machine = await getMachineRow(t, m.machineId); // throws not-found
      throw new IngotError(
        ErrorCode.ConcurrentUpdate,
        `machine ${machine.hostname} is ${machine.state}, not ready: another change took it; ${retry}`,
        { details: { id: machine.id, hostname: machine.hostname, state: machine.state } },
      );
    }
    try {
      await t.run(
        `INSERT INTO cluster_members (cluster_id, machine_id, hostname, role, member_order, address)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [cluster.id, m.machineId, m.hostname, m.role, m.order, m.address],
      );
    } catch (e) {
      mapUniqueViolation(e, { machine_id: `members.${m.hostname}` });
    }
    events.push({ ...transitionEvent(tr, actor, null, { cluster: cluster.name }), clusterId: cluster.id });
  }
  // The planned addresses, recorded once for the members (each deploy then finds its own).
  await reserveMemberAddresses(t, members, now);
  return events;
}

/** A compare-and-set move of the cluster (delete, retry), with the job it starts; all or nothing. */
export async function clusterTransition(
  db: Db,
  req: ClusterTransitionRequest,
): Promise<{ cluster: Cluster; job: Job | null }> {
  return db.tx(async (t) => {
    const now = Date.now();
    const move = { clusterId: req.clusterId, from: req.from, to: req.to, reason: req.reason };
    await moveClusterOrRefuse(t, move, now);
    if (req.job) await cancelActiveJobs(t, { clusterId: req.clusterId }, req.reason, req.actor, now);
    await insertEvents(t, [clusterTransitionEvent(move, req.actor, null)], now);
    const job = req.job ? await insertJob(t, { clusterId: req.clusterId }, req.job, req.actor, now) : null;
    return { cluster: await getCluster(t, req.clusterId), job };
  });
}

/** Seals the admin kubeconfig (replacing an earlier one). */
export async function setClusterKubeconfig(
  db: Db,
  seal: Seal,
  clusterId: string,
  text: string,
): Promise<void> {
  await db.tx(async (t) => {
    const old = await t.query<{ kubeconfig_secret_id: string | null }>(
      'SELECT kubeconfig_secret_id FROM clusters WHERE id = ?',
      [clusterId],
    );
    if (old.length === 0) throw new IngotError(ErrorCode.NotFound, `cluster ${clusterId} does not exist`);
    const id = await seal(t, 'cluster-kubeconfig', text);
    await t.run('UPDATE clusters SET kubeconfig_secret_id = ?, updated_at = ? WHERE id = ?', [
      id,
      Date.now(),
      clusterId,
    ]);
    if (old[0].kubeconfig_secret_id)
      await t.run('DELETE FROM secrets WHERE id = ?', [old[0].kubeconfig_secret_id]);
  });
}

/** The sealed kubeconfig's secret id, or null before the init node returned it. */
export async function clusterKubeconfigSecret(db: Db, clusterId: string): Promise<string | null> {
  const rows = await db.query<{ kubeconfig_secret_id: string | null }>(
    'SELECT kubeconfig_secret_id FROM clusters WHERE id = ?',
    [clusterId],
  );
  return rows[0]?.kubeconfig_secret_id ?? null;
}

export async function setClusterConditions(db: Db, clusterId: string, c: ClusterConditions): Promise<void> {
  await db.run('UPDATE clusters SET conditions = ? WHERE id = ?', [JSON.stringify(c), clusterId]);
}

/** Which cluster each of `machineIds` belongs to, with its role there. */
export async function clustersOfMachines(
  db: Db,
  machineIds: readonly string[],
): Promise<Map<string, { cluster: string; role: MemberRole }>> {
  const out = new Map<string, { cluster: string; role: MemberRole }>();
  if (machineIds.length === 0) return out;
  for (let i = 0; i < machineIds.length; i += 500) {
    const ids = machineIds.slice(i, i + 500);
    const rows = await db.query<{ machine_id: string; name: string; role: string }>(
      `SELECT m.machine_id, c.name, m.role FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id
        WHERE m.machine_id IN (${placeholders(ids.length)})`,
      ids,
    );
    for (const r of rows) out.set(r.machine_id, { cluster: r.name, role: r.role as MemberRole });
  }
  return out;
}
