/** Who is asking: a machine from its MAC, its boot token, or the lease holding its source address. */
import type { IncomingMessage } from 'node:http';
import { type Machine, normalizeMac } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';

/** The client's IPv4 (or IPv6) address, without the `::ffff:` of a dual-stack socket. */
export function sourceIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** The machine whose unexpired lease (or static address) is `ip`, if any. */
export async function machineByAddress(store: Store, ip: string): Promise<Machine | null> {
  for (const row of await store.findIpsByAddress(ip)) {
    if (row.machineId) return store.getMachine(row.machineId);
    if (row.mac) {
      const m = await store.findMachineByMac(row.mac);
      if (m) return m;
    }
  }
  return null;
}

/**
 * Whether `ip` is held by `machine`: a row with its id, or with one of its MACs — or, for a
 * cluster's node, its planned node address, the static address its network-config gives the
 * deployed OS (where its node agent asks from).
 */
export async function addressBelongsTo(store: Store, ip: string, machine: Machine): Promise<boolean> {
  const macs = new Set(machine.nics.map((n) => n.mac));
  if (
    (await store.findIpsByAddress(ip)).some(
      (r) => r.machineId === machine.id || (r.mac !== null && macs.has(r.mac)),
    )
  )
    return true;
  const member = (await store.clustersOfMachines([machine.id])).get(machine.id);
  if (!member) return false;
  const cluster = await store.getCluster(member.cluster).catch(() => null);
  return cluster?.members.some((m) => m.machineId === machine.id && m.address.split('/')[0] === ip) ?? false;
}

/** Machine of an artifact request: `?m=<mac>` written by its iPXE script, else its address. */
export async function machineForRequest(store: Store, url: URL, ip: string): Promise<Machine | null> {
  const m = url.searchParams.get('m');
  const mac = m ? normalizeMac(m) : null;
  if (mac) return store.findMachineByMac(mac);
  return machineByAddress(store, ip);
}
