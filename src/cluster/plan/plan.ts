import { parseCidr, parseIpv4, type Subnet } from '../../core/subnet.ts';
import type { Inventory, InventoryMachine } from '../inventory.ts';
import { overlaps, parseAnyCidr, parseIpv4Span } from '../spec/cidr.ts';
import { type Problem, throwProblems } from '../spec/problems.ts';
import type { ClusterSpec, MachineSelector } from '../spec/types.ts';
import { type Lease, NodeIpam } from './ipam.ts';
import { rackKey, checkQuorum, quorumOf, whatIf } from './quorum.ts';
import { explainShortfall, matches, spread } from './select.ts';
import { type Plan, type PlannedNode, Role } from './types.ts';

interface Want {
  readonly role: Role;
  readonly pool: string;
  readonly count: number;
  readonly selector: MachineSelector;
  readonly path: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: PlannedNode['taints'];
}

function wants(c: ClusterSpec): Want[] {
  const s = c.spec;
  const out: Want[] = [
    {
      role: Role.ControlPlane,
      pool: 'control-plane',
      count: s.controlPlane.count,
      selector: s.controlPlane.machines,
      path: 'spec.controlPlane.machines',
      labels: {},
      taints: [],
    },
  ];
  if (s.etcd.topology === 'external') {
    out.push({
      role: Role.Etcd,
      pool: 'etcd',
      count: s.etcd.count,
      selector: s.etcd.machines,
      path: 'spec.etcd.machines',
      labels: {},
      taints: [],
    });
  }
  s.workers.forEach((w, i) => {
    out.push({
      role: Role.Worker,
      pool: w.name,
      count: w.count,
      selector: w.machines,
      path: `spec.workers[${i}].machines`,
      labels: w.labels,
      taints: w.taints,
    });
  });
  return out;
}

/** Address-space checks against the machines' subnets: pod/service CIDRs, the API VIP, MetalLB vs DHCP. */
function networkProblems(c: ClusterSpec, inv: Inventory): Problem[] {
  const out: Problem[] = [];
  const n = c.spec.networking;
  for (const [field, text] of [
    ['podCIDR', n.podCIDR],
    ['serviceCIDR', n.serviceCIDR],
  ] as const) {
    const block = parseAnyCidr(text);
    if (typeof block === 'string') continue;
    for (const s of inv.subnets) {
      const sc = parseAnyCidr(s.cidr);
      if (typeof sc !== 'string' && overlaps(block, sc)) {
        out.push({
          path: `spec.networking.${field}`,
          message: `${text} overlaps the machines' subnet "${s.name}" ${s.cidr}; pick a block routed nowhere on the site`,
        });
      }
    }
  }
  const vip = parseIpv4(c.spec.endpoint.address);
  const inSubnet = inv.subnets.find(
    (s) => vip !== null && vip >= parseCidr(s.cidr).first && vip <= parseCidr(s.cidr).last,
  );
  if (
    c.spec.endpoint.mode === 'kube-vip' &&
    c.spec.endpoint.kubeVip.mode === 'arp' &&
    vip !== null &&
    !inSubnet
  ) {
    out.push({
      path: 'spec.endpoint.address',
      message: `kube-vip ARP mode needs the VIP inside a node subnet (${inv.subnets.map((s) => s.cidr).join(', ')}); use one of those or kubeVip.mode: bgp`,
    });
  }
  for (const s of inv.subnets) {
    s.ranges.forEach((r) => {
      const a = parseIpv4(r.start)!;
      const b = parseIpv4(r.end)!;
      if (vip !== null && vip >= a && vip <= b)
        out.push({
          path: 'spec.endpoint.address',
          message: `${c.spec.endpoint.address} is inside the ${r.kind} range ${r.start}-${r.end} of subnet "${s.name}"; pick an address outside it`,
        });
      (n.metallb?.pools ?? []).forEach((p, i) => {
        p.addresses.forEach((addr, j) => {
          const sp = parseIpv4Span(addr);
          if (typeof sp !== 'string' && sp.first <= b && a <= sp.last) {
            out.push({
              path: `spec.networking.metallb.pools[${i}].addresses[${j}]`,
              message: `${addr} overlaps the ${r.kind} range ${r.start}-${r.end} of subnet "${s.name}"`,
            });
          }
        });
      });
    });
  }
  return out;
}

/** A machine as a planned node: its role and pool's labels and taints, its address from `lease`. */
export function plannedNode(
  m: InventoryMachine,
  want: Pick<PlannedNode, 'role' | 'pool' | 'labels' | 'taints'>,
  subnet: Subnet,
  lease: Lease,
  init: boolean,
): PlannedNode {
  return {
    hostname: m.hostname,
    machineId: m.id,
    role: want.role,
    pool: want.pool,
    zone: m.zone,
    rack: m.rack,
    init,
    address: `${lease.ip}/${lease.prefix}`,
    ip: lease.ip,
    gateway: subnet.gateway,
    dns: subnet.dns,
    subnet: subnet.name,
    nics: m.nics,
    disks: m.disks,
    labels: want.labels,
    taints: want.taints,
  };
}

/**
 * Plans a cluster onto the inventory's ready machines: selection, failure-domain spread, etcd
 * quorum check, node addresses. Throws one error listing every problem; returns a complete plan
 * or nothing, so render never starts from half a plan.
 */
export function buildPlan(c: ClusterSpec, inv: Inventory): Plan {
  const problems: Problem[] = networkProblems(c, inv);
  const warnings: string[] = [];
  const taken = new Map<string, string>();
  const picked: { want: Want; machines: InventoryMachine[] }[] = [];
  const all = wants(c);
  // Hostname order once: each role's candidates keep it (spread then only orders them by demand).
  const byName = [...inv.machines].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  for (const want of all) {
    const candidates = byName.filter((m) => !taken.has(m.id) && matches(m, want.selector));
    const others = all.filter((w) => w !== want);
    const machines = spread(candidates, want.count, (m) => {
      // How many other wants this machine matches, counted without a list per machine.
      let n = 0;
      for (const w of others) if (matches(m, w.selector)) n++;
      return n;
    });
    if (machines.length < want.count) {
      problems.push({
        path: want.path,
        message: `needs ${want.count} ${want.pool} machines, ${machines.length} match. Of ${inv.machines.length} machines: ${explainShortfall(inv.machines, want.selector, taken)}. Add or commission matching machines, or relax the selector.`,
      });
    }
    for (const m of machines) taken.set(m.id, want.pool);
    picked.push({ want, machines });
    if (want.role !== Role.Worker && (want.role === Role.Etcd || c.spec.etcd.topology === 'stacked')) {
      const etcdNodes = machines.map(
        (m) => ({ hostname: m.hostname, zone: m.zone, rack: m.rack }) as PlannedNode,
      );
      const avail = {
        zone: [...new Set(candidates.map((m) => m.zone))].sort(),
        rack: [...new Set(candidates.map((m) => rackKey(m)))].sort(),
      };
      if (machines.length === want.count)
        problems.push(...checkQuorum(etcdNodes, c.spec.placement.tolerate, avail, want.path));
    }
  }
  if (c.spec.controlPlane.count === 1)
    warnings.push('a single control plane tolerates no failure: use 3 for production');

  const ipam = new NodeIpam(c, inv.subnets);
  const nodes: PlannedNode[] = [];
  for (const { want, machines } of picked) {
    // In hostname order: the picks, read off the inventory in that order (no sort of each role's picks).
    const mine = new Set(machines);
    for (const m of byName.filter((x) => mine.has(x))) {
      const subnet = ipam.subnetFor(m.rack);
      if ('path' in subnet) {
        if (!problems.some((p) => p.message === subnet.message)) problems.push(subnet);
        continue;
      }
      const lease = ipam.allocate(subnet);
      if (!lease) {
        problems.push({
          path: 'spec.networking.nodeSubnets',
          message: `subnet "${subnet.name}" ${subnet.cidr} has no free address for ${m.hostname}; use a larger subnet or shrink its DHCP ranges`,
        });
        continue;
      }
      nodes.push(plannedNode(m, want, subnet, lease, want.role === Role.ControlPlane && nodes.length === 0));
    }
  }
  throwProblems('Plan', problems);
  const etcd = nodes.filter(
    (n) => n.role === (c.spec.etcd.topology === 'external' ? Role.Etcd : Role.ControlPlane),
  );
  return {
    cluster: c.metadata.name,
    distribution: c.spec.distribution,
    version: c.spec.version,
    endpoint: `https://${c.spec.endpoint.address}:${c.spec.endpoint.port}`,
    etcd: {
      topology: c.spec.etcd.topology,
      members: etcd.map((n) => n.hostname),
      quorum: quorumOf(etcd.length),
    },
    nodes,
    whatIf: whatIf(nodes, etcd),
    warnings,
  };
}
