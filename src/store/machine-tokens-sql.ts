/**
 * Per-machine boot tokens and address lookups for the rack services. A boot token goes on the
 * ephemeral OS's kernel command line and authenticates the machine to the metadata service and
 * the agent endpoint; only its SHA-256 is stored. One live token per machine: minting a new one
 * (each iPXE script for the ephemeral OS does) replaces the previous one.
 */
import type { Machine } from '../core/machine.ts';
import { parseIpv4 } from '../core/subnet.ts';
import type { Db } from './db.ts';
import { iso, machineFromRow } from './rows.ts';
import type { IpAllocation } from './store.ts';

export async function setMachineBootToken(
  db: Db,
  machineId: string,
  hash: string,
  expiresAt: number | null,
): Promise<void> {
  await db.tx(async (t) => {
    await t.run('DELETE FROM machine_boot_tokens WHERE machine_id = ?', [machineId]);
    await t.run(
      'INSERT INTO machine_boot_tokens (machine_id, hash, created_at, expires_at) VALUES (?, ?, ?, ?)',
      [machineId, hash, Date.now(), expiresAt],
    );
  });
}

/** The machine whose live (unexpired) boot token has this hash, or null. */
export async function findMachineByBootToken(
  db: Db,
  hash: string,
  now = Date.now(),
): Promise<Machine | null> {
  const rows = await db.query(
    `SELECT m.* FROM machine_boot_tokens t JOIN machines m ON m.id = t.machine_id
      WHERE t.hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`,
    [hash, now],
  );
  return rows.length ? machineFromRow(rows[0]) : null;
}

/**
 * The deployed OS's token: written into its cloud-init seed by the agent, it reads that
 * machine's metadata and reports the OS booted, nothing else (it cannot take agent tasks). One
 * per machine, replaced by the next deploy, deleted when the disks are wiped.
 */
export async function setMachineOsToken(db: Db, machineId: string, hash: string | null): Promise<void> {
  await db.tx(async (t) => {
    await t.run('DELETE FROM machine_os_tokens WHERE machine_id = ?', [machineId]);
    if (hash)
      await t.run('INSERT INTO machine_os_tokens (machine_id, hash, created_at) VALUES (?, ?, ?)', [
        machineId,
        hash,
        Date.now(),
      ]);
  });
}

/** The machine whose deployed-OS token has this hash, or null. */
export async function findMachineByOsToken(db: Db, hash: string): Promise<Machine | null> {
  const rows = await db.query(
    'SELECT m.* FROM machine_os_tokens t JOIN machines m ON m.id = t.machine_id WHERE t.hash = ?',
    [hash],
  );
  return rows.length ? machineFromRow(rows[0]) : null;
}

/** Unexpired address rows (static and DHCP leases) holding `ip`, across subnets. */
export async function findIpsByAddress(db: Db, ip: string, now = Date.now()): Promise<IpAllocation[]> {
  const n = parseIpv4(ip);
  if (n === null) return [];
  // Through the primary key (subnet_id, ip_num), one probe per subnet (migration 17).
  const rows = await db.query(
    `SELECT * FROM ip_addresses WHERE subnet_id IN (SELECT id FROM subnets) AND ip_num = ?
     AND (expires_at IS NULL OR expires_at > ?) ORDER BY subnet_id`,
    [n, now],
  );
  return rows.map((r) => ({
    subnetId: r.subnet_id as string,
    ip: r.ip as string,
    machineId: (r.machine_id as string | null) ?? null,
    mac: (r.mac as string | null) ?? null,
    kind: r.kind as 'static' | 'dhcp',
    expiresAt: iso(r.expires_at as number | null),
  }));
}
