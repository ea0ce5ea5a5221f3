/**
 * Renders the virtual BMC's Redfish resources as JSON. Each system gets a chassis and a
 * manager with the same id. Shapes follow the DMTF schemas that sushy and redfishtool read.
 */
import { EmulatedBootTargets } from './power-target.ts';
import { BootModeValues, ResetTypes, type EmulatedSystem } from './system.ts';

export const R = '/redfish/v1';
type Json = Record<string, unknown>;
const ref = (path: string): Json => ({ '@odata.id': path });

export function serviceRoot(uuid: string): Json {
  return {
    '@odata.type': '#ServiceRoot.v1_11_0.ServiceRoot',
    '@odata.id': `${R}/`,
    Id: 'RootService',
    Name: 'Ingot virtual BMC',
    RedfishVersion: '1.11.0',
    UUID: uuid,
    Systems: ref(`${R}/Systems`),
    Chassis: ref(`${R}/Chassis`),
    Managers: ref(`${R}/Managers`),
    SessionService: ref(`${R}/SessionService`),
    UpdateService: ref(`${R}/UpdateService`),
    Links: { Sessions: ref(`${R}/SessionService/Sessions`) },
  };
}

/** A collection page; `Members@odata.nextLink` points at the next page when there is one. */
export function collection(type: string, path: string, members: readonly unknown[], skip = 0, top = 0): Json {
  const page = top > 0 ? members.slice(skip, skip + top) : members;
  const body: Json = {
    '@odata.type': `#${type}.${type}`,
    '@odata.id': path,
    Name: type.replace(/Collection$/, ' Collection'),
    'Members@odata.count': members.length,
    Members: page.map((m) => (typeof m === 'string' ? ref(m) : m)),
  };
  if (top > 0 && skip + top < members.length) body['Members@odata.nextLink'] = `${path}?$skip=${skip + top}`;
  return body;
}

/** The system's HealthRollup: Critical while a hardware fault is set (system.ts `hardware`). */
function rollup(s: EmulatedSystem, on: boolean): string {
  const hw = s.hardware;
  return hw.fanFailed || hw.psuFailed || (on && hw.cpuCelsius >= 95) ? 'Critical' : 'OK';
}

export function system(s: EmulatedSystem, on: boolean): Json {
  const p = `${R}/Systems/${s.id}`;
  return {
    '@odata.type': '#ComputerSystem.v1_13_0.ComputerSystem',
    '@odata.id': p,
    '@odata.etag': s.etag,
    Id: s.id,
    Name: `Virtual server ${s.id}`,
    SystemType: 'Physical',
    Manufacturer: 'Ingot',
    Model: 'Virtual BMC server',
    SerialNumber: s.serial,
    UUID: s.uuid,
    PowerState: on ? 'On' : 'Off',
    BiosVersion: 'VBIOS 1.0.0',
    Status: { State: 'Enabled', Health: 'OK', HealthRollup: rollup(s, on) },
    Boot: {
      BootSourceOverrideTarget: s.boot.target,
      BootSourceOverrideEnabled: s.boot.enabled,
      BootSourceOverrideMode: s.boot.mode,
      'BootSourceOverrideTarget@Redfish.AllowableValues': [...EmulatedBootTargets],
      'BootSourceOverrideMode@Redfish.AllowableValues': [...BootModeValues],
    },
    ProcessorSummary: { Count: 2, Model: 'Virtual CPU', CoreCount: 8, LogicalProcessorCount: 16 },
    MemorySummary: { TotalSystemMemoryGiB: 64 },
    EthernetInterfaces: ref(`${p}/EthernetInterfaces`),
    Storage: ref(`${p}/Storage`),
    LogServices: ref(`${p}/LogServices`),
    Links: { Chassis: [ref(`${R}/Chassis/${s.id}`)], ManagedBy: [ref(`${R}/Managers/${s.id}`)] },
    Actions: {
      '#ComputerSystem.Reset': {
        target: `${p}/Actions/ComputerSystem.Reset`,
        'ResetType@Redfish.AllowableValues': [...ResetTypes],
      },
    },
  };
}

export function nic(s: EmulatedSystem, i: number): Json {
  return {
    '@odata.type': '#EthernetInterface.v1_6_0.EthernetInterface',
    '@odata.id': `${R}/Systems/${s.id}/EthernetInterfaces/nic${i}`,
    Id: `nic${i}`,
    Name: `NIC ${i}`,
    MACAddress: s.macs[i],
    PermanentMACAddress: s.macs[i],
    SpeedMbps: 10000,
    Status: { State: 'Enabled', Health: 'OK' },
  };
}

export function storage(s: EmulatedSystem): Json {
  const p = `${R}/Systems/${s.id}/Storage/1`;
  return {
    '@odata.type': '#Storage.v1_9_0.Storage',
    '@odata.id': p,
    Id: '1',
    Name: 'Storage controller',
    Drives: [ref(`${p}/Drives/0`)],
  };
}

export function drive(s: EmulatedSystem): Json {
  return {
    '@odata.type': '#Drive.v1_9_0.Drive',
    '@odata.id': `${R}/Systems/${s.id}/Storage/1/Drives/0`,
    Id: '0',
    Name: 'Disk 0',
    CapacityBytes: 480_103_981_056,
    Model: 'Virtual SSD',
    SerialNumber: `${s.serial}-D0`,
    Status: { State: 'Enabled', Health: 'OK' },
  };
}

export function logService(s: EmulatedSystem): Json {
  const p = `${R}/Systems/${s.id}/LogServices/SEL`;
  return {
    '@odata.type': '#LogService.v1_1_0.LogService',
    '@odata.id': p,
    Id: 'SEL',
    Name: 'System event log',
    Entries: ref(`${p}/Entries`),
  };
}

export function logEntries(s: EmulatedSystem): Json {
  const p = `${R}/Systems/${s.id}/LogServices/SEL/Entries`;
  const entries = s.log.map((e) => ({
    '@odata.type': '#LogEntry.v1_4_0.LogEntry',
    '@odata.id': `${p}/${e.id}`,
    Id: e.id,
    Name: `Log entry ${e.id}`,
    EntryType: 'SEL',
    Severity: e.severity,
    Created: e.created,
    Message: e.message,
  }));
  return collection('LogEntryCollection', p, entries);
}

export function manager(s: EmulatedSystem): Json {
  const p = `${R}/Managers/${s.id}`;
  return {
    '@odata.type': '#Manager.v1_10_0.Manager',
    '@odata.id': p,
    Id: s.id,
    Name: `BMC of ${s.id}`,
    ManagerType: 'BMC',
    FirmwareVersion: 'ingot-vbmc 1.0',
    Status: { State: 'Enabled', Health: 'OK' },
    VirtualMedia: ref(`${p}/VirtualMedia`),
    Links: {
      ManagerForServers: [ref(`${R}/Systems/${s.id}`)],
      ManagerForChassis: [ref(`${R}/Chassis/${s.id}`)],
    },
  };
}

export function virtualMedia(s: EmulatedSystem): Json {
  const p = `${R}/Managers/${s.id}/VirtualMedia/Cd`;
  return {
    '@odata.type': '#VirtualMedia.v1_3_0.VirtualMedia',
    '@odata.id': p,
    '@odata.etag': s.etag,
    Id: 'Cd',
    Name: 'Virtual CD',
    MediaTypes: ['CD', 'DVD'],
    Image: s.media.image,
    ImageName: s.media.image ? s.media.image.split('/').pop() : null,
    Inserted: s.media.inserted,
    WriteProtected: true,
    ConnectedVia: s.media.inserted ? 'URI' : 'NotConnected',
    Actions: {
      '#VirtualMedia.InsertMedia': { target: `${p}/Actions/VirtualMedia.InsertMedia` },
      '#VirtualMedia.EjectMedia': { target: `${p}/Actions/VirtualMedia.EjectMedia` },
    },
  };
}

export function chassis(s: EmulatedSystem): Json {
  const p = `${R}/Chassis/${s.id}`;
  return {
    '@odata.type': '#Chassis.v1_10_0.Chassis',
    '@odata.id': p,
    Id: s.id,
    Name: `Chassis of ${s.id}`,
    ChassisType: 'RackMount',
    Status: { State: 'Enabled', Health: 'OK' },
    Thermal: ref(`${p}/Thermal`),
    Power: ref(`${p}/Power`),
    Links: { ComputerSystems: [ref(`${R}/Systems/${s.id}`)], ManagedBy: [ref(`${R}/Managers/${s.id}`)] },
  };
}

const bad = { State: 'Enabled', Health: 'Critical' };

export function thermal(s: EmulatedSystem, on: boolean): Json {
  const ok = { State: 'Enabled', Health: 'OK' };
  const hw = s.hardware;
  return {
    '@odata.type': '#Thermal.v1_6_0.Thermal',
    '@odata.id': `${R}/Chassis/${s.id}/Thermal`,
    Id: 'Thermal',
    Name: 'Thermal',
    Temperatures: [
      {
        MemberId: '0',
        Name: 'CPU temperature',
        ReadingCelsius: on ? hw.cpuCelsius : 24,
        UpperThresholdCritical: 95,
        Status: on && hw.cpuCelsius >= 95 ? bad : ok,
      },
      { MemberId: '1', Name: 'Inlet temperature', ReadingCelsius: 22, Status: ok },
    ],
    Fans: [
      {
        MemberId: '0',
        Name: 'Fan 1',
        Reading: on && !hw.fanFailed ? 5400 : 0,
        ReadingUnits: 'RPM',
        Status: hw.fanFailed ? bad : ok,
      },
      { MemberId: '1', Name: 'Fan 2', Reading: on ? 5300 : 0, ReadingUnits: 'RPM', Status: ok },
    ],
  };
}

export function power(s: EmulatedSystem, on: boolean): Json {
  return {
    '@odata.type': '#Power.v1_6_0.Power',
    '@odata.id': `${R}/Chassis/${s.id}/Power`,
    Id: 'Power',
    Name: 'Power',
    PowerControl: [{ MemberId: '0', Name: 'System input power', PowerConsumedWatts: on ? 185 : 9 }],
    PowerSupplies: [0, 1].map((i) => {
      const lost = i === 1 && s.hardware.psuFailed;
      return {
        MemberId: String(i),
        Name: `Power Supply ${i + 1}`,
        PowerInputWatts: lost ? 0 : on ? 92.5 : 4.5,
        Status: lost ? bad : { State: 'Enabled', Health: 'OK' },
      };
    }),
    Voltages: [
      { MemberId: '0', Name: '12V rail', ReadingVolts: 12.05, Status: { State: 'Enabled', Health: 'OK' } },
    ],
  };
}

export function firmware(id: 'BMC' | 'BIOS'): Json {
  return {
    '@odata.type': '#SoftwareInventory.v1_2_0.SoftwareInventory',
    '@odata.id': `${R}/UpdateService/FirmwareInventory/${id}`,
    Id: id,
    Name: id === 'BMC' ? 'BMC firmware' : 'BIOS',
    Version: id === 'BMC' ? 'ingot-vbmc 1.0' : 'VBIOS 1.0.0',
    Updateable: false,
  };
}

/** A Redfish error body with `@Message.ExtendedInfo`, as DSP0266 §9.6 describes. */
export function redfishError(
  messageId: string,
  message: string,
  resolution: string,
  args: string[] = [],
): Json {
  return {
    error: {
      code: `Base.1.8.${messageId}`,
      message,
      '@Message.ExtendedInfo': [
        {
          '@odata.type': '#Message.v1_1_1.Message',
          MessageId: `Base.1.8.${messageId}`,
          Message: message,
          MessageArgs: args,
          MessageSeverity: 'Warning',
          Severity: 'Warning',
          Resolution: resolution,
        },
      ],
    },
  };
}
