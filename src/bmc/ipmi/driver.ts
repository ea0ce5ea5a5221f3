/**
 * The IPMI BmcDriver, over ipmitool lanplus. IPMI has no virtual media and no UEFI HTTP boot;
 * those fail with INGOT_BMC_UNSUPPORTED. Capabilities come from `mc info` (which also proves
 * the BMC answers and the credentials work); chassis control is assumed, as every IPMI 2.0 BMC
 * that can be powered remotely implements it, even those (pyghmi) that do not list it.
 */
import type { PowerState } from '../../core/machine.ts';
import {
  BmcCapability,
  type BmcCredentials,
  type BmcDriver,
  type BmcInventory,
  type BootOverride,
  type FirmwareItem,
  PowerAction,
  type SelEntry,
  type SensorReport,
} from '../driver.ts';
import { bmcUnsupported } from '../errors.ts';
import type { DriverOptions } from '../registry.ts';
import { parseCipherSuite, parseIpmiAddress } from './address.ts';
import {
  type McInfo,
  mcFirmware,
  parseFru,
  parseGuid,
  parseMcInfo,
  parsePowerStatus,
  parseSdr,
  parseSel,
} from './parse.ts';
import { IpmitoolRunner } from './runner.ts';

const BOOTDEV: Record<BootOverride['device'], string | null> = {
  network: 'pxe',
  disk: 'disk',
  cd: 'cdrom',
  'bios-setup': 'bios',
  'uefi-http': null,
};

export interface IpmiDriverOptions extends DriverOptions {
  /** Path of ipmitool. @default ipmitool from PATH */
  readonly ipmitool?: string;
}

export class IpmiDriver implements BmcDriver {
  readonly driver = 'ipmi';
  readonly target: string;
  readonly cipherSuite: number;
  private readonly runner: IpmitoolRunner;
  private info: Promise<McInfo> | null = null;
  private caps: Promise<ReadonlySet<BmcCapability>> | null = null;

  constructor(creds: BmcCredentials, options: IpmiDriverOptions = {}) {
    const addr = parseIpmiAddress(creds.address);
    this.target = addr.target;
    this.cipherSuite =
      addr.cipherSuite ??
      (options.cipherSuite === undefined ? 17 : parseCipherSuite(options.cipherSuite, 'bmc.cipherSuite'));
    this.runner = new IpmitoolRunner({
      host: addr.host,
      port: addr.port,
      username: creds.username,
      password: creds.password,
      cipherSuite: this.cipherSuite,
      privilege: addr.privilege,
      timeoutMs: options.timeoutMs,
      target: this.target,
      binary: options.ipmitool,
    });
  }

  capabilities(): Promise<ReadonlySet<BmcCapability>> {
    this.caps ??= this.mcInfo('probe capabilities').then(
      (info) => {
        const caps = new Set<BmcCapability>([
          BmcCapability.Power,
          BmcCapability.BootOverride,
          BmcCapability.Inventory,
          BmcCapability.Firmware,
        ]);
        if (info.devices.some((d) => /Sensor Device|SDR Repository/i.test(d)))
          caps.add(BmcCapability.Sensors);
        if (info.devices.some((d) => /SEL Device/i.test(d))) caps.add(BmcCapability.EventLog);
        return caps;
      },
      (e) => {
        this.caps = null;
        throw e;
      },
    );
    return this.caps;
  }

  async powerState(): Promise<PowerState> {
    return parsePowerStatus(await this.runner.run(['chassis', 'power', 'status'], 'read power state'));
  }

  async power(action: PowerAction): Promise<void> {
    const op = `power ${action}`;
    let verb: string;
    switch (action) {
      case PowerAction.On:
        verb = 'on';
        break;
      case PowerAction.ForceOff:
        verb = 'off';
        break;
      case PowerAction.GracefulOff:
        verb = 'soft';
        break;
      case PowerAction.Cycle:
      case PowerAction.Reset:
        // IPMI refuses cycle/reset of a machine that is off ("not supported in present state").
        verb = (await this.powerState()) === 'off' ? 'on' : action === PowerAction.Cycle ? 'cycle' : 'reset';
        break;
    }
    await this.runner.run(['chassis', 'power', verb], op);
  }

  async setBootDevice(boot: BootOverride): Promise<void> {
    const op = `set boot device ${boot.device}${boot.persistent ? ' (persistent)' : ''}${boot.mode ? ` in ${boot.mode} mode` : ''}`;
    const dev = BOOTDEV[boot.device];
    if (!dev)
      throw bmcUnsupported(
        { operation: op, target: this.target },
        'IPMI has no UEFI HTTP boot device; use network (PXE) or a Redfish BMC',
      );
    // IPMI boot flags always carry a mode: without efiboot the BMC boots legacy (BIOS).
    const options = [boot.mode === 'uefi' ? 'efiboot' : null, boot.persistent ? 'persistent' : null].filter(
      Boolean,
    );
    await this.runner.run(
      ['chassis', 'bootdev', dev, ...(options.length ? [`options=${options.join(',')}`] : [])],
      op,
    );
  }

  async insertVirtualMedia(): Promise<void> {
    throw bmcUnsupported(
      { operation: 'insert virtual media', target: this.target },
      'IPMI has no virtual media; use a Redfish address for this BMC',
    );
  }

  async ejectVirtualMedia(): Promise<void> {
    throw bmcUnsupported(
      { operation: 'eject virtual media', target: this.target },
      'IPMI has no virtual media; use a Redfish address for this BMC',
    );
  }

  async inventory(): Promise<BmcInventory> {
    const op = 'read inventory';
    const info = await this.mcInfo(op);
    const guid = parseGuid(await this.runner.run(['mc', 'guid'], op).catch(() => ''));
    // FRU data is optional in IPMI; many BMCs (and ipmi_sim) have none.
    const fru = info.devices.some((d) => /FRU/i.test(d))
      ? parseFru(await this.runner.run(['fru', 'print', '0'], op).catch(() => ''))
      : {};
    return {
      manufacturer: fru.manufacturer ?? info.manufacturer ?? undefined,
      model: fru.model ?? info.product ?? undefined,
      serial: fru.serial,
      uuid: guid ?? undefined,
    };
  }

  async sensors(): Promise<SensorReport> {
    const op = 'read sensors';
    if (!(await this.capabilities()).has(BmcCapability.Sensors))
      throw bmcUnsupported(
        { operation: op, target: this.target },
        'the BMC reports no sensor device or SDR repository',
      );
    return parseSdr(await this.runner.run(['sdr', 'elist', 'full'], op));
  }

  async eventLog(): Promise<readonly SelEntry[]> {
    const op = 'read event log';
    if (!(await this.capabilities()).has(BmcCapability.EventLog))
      throw bmcUnsupported({ operation: op, target: this.target }, 'the BMC reports no SEL device');
    return parseSel(await this.runner.run(['-Z', 'sel', 'elist'], op));
  }

  async firmware(): Promise<readonly FirmwareItem[]> {
    return mcFirmware(await this.mcInfo('read firmware inventory'));
  }

  async close(): Promise<void> {
    // ipmitool sessions end with each process; nothing stays open.
  }

  private mcInfo(op: string): Promise<McInfo> {
    this.info ??= this.runner.run(['mc', 'info'], op).then(parseMcInfo, (e) => {
      this.info = null;
      throw e;
    });
    return this.info;
  }
}
