/**
 * The static addresses a deploy's network-config gives its machine, recorded in the region's
 * IPAM as the machine's static allocations. The rack serves metadata, bundles and node-agent
 * tasks only to an address that belongs to the machine (netboot/http/authorize.ts): a node that
 * comes up on its planned address instead of its DHCP lease must still be recognised. The
 * release of the machine frees exactly the addresses its deploy recorded (not an operator's own
 * static allocations).
 */
import { parse } from 'yaml';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { cidrContains, parseCidr, parseIpv4, type Subnet } from '../core/subnet.ts';
import type { Store } from '../store/store.ts';

const IFACE_KINDS = ['ethernets', 'bonds', 'vlans', 'bridges'] as const;

/** The IPv4 addresses (without prefix) a netplan v2 text assigns, in order, each once. */
export function staticAddresses(networkConfig: string): string[] {
  const doc = parse(networkConfig) as { network?: Record<string, unknown> } | null;
  const out = new Set<string>();
  for (const kind of IFACE_KINDS) {
    const ifaces = doc?.network?.[kind];
    if (typeof ifaces !== 'object' || ifaces === null) continue;
    for (const cfg of Object.values(ifaces as Record<string, { addresses?: unknown }>)) {
      const list = Array.isArray(cfg?.addresses) ? cfg.addresses : [];
      for (const a of list) {
        const ip = typeof a === 'string' ? a.split('/')[0] : '';
        if (parseIpv4(ip) !== null) out.add(ip);
      }
    }
  }
  return [...out];
}

/**
 * Records each address inside one of the region's subnets as the machine's static allocation
 * (idempotent: an address already the machine's costs one read and writes nothing — a cluster's
 * members find theirs recorded by the create); an address another machine holds is a conflict
 * the store names. `known`: the addresses the network-config assigns when the caller knows them
 * (a cluster member's planned address), which spares parsing it. Returns what it recorded, so a
 * refused deploy can take it back.
 */
export async function recordDeployAddresses(
  store: Store,
  machineId: string,
  networkConfig: string,
  known?: readonly string[],
): Promise<{ subnetId: string; ip: string }[]> {
  let subnets: Subnet[] | null = null;
  const done: { subnetId: string; ip: string }[] = [];
  for (const ip of known ?? staticAddresses(networkConfig)) {
    const n = parseIpv4(ip);
    if (n === null) continue;
    const rows = await store.findIpsByAddress(ip);
    if (rows.some((r) => r.machineId === machineId && r.kind === 'static')) continue;
    subnets ??= await store.listSubnets();
    const s = subnets.find((x) => cidrContains(parseCidr(x.cidr), n));
    if (!s) continue;
    const other = rows.find((r) => r.machineId !== machineId);
    if (other)
      throw new IngotError(
        ErrorCode.Conflict,
        `params.networkConfig: ${ip} is already ${other.kind === 'static' ? 'assigned' : 'leased'} to ${other.machineId ? `machine ${other.machineId}` : (other.mac ?? 'another client')}; give this machine a free address`,
        { details: { field: 'params.networkConfig', ip } },
      );
    await store.allocateIp(s.id, { machineId, ip, kind: 'static' });
    done.push({ subnetId: s.id, ip });
  }
  return done;
}

/** Frees the static allocations the machine's deploy recorded (the release of the machine). */
export async function forgetDeployAddresses(
  store: Store,
  machineId: string,
  networkConfig: string,
): Promise<void> {
  for (const ip of staticAddresses(networkConfig))
    for (const r of await store.findIpsByAddress(ip))
      if (r.machineId === machineId && r.kind === 'static') await store.releaseIp(r.subnetId, ip);
}
