/** Machine rows: create, read, list with filters and keyset pagination, update, delete. */
import { bmcEndpoint, parseBmcUrl } from '../core/bmc-address.ts';
import type { NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { MachineState } from '../core/lifecycle.ts';
import { type Machine, PowerState } from '../core/machine.ts';
import type { Db, SqlValue } from './db.ts';
import { newId } from './ids.ts';
import { machineFromRow } from './rows.ts';
import { insertEvents, mapUniqueViolation, placeholders } from './sql-util.ts';
import type { MachineChanges, MachineFilter, MachinePatch, NewMachine, Page } from './store.ts';
import { insertDiskHealth } from './health-sql.ts';

const UNIQUE_FIELDS = {
  'machines.hostname': 'hostname',
  machines_hostname: 'hostname',
  'machine_macs.mac': 'nics[].mac',
  machine_macs_pkey: 'nics[].mac',
};

export type SealFn = (db: Db, purpose: string, plaintext: string) => Promise<string>;

/** Host part of a BMC address: the key of the per-BMC concurrency limit (jobs copy it). */
export function bmcHost(address: string | undefined | null): string {
  if (!address) return '';
  try {
    return new URL(address).host;
  } catch {
    return address;
  }
}

export async function getMachineRow(db: Db, id: string): Promise<Machine> {
  const rows = await db.query('SELECT * FROM machines WHERE id = ?', [id]);
  if (rows.length === 0) {
    throw new IngotError(
      ErrorCode.MachineNotFound,
      `machine ${id} does not exist; list machines with \`ingot machine ls\``,
      {
        details: { id },
      },
    );
  }
  return machineFromRow(rows[0]);
}

export async function findMachineByMac(db: Db, mac: string): Promise<Machine | null> {
  const rows = await db.query(
    'SELECT m.* FROM machines m JOIN machine_macs x ON x.machine_id = m.id WHERE x.mac = ?',
    [mac],
  );
  return rows.length ? machineFromRow(rows[0]) : null;
}

export async function countMachinesByState(
  db: Db,
  filter: { owner?: string } = {},
): Promise<Partial<Record<MachineState, number>>> {
  const rows = await db.query<{ state: MachineState; n: number }>(
    `SELECT state, COUNT(*) AS n FROM machines ${filter.owner === undefined ? '' : 'WHERE owner = ?'} GROUP BY state`,
    filter.owner === undefined ? [] : [filter.owner],
  );
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Machines in `states` that entered them before `enteredBefore` (ms), oldest first. */
export async function machinesStuck(
  db: Db,
  states: MachineState[],
  enteredBefore: number,
  limit: number,
): Promise<Machine[]> {
  if (states.length === 0) return [];
  const rows = await db.query(
    `SELECT * FROM machines WHERE state IN (${placeholders(states.length)}) AND state_entered_at < ? ORDER BY state_entered_at LIMIT ?`,
    [...states, enteredBefore, limit],
  );
  return rows.map(machineFromRow);
}

export async function createMachine(
  db: Db,
  seal: SealFn,
  input: NewMachine,
  actor: string,
): Promise<Machine> {
  const now = Date.now();
  const id = newId('m', now);
  if (input.bmc) parseBmcUrl(input.bmc.address);
  try {
    return await db.tx(async (t) => {
      const secretId = input.bmc ? await seal(t, `bmc:${id}`, input.bmc.password) : null;
      await t.run(
        `INSERT INTO machines (id, hostname, arch, state, state_reason, state_entered_at, power_state, bmc_address,
          bmc_username, bmc_secret_id, bmc_host, nics, disks, cpu, memory_bytes, tags, zone, rack, pool, owner,
          rescue_from, commissioned_at, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', NULL, NULL, ?, ?, ?, ?, '', NULL, NULL, 1, ?, ?)`,
        [
          id,
          input.hostname,
          input.arch,
          input.state ?? 'new',
          input.stateReason ?? `enrolled by ${actor}`,
          now,
          PowerState.Unknown,
          input.bmc?.address ?? null,
          input.bmc?.username ?? null,
          secretId,
          bmcHost(input.bmc?.address),
          JSON.stringify(input.nics),
          JSON.stringify(input.tags),
          input.zone,
          input.rack,
          input.pool,
          now,
          now,
        ],
      );
      for (const nic of input.nics)
        await t.run('INSERT INTO machine_macs (mac, machine_id) VALUES (?, ?)', [nic.mac, id]);
      for (const tag of new Set(input.tags)) {
        await t.run('INSERT INTO machine_tags (machine_id, tag) VALUES (?, ?)', [id, tag]);
      }
      await insertEvents(
        t,
        [
          {
            type: 'machine.created',
            machineId: id,
            actor,
            message: `machine ${input.hostname} enrolled${input.bmc ? ` with BMC ${input.bmc.address}` : ''}`,
            data: { hostname: input.hostname, macs: input.nics.map((n) => n.mac) },
          },
        ],
        now,
      );
      return getMachineRow(t, id);
    });
  } catch (e) {
    mapUniqueViolation(e, UNIQUE_FIELDS);
  }
}

function where(filter: MachineFilter): { sql: string; params: SqlValue[] } {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  if (filter.state?.length) {
    clauses.push(`state IN (${placeholders(filter.state.length)})`);
    params.push(...filter.state);
  }
  for (const col of ['zone', 'rack', 'pool', 'owner'] as const) {
    const v = filter[col];
    if (v !== undefined) {
      clauses.push(`${col} = ?`);
      params.push(v);
    }
  }
  for (const tag of filter.tag ?? []) {
    clauses.push('id IN (SELECT machine_id FROM machine_tags WHERE tag = ?)');
    params.push(tag);
  }
  if (filter.q) {
    clauses.push(
      "(hostname LIKE ? ESCAPE '\\' OR id IN (SELECT machine_id FROM machine_macs WHERE mac = ?) OR id = ?)",
    );
    params.push(`%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, filter.q.toLowerCase(), filter.q);
  }
  return { sql: clauses.length ? clauses.join(' AND ') : '1 = 1', params };
}

export async function listMachines(
  db: Db,
  filter: MachineFilter,
  limit: number,
  cursor?: string | null,
): Promise<Page<Machine>> {
  const w = where(filter);
  const after = cursor ? Buffer.from(cursor, 'base64url').toString('utf8') : null;
  const pageSql = after ? `${w.sql} AND id > ?` : w.sql;
  const pageParams = after ? [...w.params, after] : w.params;
  const [rows, count] = await Promise.all([
    db.query(`SELECT * FROM machines WHERE ${pageSql} ORDER BY id LIMIT ?`, [...pageParams, limit + 1]),
    db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM machines WHERE ${w.sql}`, w.params),
  ]);
  const items = rows.slice(0, limit).map(machineFromRow);
  const next = rows.length > limit ? Buffer.from(items[items.length - 1].id).toString('base64url') : null;
  return { items, next, total: Number(count[0].n) };
}

export async function updateMachine(
  db: Db,
  seal: SealFn,
  id: string,
  patch: MachinePatch,
  actor: string,
  expectedVersion?: number,
): Promise<Machine> {
  try {
    return await db.tx((t) => patchMachine(t, seal, id, patch, actor, expectedVersion));
  } catch (e) {
    mapUniqueViolation(e, UNIQUE_FIELDS);
  }
}

/** The body of updateMachine, inside the caller's transaction. */
async function patchMachine(
  t: Db,
  seal: SealFn,
  id: string,
  patch: MachinePatch,
  actor: string,
  expectedVersion?: number,
): Promise<Machine> {
  const current = await getMachineRow(t, id);
  if (expectedVersion !== undefined && current.version !== expectedVersion) {
    throw new IngotError(
      ErrorCode.ConcurrentUpdate,
      `machine ${id} changed since version ${expectedVersion} (now ${current.version}); re-read it and retry`,
      { details: { id, expectedVersion, version: current.version } },
    );
  }
  const sets: string[] = [];
  const params: SqlValue[] = [];
  let moved: { from: string; to: string } | null = null;
  const set = (col: string, v: SqlValue) => {
    sets.push(`${col} = ?`);
    params.push(v);
  };
  if (patch.hostname !== undefined) set('hostname', patch.hostname);
  if (patch.arch !== undefined) set('arch', patch.arch);
  if (patch.zone !== undefined) set('zone', patch.zone);
  if (patch.rack !== undefined) set('rack', patch.rack);
  if (patch.pool !== undefined) set('pool', patch.pool);
  if (patch.powerState !== undefined) set('power_state', patch.powerState);
  if (patch.disks !== undefined) set('disks', JSON.stringify(patch.disks));
  if (patch.cpu !== undefined) set('cpu', patch.cpu === null ? null : JSON.stringify(patch.cpu));
  if (patch.memoryBytes !== undefined) set('memory_bytes', patch.memoryBytes);
  if (patch.bmc !== undefined) {
    if (patch.bmc === null) {
      set('bmc_address', null);
      set('bmc_username', null);
      set('bmc_secret_id', null);
      set('bmc_host', '');
    } else {
      const to = bmcEndpoint(patch.bmc.address);
      const from = current.bmc ? bmcEndpoint(current.bmc.address) : null;
      if (from !== null && from !== to) {
        // The stored password belongs to `from`: it goes to `to` only if given again.
        if (patch.bmc.password === undefined)
          throw new IngotError(
            ErrorCode.Validation,
            `bmc.password: required when the BMC address moves to another host, port, scheme or transport option (from ${from} to ${to}); the stored password is only ever sent to the BMC it was given for. Give the password again (CLI: --bmc-password-file)`,
            { details: { field: 'bmc.password', from, to } },
          );
        moved = { from, to };
      }
      set('bmc_address', patch.bmc.address);
      set('bmc_username', patch.bmc.username);
      set('bmc_host', bmcHost(patch.bmc.address));
      if (patch.bmc.password !== undefined) {
        if (current.bmc?.passwordSecretId) {
          await t.run('DELETE FROM secrets WHERE id = ?', [current.bmc.passwordSecretId]);
        }
        set('bmc_secret_id', await seal(t, `bmc:${id}`, patch.bmc.password));
      } else if (!current.bmc) {
        throw new IngotError(ErrorCode.Validation, 'bmc.password: required when adding a BMC to a machine', {
          details: { field: 'bmc.password' },
        });
      }
    }
  }
  if (patch.nics !== undefined) {
    set('nics', JSON.stringify(patch.nics));
    await t.run('DELETE FROM machine_macs WHERE machine_id = ?', [id]);
    for (const nic of patch.nics) {
      await t.run('INSERT INTO machine_macs (mac, machine_id) VALUES (?, ?)', [nic.mac, id]);
    }
  }
  if (patch.tags !== undefined) {
    set('tags', JSON.stringify(patch.tags));
    await t.run('DELETE FROM machine_tags WHERE machine_id = ?', [id]);
    for (const tag of new Set(patch.tags)) {
      await t.run('INSERT INTO machine_tags (machine_id, tag) VALUES (?, ?)', [id, tag]);
    }
  }
  if (sets.length === 0) return current;
  const now = Date.now();
  set('updated_at', now);
  sets.push('version = version + 1');
  await t.run(`UPDATE machines SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
  // Power readings are frequent and not user mutations: they do not go on the audit trail.
  const fields = Object.keys(patch).filter((k) => k !== 'powerState');
  if (fields.length > 0) {
    const events: NewEvent[] = [
      {
        type: 'machine.updated',
        machineId: id,
        actor,
        message: `updated ${fields.join(', ')}`,
        data: { fields },
      },
    ];
    if (moved)
      events.push({
        type: 'machine.bmc-moved',
        level: 'warning',
        machineId: id,
        actor,
        message: `BMC moved from ${moved.from} to ${moved.to} by ${actor}, with a new password`,
        data: moved,
      });
    await insertEvents(t, events, now);
  }
  return getMachineRow(t, id);
}

/**
 * Writes what a workflow step learned about a machine, inside the job write's transaction (see
 * MachineChanges). Hardware fields go through the same patch as an operator's edit (version,
 * `machine.updated` event); a NIC's MAC taken by another machine is INGOT_CONFLICT.
 */
export async function applyMachineChanges(
  t: Db,
  id: string,
  changes: MachineChanges,
  actor: string,
): Promise<void> {
  const { powerState, inventory, diskHealth, ...hardware } = changes;
  if (powerState !== undefined)
    await t.run('UPDATE machines SET power_state = ? WHERE id = ? AND power_state <> ?', [
      powerState,
      id,
      powerState,
    ]);
  if (Object.keys(hardware).length > 0) {
    const noSecrets: SealFn = () => Promise.reject(new Error('a step never writes a secret'));
    try {
      await patchMachine(t, noSecrets, id, hardware, actor);
    } catch (e) {
      mapUniqueViolation(e, UNIQUE_FIELDS);
    }
  }
  if (inventory !== undefined)
    await t.run('UPDATE machines SET inventory = ? WHERE id = ?', [JSON.stringify(inventory), id]);
  for (const d of diskHealth ?? []) await insertDiskHealth(t, d);
}

export async function deleteMachine(db: Db, id: string, actor: string): Promise<void> {
  await db.tx(async (t) => {
    const m = await getMachineRow(t, id);
    const member = await t.query<{ name: string }>(
      'SELECT c.name FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id WHERE m.machine_id = ?',
      [id],
    );
    if (member.length > 0)
      throw new IngotError(
        ErrorCode.Conflict,
        `machine ${m.hostname} belongs to cluster ${member[0].name}; delete the cluster first (\`ingot cluster delete ${member[0].name}\`)`,
        { details: { id, cluster: member[0].name } },
      );
    await t.run(
      "UPDATE jobs SET status = 'cancelled', lease_owner = NULL, finished_at = ?, error = ? WHERE machine_id = ? AND status IN ('queued', 'running')",
      [Date.now(), 'machine deleted', id],
    );
    await t.run('DELETE FROM machines WHERE id = ?', [id]);
    if (m.bmc?.passwordSecretId) await t.run('DELETE FROM secrets WHERE id = ?', [m.bmc.passwordSecretId]);
    await insertEvents(t, [
      {
        type: 'machine.deleted',
        machineId: id,
        actor,
        message: `machine ${m.hostname} deleted`,
        data: { hostname: m.hostname },
      },
    ]);
  });
}
