/**
 * DHCP leases over the IPAM table `ip_addresses` (PRIMARY KEY (subnet_id, ip_num): one row per
 * address, so an address can never be in two rows). The DHCP server batches its leases
 * (group commit) and calls commitLeases once per batch; it ACKs a lease only when its row
 * was written here.
 */
import type { Db } from './db.ts';
import type { LeaseRow, LeaseWrite } from './store.ts';

// The guard of the upsert is the whole safety argument: an existing row is only taken over
// when it is a dynamic lease of the same MAC, or a dynamic lease of nobody's machine that has
// expired (or an orphaned reservation: machine deleted, so machine_id was set to NULL).
// Static IPAM allocations are never touched. A refused row changes 0 rows.
const UPSERT = `INSERT INTO ip_addresses (subnet_id, ip_num, ip, machine_id, mac, kind, expires_at, created_at)
VALUES (?, ?, ?, ?, ?, 'dhcp', ?, ?)
ON CONFLICT (subnet_id, ip_num) DO UPDATE SET
  machine_id = COALESCE(excluded.machine_id, ip_addresses.machine_id),
  mac = excluded.mac,
  expires_at = CASE WHEN COALESCE(excluded.machine_id, ip_addresses.machine_id) IS NULL THEN excluded.expires_at ELSE NULL END
WHERE ip_addresses.kind = 'dhcp' AND (
  ip_addresses.mac = excluded.mac
  OR (ip_addresses.machine_id IS NULL AND (ip_addresses.expires_at IS NULL OR ip_addresses.expires_at < ?)))`;

// A MAC holds one dynamic lease per subnet: moving to another address drops the old row.
const DROP_OTHERS = `DELETE FROM ip_addresses WHERE subnet_id = ? AND mac = ? AND kind = 'dhcp' AND ip_num <> ?`;

export async function commitLeases(db: Db, batch: readonly LeaseWrite[]): Promise<boolean[]> {
  if (batch.length === 0) return [];
  const now = Date.now();
  return db.tx(async (t) => {
    const out: boolean[] = [];
    for (const l of batch) {
      // A known machine's lease is a reservation: no expiry (see LeaseWrite.expiresAt).
      const expires = l.machineId ? null : l.expiresAt;
      const n = await t.run(UPSERT, [l.subnetId, l.ipNum, l.ip, l.machineId, l.mac, expires, now, now]);
      if (n > 0) await t.run(DROP_OTHERS, [l.subnetId, l.mac, l.ipNum]);
      out.push(n > 0);
    }
    return out;
  });
}

export async function loadLeases(db: Db, subnetId: string): Promise<LeaseRow[]> {
  const rows = await db.query<{
    ip_num: number;
    mac: string | null;
    machine_id: string | null;
    kind: string;
    expires_at: number | null;
  }>('SELECT ip_num, mac, machine_id, kind, expires_at FROM ip_addresses WHERE subnet_id = ?', [subnetId]);
  return rows.map((r) => ({
    ipNum: Number(r.ip_num),
    mac: r.mac,
    machineId: r.machine_id,
    kind: r.kind === 'static' ? 'static' : 'dhcp',
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
  }));
}

export async function listMachineMacs(db: Db): Promise<{ mac: string; machineId: string }[]> {
  const rows = await db.query<{ mac: string; machine_id: string }>(
    'SELECT mac, machine_id FROM machine_macs',
  );
  return rows.map((r) => ({ mac: r.mac, machineId: r.machine_id }));
}
