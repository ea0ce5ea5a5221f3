/**
 * The lab's network: two namespaces per lab, nothing in the root namespace.
 *   <prefix>-prov: the rack services' side; veth `prov0` with the provisioning address.
 *   <prefix>-rack: the lab network; bridge `br0`, the veth's peer `uplink0`, one tap per VM.
 * Interface names live inside the namespaces, so they are short and fixed (≤ 15 characters).
 */
import { run, stopPid } from '../host/process.ts';

export interface LabNetwork {
  readonly prefix: string;
  readonly provNs: string;
  readonly rackNs: string;
  /** e.g. 10.77.0.1 */
  readonly serverIp: string;
  readonly prefixLen: number;
  readonly serverIp6: string;
}

export const BRIDGE = 'br0';
export const tapName = (i: number): string => `tap${i}`;

export function labNetwork(name: string, cidr = '10.77.0.0/24'): LabNetwork {
  const [net, len] = cidr.split('/');
  const octets = net.split('.').map(Number);
  octets[3] += 1;
  const prefix = `ingot-${name}`;
  return {
    prefix,
    provNs: `${prefix}-prov`,
    rackNs: `${prefix}-rack`,
    serverIp: octets.join('.'),
    prefixLen: Number(len),
    serverIp6: 'fd00:77::1',
  };
}

export async function listNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']).catch(() => '');
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean);
}

/** Kills every process inside the lab's namespaces (by PID) and deletes them. Returns what it removed. */
export async function removeNetwork(n: Pick<LabNetwork, 'provNs' | 'rackNs'>): Promise<string[]> {
  const have = new Set(await listNamespaces());
  const removed: string[] = [];
  for (const ns of [n.rackNs, n.provNs]) {
    if (!have.has(ns)) continue;
    const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ''))
      .split('\n')
      .map(Number)
      .filter((p) => p > 0);
    await Promise.all(pids.map((p) => stopPid(p, 1000)));
    await run('ip', ['netns', 'del', ns]);
    removed.push(ns);
  }
  return removed;
}

const ipn = (ns: string, ...args: string[]) => run('ip', ['-n', ns, ...args]);

/** Creates both namespaces, the veth, the bridge and `taps` taps. Undone by removeNetwork. */
export async function createNetwork(n: LabNetwork, taps: number): Promise<void> {
  await run('ip', ['netns', 'add', n.provNs]);
  await run('ip', ['netns', 'add', n.rackNs]);
  // No duplicate address detection on the provisioning side: its link-local address (the
  // source of router advertisements) is usable at once instead of after ~1 s.
  await run('ip', [
    'netns',
    'exec',
    n.provNs,
    'sh',
    '-c',
    'for c in all default; do echo 0 >/proc/sys/net/ipv6/conf/$c/accept_dad; done',
  ]);
  await ipn(n.provNs, 'link', 'set', 'lo', 'up');
  await ipn(n.provNs, 'link', 'add', 'prov0', 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', n.rackNs);
  await ipn(n.provNs, 'addr', 'add', `${n.serverIp}/${n.prefixLen}`, 'dev', 'prov0');
  await ipn(n.provNs, 'addr', 'add', `${n.serverIp6}/64`, 'dev', 'prov0', 'nodad');
  await ipn(n.provNs, 'link', 'set', 'prov0', 'up');
  await ipn(n.rackNs, 'link', 'set', 'lo', 'up');
  await ipn(
    n.rackNs,
    'link',
    'add',
    BRIDGE,
    'type',
    'bridge',
    'forward_delay',
    '0',
    'stp_state',
    '0',
    'mcast_snooping',
    '0',
  );
  await ipn(n.rackNs, 'link', 'set', 'uplink0', 'master', BRIDGE);
  for (let i = 0; i < taps; i++) {
    await ipn(n.rackNs, 'tuntap', 'add', 'dev', tapName(i), 'mode', 'tap');
    await ipn(n.rackNs, 'link', 'set', tapName(i), 'master', BRIDGE);
    await ipn(n.rackNs, 'link', 'set', tapName(i), 'up');
  }
  await ipn(n.rackNs, 'link', 'set', 'uplink0', 'up');
  await ipn(n.rackNs, 'link', 'set', BRIDGE, 'up');
}
