/**
 * The Redfish BmcDriver. It finds its system (from the address, or the only one the BMC has),
 * probes capabilities once, and chooses reset types and boot targets from what the BMC says it
 * allows, so an operation the BMC lacks fails with INGOT_BMC_UNSUPPORTED instead of a 400.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PowerState } from '../../core/machine.ts';
import {
  BmcCapability,
  type BmcDriver,
  type BmcInventory,
  type BootOverride,
  type FirmwareItem,
  type PowerAction,
  type SelEntry,
  type SensorReport,
} from '../driver.ts';
import { bmcError, bmcUnsupported } from '../errors.ts';
import type { DriverOptions } from '../registry.ts';
import type { BmcCredentials } from '../driver.ts';
import { type Json, RedfishClient, type RedfishResponse } from './client.ts';
import { parseRedfishAddress } from './address.ts';
import { BootTarget, powerStateOf, resetPlan } from './mapping.ts';
import { readEventLog, readFirmware, readInventory, readSensors } from './readers.ts';
import { createDispatcher } from '../../tls/pinned-dispatcher.ts';
import { findVirtualMedia, insertMedia, ejectMedia } from './virtual-media.ts';

const link = (v: unknown): string | undefined => (v as Json | undefined)?.['@odata.id'];

export interface RedfishDriverOptions extends DriverOptions {
  /** Retries on 5xx and network errors. @default 3 */
  readonly retries?: number;
  /** First retry delay. @default 200 ms */
  readonly backoffMs?: number;
  /** How long a fallback power cycle waits for the machine to report off. @default 30 s */
  readonly powerOffWaitMs?: number;
}

export class RedfishDriver implements BmcDriver {
  readonly driver = 'redfish';
  readonly target: string;
  private readonly client: RedfishClient;
  private readonly configuredSystem: string | null;
  private readonly powerOffWaitMs: number;
  private systemPath: Promise<string> | null = null;
  private caps: Promise<ReadonlySet<BmcCapability>> | null = null;
  private mediaPath: Promise<string | null> | null = null;

  constructor(creds: BmcCredentials, options: RedfishDriverOptions = {}) {
    const addr = parseRedfishAddress(creds.address);
    this.target = addr.target;
    this.configuredSystem = addr.systemPath;
    this.powerOffWaitMs = options.powerOffWaitMs ?? 30_000;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const dispatcher = createDispatcher({
      fingerprint: options.tlsFingerprint ?? addr.fingerprint,
      insecure: options.insecure ?? addr.insecure,
      timeoutMs,
    });
    this.client = new RedfishClient({
      origin: addr.origin,
      target: addr.target,
      username: creds.username,
      password: creds.password,
      dispatcher,
      retries: options.retries,
      backoffMs: options.backoffMs,
    });
  }

  capabilities(): Promise<ReadonlySet<BmcCapability>> {
    this.caps ??= this.probe().catch((e) => {
      this.caps = null;
      throw e;
    });
    return this.caps;
  }

  async powerState(): Promise<PowerState> {
    return powerStateOf((await this.system('read power state')).body.PowerState);
  }

  async power(action: PowerAction): Promise<void> {
    const op = `power ${action}`;
    const { body } = await this.system(op);
    const reset = body.Actions?.['#ComputerSystem.Reset'];
    if (!reset?.target) throw bmcUnsupported(this.ctx(op), 'the system has no ComputerSystem.Reset action');
    const allowed = await this.allowedResetTypes(reset, op);
    const plan = resetPlan(action, powerStateOf(body.PowerState) !== 'off', allowed);
    if (plan === null)
      throw bmcUnsupported(
        this.ctx(op),
        `no suitable ResetType among the allowed ${JSON.stringify(allowed)}`,
        { allowed },
      );
    for (const [i, type] of plan.entries()) {
      if (i > 0) await this.waitForOff(op);
      await this.client.post(reset.target, { ResetType: type }, `${op} (ResetType ${type})`);
    }
  }

  async setBootDevice(boot: BootOverride): Promise<void> {
    const op = `set boot device ${boot.device}${boot.persistent ? ' (persistent)' : ''}${boot.mode ? ` in ${boot.mode} mode` : ''}`;
    const { body, etag, path } = await this.system(op);
    const b = body.Boot ?? {};
    if (!('BootSourceOverrideTarget' in b))
      throw bmcUnsupported(this.ctx(op), 'the system has no Boot.BootSourceOverrideTarget');
    const target = BootTarget[boot.device];
    const allowedTargets: string[] | undefined = b['BootSourceOverrideTarget@Redfish.AllowableValues'];
    if (allowedTargets && !allowedTargets.includes(target)) {
      throw bmcUnsupported(
        this.ctx(op),
        `boot target ${target} is not among the allowed ${allowedTargets.join(', ')}`,
        { allowed: allowedTargets },
      );
    }
    const enabled = boot.persistent ? 'Continuous' : 'Once';
    const allowedEnabled: string[] | undefined = b['BootSourceOverrideEnabled@Redfish.AllowableValues'];
    if (allowedEnabled && !allowedEnabled.includes(enabled))
      throw bmcUnsupported(this.ctx(op), `BootSourceOverrideEnabled ${enabled} is not allowed`);
    const patch: Json = { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: enabled };
    if (boot.mode) {
      const mode = boot.mode === 'uefi' ? 'UEFI' : 'Legacy';
      const allowedModes: string[] | undefined = b['BootSourceOverrideMode@Redfish.AllowableValues'];
      if (!('BootSourceOverrideMode' in b) || (allowedModes && !allowedModes.includes(mode))) {
        throw bmcUnsupported(this.ctx(op), `boot mode ${mode} cannot be set on this system`);
      }
      if (b.BootSourceOverrideMode !== mode) patch.BootSourceOverrideMode = mode;
    }
    await this.client.patch(path, { Boot: patch }, op, etag);
  }

  async insertVirtualMedia(imageUrl: string): Promise<void> {
    const op = 'insert virtual media';
    await insertMedia(this.client, await this.requireMedia(op), imageUrl, op);
  }

  async ejectVirtualMedia(): Promise<void> {
    const op = 'eject virtual media';
    await ejectMedia(this.client, await this.requireMedia(op), op);
  }

  async inventory(): Promise<BmcInventory> {
    const op = 'read inventory';
    return readInventory(this.client, (await this.system(op)).body, op);
  }

  async sensors(): Promise<SensorReport> {
    const op = 'read sensors';
    const { body } = await this.system(op);
    const chassisPath =
      link(body.Links?.Chassis?.[0]) ?? link((await this.client.members('/redfish/v1/Chassis', op))[0]);
    if (!chassisPath) throw bmcUnsupported(this.ctx(op), 'the system links no chassis');
    return readSensors(this.client, body, (await this.client.get(chassisPath, op)).body, op);
  }

  async eventLog(): Promise<readonly SelEntry[]> {
    const op = 'read event log';
    const { body } = await this.system(op);
    if (!link(body.LogServices)) throw bmcUnsupported(this.ctx(op), 'the system has no LogServices');
    return readEventLog(this.client, body, op);
  }

  async firmware(): Promise<readonly FirmwareItem[]> {
    const op = 'read firmware inventory';
    const root = await this.client.serviceRoot(op);
    if (!link(root.UpdateService)) throw bmcUnsupported(this.ctx(op), 'the service has no UpdateService');
    return readFirmware(this.client, root, op);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private ctx(operation: string) {
    return { operation, target: this.target };
  }

  /** The system resource, discovering its path the first time. */
  private async system(op: string): Promise<RedfishResponse & { path: string }> {
    this.systemPath ??= this.discover(op).catch((e) => {
      this.systemPath = null;
      throw e;
    });
    const path = await this.systemPath;
    return { ...(await this.client.get(path, op)), path };
  }

  private async discover(op: string): Promise<string> {
    if (this.configuredSystem) return this.configuredSystem;
    const root = await this.client.serviceRoot(op);
    const members = await this.client.members(link(root.Systems) ?? '/redfish/v1/Systems', op);
    if (members.length === 1) return link(members[0])!;
    const ids = members.map((m) => link(m)).join(', ');
    throw bmcError(
      this.ctx(op),
      members.length === 0
        ? 'the BMC lists no systems'
        : `the BMC has ${members.length} systems (${ids.slice(0, 200)}); name one in the address, e.g. ${this.target}/redfish/v1/Systems/ID`,
    );
  }

  /** ResetType values from the annotation or the action's ActionInfo; null if the BMC does not say. */
  private async allowedResetTypes(reset: Json, op: string): Promise<string[] | null> {
    if (Array.isArray(reset['ResetType@Redfish.AllowableValues']))
      return reset['ResetType@Redfish.AllowableValues'];
    const info = reset['@Redfish.ActionInfo'];
    if (typeof info !== 'string') return null;
    const params: Json[] = (await this.client.get(info, op)).body.Parameters ?? [];
    const p = params.find((x) => x.Name === 'ResetType');
    return Array.isArray(p?.AllowableValues) ? p.AllowableValues : null;
  }

  private async waitForOff(op: string): Promise<void> {
    const deadline = Date.now() + this.powerOffWaitMs;
    while (Date.now() < deadline) {
      if (powerStateOf((await this.system(op)).body.PowerState) === 'off') return;
      await sleep(500);
    }
    throw bmcError(
      this.ctx(op),
      `the system did not report Off within ${this.powerOffWaitMs} ms after ForceOff`,
      { retryable: true },
    );
  }

  private async requireMedia(op: string): Promise<string> {
    this.mediaPath ??= this.system(op).then(({ body }) => findVirtualMedia(this.client, body, op));
    const path = await this.mediaPath.catch((e) => {
      this.mediaPath = null;
      throw e;
    });
    if (!path) throw bmcUnsupported(this.ctx(op), 'no virtual CD/DVD found under the managers or the system');
    return path;
  }

  private async probe(): Promise<ReadonlySet<BmcCapability>> {
    const op = 'probe capabilities';
    const { body } = await this.system(op);
    const root = await this.client.serviceRoot(op);
    const caps = new Set<BmcCapability>([BmcCapability.Inventory]);
    if (body.Actions?.['#ComputerSystem.Reset']) caps.add(BmcCapability.Power);
    const boot = body.Boot ?? {};
    if ('BootSourceOverrideTarget' in boot) {
      caps.add(BmcCapability.BootOverride);
      const allowed: string[] | undefined = boot['BootSourceOverrideTarget@Redfish.AllowableValues'];
      if (allowed?.includes('UefiHttp')) caps.add(BmcCapability.UefiHttpBoot);
    }
    if (link(body.Links?.Chassis?.[0])) caps.add(BmcCapability.Sensors);
    if (link(body.LogServices)) caps.add(BmcCapability.EventLog);
    if (link(root.UpdateService)) caps.add(BmcCapability.Firmware);
    if (
      await this.requireMedia(op).then(
        () => true,
        () => false,
      )
    )
      caps.add(BmcCapability.VirtualMedia);
    return caps;
  }
}
