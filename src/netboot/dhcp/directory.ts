/**
 * What the DHCP server needs to know from the store on every packet, cached: the subnets
 * (with one address pool each) and which MACs belong to known machines. Refreshed every
 * `refreshMs`, so a packet never waits for a query (at 25k packets/s a lookup per packet
 * would cost more than the rest of the work). A machine enrolled through the API is seen
 * as known at the next refresh; until then its packets are served, just not on its timeline.
 */
import type { Logger } from 'pino';
import type { Machine } from '../../core/machine.ts';
import { cidrContains, parseIpv4, type Subnet } from '../../core/subnet.ts';
import type { Store } from '../../store/store.ts';
import { ClientArch } from './options.ts';
import { SubnetPool } from './pool.ts';

export class Directory {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #serverIp: string;
  #macs = new Map<string, string>();
  #pools = new Map<string, SubnetPool>();
  #subnets: Subnet[] = [];
  /** giaddr → pool, rebuilt on refresh (a handful of relays send all the traffic). */
  #byGiaddr = new Map<string, SubnetPool | null>();
  #timer: NodeJS.Timeout | null = null;
  #enlisting = new Map<string, Promise<string | null>>();

  constructor(store: Store, serverIp: string, log: Logger) {
    this.#store = store;
    this.#serverIp = serverIp;
    this.#log = log;
  }

  async start(refreshMs: number): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => {
      this.refresh().catch((e) => this.#log.warn({ err: e }, 'could not refresh subnets and machines'));
    }, refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async refresh(): Promise<void> {
    const [subnets, macs] = await Promise.all([this.#store.listSubnets(), this.#store.listMachineMacs()]);
    this.#macs = new Map(macs.map((m) => [m.mac, m.machineId]));
    const pools = new Map<string, SubnetPool>();
    for (const s of subnets) {
      const old = this.#pools.get(s.id);
      // A changed subnet (ranges, gateway, mode) gets a fresh pool from the store's rows;
      // offers held in memory are dropped, which at worst costs a client a NAK and a retry.
      if (old && old.subnet.updatedAt === s.updatedAt) pools.set(s.id, old);
      else {
        const pool = new SubnetPool(s, [this.#serverIp]);
        pool.load(await this.#store.loadLeases(s.id));
        pools.set(s.id, pool);
      }
    }
    this.#pools = pools;
    this.#subnets = subnets;
    this.#byGiaddr = new Map();
  }

  machineOf(mac: string): string | null {
    return this.#macs.get(mac) ?? null;
  }

  /**
   * The subnet of a request: the relay's giaddr selects it; a direct client is on the
   * subnet that holds our own address (one provisioning interface per server). Never guess.
   */
  poolFor(giaddr: string): SubnetPool | null {
    const cached = this.#byGiaddr.get(giaddr);
    if (cached !== undefined) return cached;
    const key = parseIpv4(giaddr !== '0.0.0.0' ? giaddr : this.#serverIp);
    let found: SubnetPool | null = null;
    for (const s of this.#subnets) {
      const pool = this.#pools.get(s.id);
      if (key !== null && pool && cidrContains(pool.cidr, key)) found = pool;
    }
    if (this.#byGiaddr.size < 10_000) this.#byGiaddr.set(giaddr, found);
    return found;
  }

  /** Enlists an unknown network-booting MAC as a `new` machine; returns its id. */
  enlist(mac: string, arch: number | null, subnet: Subnet): Promise<string | null> {
    const known = this.#macs.get(mac);
    if (known) return Promise.resolve(known);
    let p = this.#enlisting.get(mac);
    if (!p) {
      p = this.#create(mac, arch, subnet).finally(() => this.#enlisting.delete(mac));
      this.#enlisting.set(mac, p);
    }
    return p;
  }

  async #create(mac: string, arch: number | null, subnet: Subnet): Promise<string | null> {
    let m: Machine | null = await this.#store.findMachineByMac(mac);
    if (!m) {
      const isArm = arch === ClientArch.EfiArm64 || arch === ClientArch.EfiArm64Http;
      try {
        m = await this.#store.createMachine(
          {
            hostname: `pxe-${mac.replace(/:/g, '')}`,
            arch: isArm ? 'arm64' : 'amd64',
            bmc: null,
            nics: [{ mac, boot: true }],
            tags: [],
            zone: 'default',
            rack: 'default',
            pool: 'default',
            state: 'new',
            stateReason: `enlisted: network-booted on subnet ${subnet.name}`,
          },
          'dhcp',
        );
        this.#log.info({ mac, machineId: m.id, subnet: subnet.name }, 'enlisted unknown machine');
      } catch (e) {
        // An operator may have added the MAC a moment ago: use that machine.
        m = await this.#store.findMachineByMac(mac);
        if (!m) {
          this.#log.warn({ err: e, mac }, 'could not enlist machine');
          return null;
        }
      }
    }
    this.#macs.set(mac, m.id);
    return m.id;
  }
}

export function subnetMask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.');
}
