/**
 * A cluster's node addresses in the region's IPAM: each member's planned address is recorded as
 * its machine's static allocation in the create's own transaction (one batch for the whole
 * cluster, not a transaction per deploy), so the rack recognises a node on its planned address
 * and later plans skip it. The deploy of a member then finds its address recorded
 * (src/engine/deploy-addresses.ts) and writes nothing. A deleted cluster frees exactly these
 * rows (not an operator's own static allocations of the same machines).
 */
import type { ClusterMember } from '../core/cluster.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { cidrContains, parseCidr, parseIpv4 } from '../core/subnet.ts';
import type { Db } from './db.ts';
import { placeholders } from './sql-util.ts';

const CHUNK = 200;

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

const ipOf = (m: ClusterMember) => m.address.split('/')[0];

/**
 * Records every member's address (inside one of the region's subnets) as its machine's static
 * allocation; an address another machine or client holds is a conflict naming the address and
 * the member, and the caller's transaction writes nothing.
 */
export async function reserveMemberAddresses(
  t: Db,
  members: readonly ClusterMember[],
  now: number,
): Promise<void> {
  const subnets = (await t.query<{ id: string; cidr: string }>('SELECT id, cidr FROM subnets')).map((s) => ({
    id: s.id,
    cidr: parseCidr(s.cidr),
  }));
  const wanted: { m: ClusterMember; ip: string; n: number; subnetId: string }[] = [];
  for (const m of members) {
    const ip = ipOf(m);
    const n = parseIpv4(ip);
    const s = n === null ? undefined : subnets.find((x) => cidrContains(x.cidr, n));
    if (n !== null && s) wanted.push({ m, ip, n, subnetId: s.id });
  }
  if (wanted.length === 0) return;
  const held = new Map<string, { machineId: string | null; mac: string | null; kind: string }>();
  for (const part of chunks(wanted)) {
    const rows = await t.query<{ ip: string; machine_id: string | null; mac: string | null; kind: string }>(
      `SELECT ip, machine_id, mac, kind FROM ip_addresses
       WHERE subnet_id IN (SELECT id FROM subnets) AND ip_num IN (${placeholders(part.length)})
       AND (expires_at IS NULL OR expires_at > ?)`,
      [...part.map((w) => w.n), now],
    );
    for (const r of rows) held.set(r.ip, { machineId: r.machine_id, mac: r.mac, kind: r.kind });
  }
  const fresh: typeof wanted = [];
  for (const w of wanted) {
    const h = held.get(w.ip);
    if (h?.machineId === w.m.machineId && h.kind === 'static') continue;
    if (h)
      throw new IngotError(
        ErrorCode.ConcurrentUpdate,
        `${w.m.hostname}'s planned address ${w.ip} is already ${h.kind === 'static' ? 'assigned' : 'leased'} to ${h.machineId ? `machine ${h.machineId}` : (h.mac ?? 'another client')}: another change took it; plan again`,
        { details: { hostname: w.m.hostname, ip: w.ip } },
      );
    fresh.push(w);
  }
  for (const part of chunks(fresh)) {
    // An expired lease of the address gives way (the DHCP server's own rule).
    await t.run(
      `DELETE FROM ip_addresses WHERE expires_at IS NOT NULL AND expires_at <= ?
       AND subnet_id IN (SELECT id FROM subnets) AND ip_num IN (${placeholders(part.length)})`,
      [now, ...part.map((w) => w.n)],
    );
    await t.run(
      `INSERT INTO ip_addresses (subnet_id, ip_num, ip, machine_id, mac, kind, expires_at, created_at)
       VALUES ${part.map(() => "(?, ?, ?, ?, NULL, 'static', NULL, ?)").join(', ')}`,
      part.flatMap((w) => [w.subnetId, w.n, w.ip, w.m.machineId, now]),
    );
  }
}

/** Frees the members' planned addresses still held by their machines (the cluster is deleted). */
export async function freeMemberAddresses(t: Db, clusterId: string): Promise<void> {
  const members = await t.query<{ machine_id: string; address: string }>(
    'SELECT machine_id, address FROM cluster_members WHERE cluster_id = ?',
    [clusterId],
  );
  for (const part of chunks(members)) {
    const keys = part.map((m) => `${m.machine_id} ${m.address.split('/')[0]}`);
    await t.run(
      `DELETE FROM ip_addresses WHERE kind = 'static' AND machine_id IS NOT NULL
       AND (machine_id || ' ' || ip) IN (${placeholders(keys.length)})`,
      keys,
    );
  }
}
