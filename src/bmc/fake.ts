/**
 * An in-memory BMC for fast tests and benchmarks: `fake://NAME[?latency=MS&fail=RATE]`.
 * State lives in a process-wide map keyed by NAME, so two drivers for one address see the same
 * machine. `fail` injects retryable BMC errors at the given rate (0..1).
 */
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { PowerState } from '../core/machine.ts';
import {
  BmcCapability,
  type BmcDriver,
  type BmcInventory,
  type BootOverride,
  type PowerAction,
} from './driver.ts';
import { registerDriver } from './registry.ts';

export interface FakeBmcState {
  power: 'on' | 'off';
  boot: BootOverride | null;
  /** Every call, in order: what tests assert on. */
  calls: string[];
}

const world = new Map<string, FakeBmcState>();

export function fakeBmcState(name: string): FakeBmcState {
  let s = world.get(name);
  if (!s) {
    s = { power: 'off', boot: null, calls: [] };
    world.set(name, s);
  }
  return s;
}

export function resetFakeBmcs(): void {
  world.clear();
}

export class FakeBmc implements BmcDriver {
  readonly driver = 'fake';
  readonly target: string;
  readonly #state: FakeBmcState;
  readonly #latencyMs: number;
  readonly #failRate: number;
  readonly #rand: () => number;

  constructor(address: string, rand: () => number = Math.random) {
    const url = new URL(address);
    this.target = `fake://${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    this.#state = fakeBmcState(url.host + url.pathname);
    this.#latencyMs = Number(url.searchParams.get('latency') ?? 0);
    this.#failRate = Number(url.searchParams.get('fail') ?? 0);
    this.#rand = rand;
  }

  async #call(op: string): Promise<void> {
    if (this.#latencyMs > 0) await new Promise((r) => setTimeout(r, this.#latencyMs));
    if (this.#failRate > 0 && this.#rand() < this.#failRate) {
      throw new IngotError(ErrorCode.BmcError, `${op} on ${this.target} failed: injected fault (HTTP 500)`, {
        retryable: true,
      });
    }
    this.#state.calls.push(op);
  }

  async capabilities() {
    return new Set([BmcCapability.Power, BmcCapability.BootOverride, BmcCapability.Inventory]);
  }
  async powerState(): Promise<PowerState> {
    await this.#call('power-state');
    return this.#state.power;
  }
  async power(action: PowerAction): Promise<void> {
    await this.#call(`power:${action}`);
    this.#state.power = action === 'graceful-off' || action === 'force-off' ? 'off' : 'on';
  }
  async setBootDevice(boot: BootOverride): Promise<void> {
    await this.#call(`boot:${boot.device}${boot.persistent ? ':persistent' : ''}`);
    this.#state.boot = boot;
  }
  async insertVirtualMedia(): Promise<void> {
    throw this.#unsupported('virtual media insert');
  }
  async ejectVirtualMedia(): Promise<void> {
    throw this.#unsupported('virtual media eject');
  }
  async inventory(): Promise<BmcInventory> {
    await this.#call('inventory');
    return { manufacturer: 'Ingot', model: 'Fake', serial: this.target };
  }
  async sensors(): Promise<never> {
    throw this.#unsupported('sensors');
  }
  async eventLog(): Promise<never> {
    throw this.#unsupported('event log');
  }
  async firmware(): Promise<never> {
    throw this.#unsupported('firmware inventory');
  }
  async close(): Promise<void> {}

  #unsupported(op: string): IngotError {
    return new IngotError(ErrorCode.BmcUnsupported, `${op} is not supported by ${this.target}`, {
      details: { operation: op, bmc: this.target },
    });
  }
}

registerDriver(['fake'], (creds) => new FakeBmc(creds.address));
