/** Builders for unit tests: small inventories and Cluster documents. Not used at runtime. */
import type { Inventory, InventoryMachine } from './inventory.ts';
import { validateCluster } from './spec/parse.ts';
import type { ClusterSpec } from './spec/types.ts';

const TS = '2026-11-01T00:00:00.000Z';

export function machine(
  hostname: string,
  zone: string,
  rack: string,
  over: Partial<InventoryMachine> = {},
): InventoryMachine {
  const n = hostname.length + hostname.charCodeAt(hostname.length - 1);
  return {
    id: `m-${hostname}`,
    hostname,
    arch: 'amd64',
    state: 'ready',
    stateReason: '',
    stateEnteredAt: TS,
    powerState: 'off',
    bmc: null,
    nics: [{ mac: `52:54:00:00:${(n % 256).toString(16).padStart(2, '0')}:01`, boot: true, name: 'eno1' }],
    disks: [{ name: 'sda', sizeBytes: 480e9 }],
    cpu: { cores: 16 },
    memoryBytes: 64 * 2 ** 30,
    tags: [],
    zone,
    rack,
    pool: 'default',
    owner: '',
    rescueFrom: null,
    commissionedAt: TS,
    version: 1,
    createdAt: TS,
    updatedAt: TS,
    ...over,
  };
}

/** `zones` × `racksPerZone` × `perRack` ready machines named `zZrR-N`, one /22 subnet. */
export function inventory(zones: number, racksPerZone: number, perRack: number): Inventory {
  const machines: InventoryMachine[] = [];
  for (let z = 1; z <= zones; z++)
    for (let r = 1; r <= racksPerZone; r++)
      for (let i = 1; i <= perRack; i++) machines.push(machine(`z${z}r${r}-${i}`, `z${z}`, `z${z}-r${r}`));
  return {
    machines,
    subnets: [
      {
        id: 's1',
        name: 'machines',
        cidr: '10.0.0.0/22',
        gateway: '10.0.0.1',
        dns: [],
        vlan: null,
        dhcpMode: 'full',
        autoEnlist: false,
        ranges: [{ kind: 'dynamic', start: '10.0.3.0', end: '10.0.3.255' }],
        createdAt: TS,
        updatedAt: TS,
      },
    ],
  };
}

/** A valid Cluster with `spec` merged over a minimal one (VIP 10.0.0.10). */
export function cluster(spec: Record<string, unknown> = {}): ClusterSpec {
  return validateCluster({
    apiVersion: 'ingot.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'test' },
    spec: { endpoint: { address: '10.0.0.10' }, ...spec },
  });
}
