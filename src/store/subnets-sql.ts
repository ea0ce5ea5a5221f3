/** Subnets and IP address management. An address is a primary key per subnet: never handed out twice. */
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';
import {
  cidrContains,
  formatIpv4,
  parseCidr,
  parseIpv4,
  type Subnet,
  validateSubnetShape,
} from '../core/subnet.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';
import { iso, subnetFromRow } from './rows.ts';
import { insertEvents, mapUniqueViolation } from './sql-util.ts';
import type { IpAllocation, NewSubnet } from './store.ts';

const UNIQUE = { 'subnets.name': 'name', subnets_name: 'name', 'subnets.cidr': 'cidr', subnets_cidr: 'cidr' };

export async function getSubnet(db: Db, idOrName: string): Promise<Subnet> {
  const rows = await db.query('SELECT * FROM subnets WHERE id = ? OR name = ?', [idOrName, idOrName]);
  if (rows.length === 0) {
    throw new IngotError(
      ErrorCode.SubnetNotFound,
      `subnet ${idOrName} does not exist; list subnets with \`ingot subnet ls\``,
      {
        details: { id: idOrName },
      },
    );
  }
  return subnetFromRow(rows[0]);
}

export async function createSubnet(db: Db, s: NewSubnet, actor: string): Promise<Subnet> {
  validateSubnetShape(s);
  const now = Date.now();
  const id = newId('s', now);
  try {
    return await db.tx(async (t) => {
      const others = await t.query<{ cidr: string; name: string }>('SELECT cidr, name FROM subnets');
      const mine = parseCidr(s.cidr);
      for (const o of others) {
        const c = parseCidr(o.cidr);
        if (mine.first <= c.last && c.first <= mine.last) {
          throw invalid(
            'cidr',
            `${s.cidr} overlaps subnet ${o.name} (${o.cidr}); pick a range that does not overlap`,
          );
        }
      }
      await t.run(
        `INSERT INTO subnets (id, name, cidr, gateway, dns, vlan, dhcp_mode, auto_enlist, ranges, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          s.name,
          s.cidr,
          s.gateway,
          JSON.stringify(s.dns),
          s.vlan,
          s.dhcpMode,
          s.autoEnlist ? 1 : 0,
          JSON.stringify(s.ranges),
          now,
          now,
        ],
      );
      await insertEvents(
        t,
        [{ type: 'subnet.created', actor, message: `subnet ${s.name} (${s.cidr}) created`, data: { id } }],
        now,
      );
      return getSubnet(t, id);
    });
  } catch (e) {
    mapUniqueViolation(e, UNIQUE);
  }
}

export async function updateSubnet(
  db: Db,
  id: string,
  patch: Partial<NewSubnet>,
  actor: string,
): Promise<Subnet> {
  try {
    return await db.tx(async (t) => {
      const cur = await getSubnet(t, id);
      const next = { ...cur, ...patch };
      if (patch.cidr !== undefined && patch.cidr !== cur.cidr)
        throw invalid('cidr', 'cannot be changed; create a new subnet');
      validateSubnetShape(next);
      const now = Date.now();
      await t.run(
        'UPDATE subnets SET name = ?, gateway = ?, dns = ?, vlan = ?, dhcp_mode = ?, auto_enlist = ?, ranges = ?, updated_at = ? WHERE id = ?',
        [
          next.name,
          next.gateway,
          JSON.stringify(next.dns),
          next.vlan,
          next.dhcpMode,
          next.autoEnlist ? 1 : 0,
          JSON.stringify(next.ranges),
          now,
          cur.id,
        ],
      );
      await insertEvents(
        t,
        [
          {
            type: 'subnet.updated',
            actor,
            message: `subnet ${next.name} updated`,
            data: { id: cur.id, fields: Object.keys(patch) },
          },
        ],
        now,
      );
      return getSubnet(t, cur.id);
    });
  } catch (e) {
    mapUniqueViolation(e, UNIQUE);
  }
}

export async function deleteSubnet(db: Db, id: string, actor: string): Promise<void> {
  await db.tx(async (t) => {
    const s = await getSubnet(t, id);
    await t.run('DELETE FROM subnets WHERE id = ?', [s.id]);
    await insertEvents(t, [
      { type: 'subnet.deleted', actor, message: `subnet ${s.name} deleted`, data: { id: s.id } },
    ]);
  });
}

function allocationFromRow(r: Record<string, unknown>): IpAllocation {
  return {
    subnetId: r.subnet_id as string,
    ip: r.ip as string,
    machineId: (r.machine_id as string | null) ?? null,
    mac: (r.mac as string | null) ?? null,
    kind: r.kind as 'static' | 'dhcp',
    expiresAt: iso(r.expires_at as number | null),
  };
}

export async function allocateIp(
  db: Db,
  subnetId: string,
  req: { machineId?: string; mac?: string; ip?: string; kind: 'static' | 'dhcp'; ttlMs?: number },
): Promise<IpAllocation> {
  return db.tx(async (t) => {
    const s = await getSubnet(t, subnetId);
    // Serialise allocations per subnet (SQLite transactions are serial already). The primary
    // key would stop a double assignment anyway; the lock turns that error into a retry-free pick.
    if (t.dialect === 'postgres') await t.query('SELECT id FROM subnets WHERE id = ? FOR UPDATE', [s.id]);
    const now = Date.now();
    const expires = req.ttlMs ? now + req.ttlMs : null;
    await t.run(
      'DELETE FROM ip_addresses WHERE subnet_id = ? AND expires_at IS NOT NULL AND expires_at < ?',
      [s.id, now],
    );
    // Idempotent: the same machine/MAC asking again keeps its address (renewing a lease).
    if (req.mac || req.machineId) {
      const mine = await t.query(
        'SELECT * FROM ip_addresses WHERE subnet_id = ? AND ((mac IS NOT NULL AND mac = ?) OR (machine_id IS NOT NULL AND machine_id = ?))',
        [s.id, req.mac ?? '', req.machineId ?? ''],
      );
      if (mine.length > 0 && (!req.ip || mine[0].ip === req.ip)) {
        await t.run('UPDATE ip_addresses SET expires_at = ? WHERE subnet_id = ? AND ip_num = ?', [
          expires,
          s.id,
          mine[0].ip_num,
        ]);
        return allocationFromRow({ ...mine[0], expires_at: expires });
      }
    }
    const cidr = parseCidr(s.cidr);
    let pick: number | null = null;
    if (req.ip) {
      pick = parseIpv4(req.ip);
      if (pick === null || !cidrContains(cidr, pick))
        throw invalid('ip', `${req.ip} is not inside ${s.cidr}`);
    } else {
      const gw = s.gateway ? parseIpv4(s.gateway) : null;
      for (const r of s.ranges.filter((x) => x.kind === 'dynamic')) {
        const start = parseIpv4(r.start)!;
        const end = parseIpv4(r.end)!;
        const used = new Set(
          (
            await t.query<{ ip_num: number }>(
              'SELECT ip_num FROM ip_addresses WHERE subnet_id = ? AND ip_num BETWEEN ? AND ?',
              [s.id, start, end],
            )
          ).map((x) => Number(x.ip_num)),
        );
        for (let n = start; n <= end; n++) {
          if (!used.has(n) && n !== gw && n !== cidr.first && n !== cidr.last) {
            pick = n;
            break;
          }
        }
        if (pick !== null) break;
      }
      if (pick === null) {
        throw new IngotError(
          ErrorCode.IpExhausted,
          `subnet ${s.name} has no free address in its dynamic ranges; add a range or release addresses`,
          {
            details: { subnet: s.name },
          },
        );
      }
    }
    try {
      await t.run(
        'INSERT INTO ip_addresses (subnet_id, ip_num, ip, machine_id, mac, kind, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [s.id, pick, formatIpv4(pick), req.machineId ?? null, req.mac ?? null, req.kind, expires, now],
      );
    } catch (e) {
      mapUniqueViolation(e, { ip_addresses: 'ip' });
    }
    return {
      subnetId: s.id,
      ip: formatIpv4(pick),
      machineId: req.machineId ?? null,
      mac: req.mac ?? null,
      kind: req.kind,
      expiresAt: iso(expires),
    };
  });
}

export async function releaseIp(db: Db, subnetId: string, ip: string): Promise<void> {
  const n = parseIpv4(ip);
  if (n === null) throw invalid('ip', `"${ip}" is not an IPv4 address`);
  await db.run('DELETE FROM ip_addresses WHERE subnet_id = ? AND ip_num = ?', [subnetId, n]);
}

export async function listIps(db: Db, subnetId: string): Promise<IpAllocation[]> {
  const s = await getSubnet(db, subnetId);
  return (await db.query('SELECT * FROM ip_addresses WHERE subnet_id = ? ORDER BY ip_num', [s.id])).map(
    allocationFromRow,
  );
}

export async function listSubnets(db: Db): Promise<Subnet[]> {
  const rows = await db.query<{ id: string }>('SELECT id FROM subnets ORDER BY name');
  return Promise.all(rows.map((r) => getSubnet(db, r.id)));
}
