/**
 * A lab's worth of data for the web console's end-to-end test and bench: machines across
 * zones and racks in every kind of state, with inventory on the commissioned ones, and
 * subnets with ranges, leases and static addresses. Writes through the store (fast: 10,000
 * machines in seconds) except where the real engine must produce the data.
 */
import type { MachineState } from '../../src/core/lifecycle.ts';
import type { SqlStore } from '../../src/store/sql-store.ts';

const STATES: MachineState[] = [
  'ready',
  'ready',
  'deployed',
  'deployed',
  'deployed',
  'new',
  'allocated',
  'broken',
  'failed_deploying',
  'retired',
];
const REASONS: Partial<Record<MachineState, string>> = {
  broken: 'marked broken by user:admin: PSU 2 failed',
  failed_deploying: 'write-image failed: agent write-image failed: disk sda: I/O error at sector 9431',
  deployed: 'deploy done',
  ready: 'commission done',
};

export interface SeedOptions {
  machines: number;
  zones?: number;
  racksPerZone?: number;
  /** Prefix for hostnames and fake BMC names. @default 'node' */
  prefix?: string;
}

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
const mac = (i: number, salt: number) => `52:54:${hex2(salt)}:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`;

export async function seedMachines(store: SqlStore, o: SeedOptions): Promise<string[]> {
  const zones = o.zones ?? 3;
  const racks = o.racksPerZone ?? 4;
  const prefix = o.prefix ?? 'node';
  const salt = [...prefix].reduce((s, c) => s + c.charCodeAt(0), 0);
  const ids: string[] = [];
  for (let i = 0; i < o.machines; i++) {
    const state = STATES[i % STATES.length];
    const zone = `az${(i % zones) + 1}`;
    const rack = `r${String((Math.floor(i / zones) % racks) + 1).padStart(2, '0')}`;
    const m = await store.createMachine(
      {
        hostname: `${prefix}-${String(i).padStart(Math.max(3, String(o.machines - 1).length), '0')}`,
        arch: i % 7 === 0 ? 'arm64' : 'amd64',
        bmc: { address: `fake://${prefix}-bmc-${i}`, username: 'admin', password: 'seed-pass' },
        nics: [{ mac: mac(i, salt), boot: true }],
        tags: [
          ...(i % 3 === 0 ? ['gpu'] : []),
          ...(i % 4 === 0 ? ['ssd'] : ['hdd']),
          ...(i % 5 === 0 ? ['edge'] : []),
        ],
        zone,
        rack,
        pool: i % 2 === 0 ? 'default' : 'batch',
        state,
        stateReason: REASONS[state] ?? `enrolled by seed`,
      },
      'user:seed',
    );
    if (state !== 'new') {
      await store.updateMachine(
        m.id,
        {
          cpu: {
            model: i % 7 === 0 ? 'Ampere Altra Q80-30' : 'AMD EPYC 7443P',
            cores: i % 7 === 0 ? 80 : 24,
            threads: i % 7 === 0 ? 80 : 48,
          },
          memoryBytes: (i % 3 === 0 ? 512 : 256) * 2 ** 30,
          disks: [
            {
              name: 'nvme0n1',
              sizeBytes: 960 * 10 ** 9,
              model: 'SAMSUNG MZQL2960',
              serial: `S6-${i}`,
              rotational: false,
            },
            ...(i % 4 === 0
              ? []
              : [
                  {
                    name: 'sda',
                    sizeBytes: 8 * 10 ** 12,
                    model: 'ST8000NM017B',
                    serial: `ZA-${i}`,
                    rotational: true,
                  },
                ]),
          ],
          powerState: state === 'deployed' || state === 'allocated' ? 'on' : 'off',
        },
        'user:seed',
      );
    }
    ids.push(m.id);
  }
  return ids;
}

export async function seedSubnets(store: SqlStore, machineIds: string[]): Promise<void> {
  const prov = await store.createSubnet(
    {
      name: 'provisioning',
      cidr: '10.20.0.0/22',
      gateway: '10.20.0.1',
      dns: ['10.20.0.2'],
      vlan: 20,
      dhcpMode: 'full',
      autoEnlist: true,
      ranges: [
        { kind: 'reserved', start: '10.20.0.1', end: '10.20.0.15', comment: 'routers, region, switches' },
        { kind: 'dynamic', start: '10.20.1.0', end: '10.20.1.255', comment: 'PXE boot' },
      ],
    },
    'user:seed',
  );
  await store.createSubnet(
    {
      name: 'bmc',
      cidr: '10.30.0.0/24',
      gateway: '10.30.0.1',
      dns: [],
      vlan: 30,
      dhcpMode: 'off',
      autoEnlist: false,
      ranges: [],
    },
    'user:seed',
  );
  for (const [i, id] of machineIds.slice(0, 12).entries()) {
    await store.allocateIp(prov.id, {
      machineId: id,
      kind: i % 3 === 0 ? 'static' : 'dhcp',
      ttlMs: i % 3 === 0 ? undefined : 3_600_000,
    });
  }
}
