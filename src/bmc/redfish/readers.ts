/**
 * Read-only views of a Redfish system: inventory, sensors, the event log and firmware. Each
 * reader takes the system resource already fetched and follows links from it, tolerating the
 * optional parts a BMC leaves out.
 */
import type { BmcInventory, FirmwareItem, SelEntry, SensorReading, SensorReport } from '../driver.ts';
import { type Json, type RedfishClient, statusOf } from './client.ts';
import { healthOf, normalizeMac, sensorKindOf, worst } from './mapping.ts';

const link = (v: unknown): string | undefined => (v as Json | undefined)?.['@odata.id'];

/** Fetches many resources with a small concurrency limit (BMCs are slow and easily overrun). */
export async function fetchAll(
  client: RedfishClient,
  paths: readonly string[],
  op: string,
  limit = 6,
): Promise<Json[]> {
  const out: Json[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      out[i] = (await client.get(paths[i], op)).body;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, paths.length) }, worker));
  return out;
}

/** Members of a collection, fetching each unless the collection already inlines it. */
async function expand(client: RedfishClient, path: string | undefined, op: string): Promise<Json[]> {
  if (!path) return [];
  const members = await client.members(path, op);
  const missing = members.filter((m) => Object.keys(m).length <= 1).map((m) => link(m)!);
  const fetched = new Map((await fetchAll(client, missing, op)).map((b, i) => [missing[i], b]));
  return members.map((m) => fetched.get(link(m)!) ?? m);
}

/** Like expand, but a missing collection (404) reads as empty. */
async function optional(client: RedfishClient, path: string | undefined, op: string): Promise<Json[]> {
  try {
    return await expand(client, path, op);
  } catch (e) {
    if (statusOf(e) === 404) return [];
    throw e;
  }
}

export async function readInventory(client: RedfishClient, sys: Json, op: string): Promise<BmcInventory> {
  const ps = sys.ProcessorSummary ?? {};
  const gib = sys.MemorySummary?.TotalSystemMemoryGiB;
  const [nics, drives] = await Promise.all([readNics(client, sys, op), readDrives(client, sys, op)]);
  return {
    manufacturer: sys.Manufacturer ?? undefined,
    model: sys.Model ?? undefined,
    serial: sys.SerialNumber ?? undefined,
    uuid: sys.UUID ? String(sys.UUID).toLowerCase() : undefined,
    biosVersion: sys.BiosVersion ?? undefined,
    cpus: {
      model: ps.Model ?? undefined,
      count: ps.Count ?? undefined,
      cores: ps.CoreCount ?? undefined,
      threads: ps.LogicalProcessorCount ?? undefined,
    },
    memoryBytes: typeof gib === 'number' ? Math.round(gib * 2 ** 30) : undefined,
    drives,
    nics,
  };
}

async function readNics(client: RedfishClient, sys: Json, op: string): Promise<BmcInventory['nics']> {
  const seen = new Set<string>();
  const out: { name?: string; mac: string; speedMbps?: number }[] = [];
  for (const n of await optional(client, link(sys.EthernetInterfaces), op)) {
    // PermanentMACAddress is the burned-in one, which is what DHCP sees unless overridden.
    const mac = normalizeMac(n.MACAddress) ?? normalizeMac(n.PermanentMACAddress);
    if (!mac || seen.has(mac)) continue;
    seen.add(mac);
    out.push({ name: n.Id ?? n.Name, mac, speedMbps: n.SpeedMbps ?? undefined });
  }
  return out;
}

async function readDrives(client: RedfishClient, sys: Json, op: string): Promise<BmcInventory['drives']> {
  const out: { name: string; sizeBytes?: number; model?: string; serial?: string }[] = [];
  for (const st of await optional(client, link(sys.Storage), op)) {
    const paths = ((st.Drives as Json[] | undefined) ?? []).map((d) => link(d)!).filter(Boolean);
    for (const d of await fetchAll(client, paths, op)) {
      out.push({
        name: d.Name ?? d.Id,
        sizeBytes: d.CapacityBytes ?? undefined,
        model: d.Model ?? undefined,
        serial: d.SerialNumber ?? undefined,
      });
    }
  }
  if (out.length > 0) return out;
  // Older BMCs (and the DMTF rackmount mockup) only have SimpleStorage.
  for (const st of await optional(client, link(sys.SimpleStorage), op)) {
    for (const d of (st.Devices as Json[] | undefined) ?? []) {
      if (d.Status?.State === 'Absent') continue;
      out.push({ name: d.Name, sizeBytes: d.CapacityBytes ?? undefined, model: d.Model ?? undefined });
    }
  }
  return out;
}

/** Sensors from the chassis: the Sensors collection, else ThermalSubsystem/PowerSubsystem, else Thermal/Power. */
export async function readSensors(
  client: RedfishClient,
  sys: Json,
  chassis: Json,
  op: string,
): Promise<SensorReport> {
  const readings: SensorReading[] = [];
  if (link(chassis.Sensors)) {
    for (const s of await expand(client, link(chassis.Sensors), op)) {
      if (s.Status?.State === 'Absent') continue;
      const name = s.Name ?? s.Id;
      readings.push({
        name,
        kind: sensorKindOf(s.ReadingType, s.ReadingUnits, name),
        value: s.Reading ?? null,
        unit: s.ReadingUnits ?? '',
        health: healthOf(s.Status?.Health),
      });
    }
  } else if (link(chassis.ThermalSubsystem) || link(chassis.PowerSubsystem)) {
    readings.push(...(await readSubsystems(client, chassis, op)));
  } else {
    readings.push(...(await readLegacy(client, chassis, op)));
  }
  const health = worst(
    healthOf(sys.Status?.HealthRollup ?? sys.Status?.Health),
    healthOf(chassis.Status?.HealthRollup ?? chassis.Status?.Health),
  );
  return { health, readings };
}

async function readSubsystems(client: RedfishClient, chassis: Json, op: string): Promise<SensorReading[]> {
  const out: SensorReading[] = [];
  const thermalPath = link(chassis.ThermalSubsystem);
  if (thermalPath) {
    const thermal = (await client.get(thermalPath, op)).body;
    const metricsPath = link(thermal.ThermalMetrics);
    if (metricsPath) {
      const m = (await client.get(metricsPath, op)).body;
      for (const t of (m.TemperatureReadingsCelsius as Json[] | undefined) ?? []) {
        out.push({
          name: t.DeviceName ?? t.DataSourceUri ?? 'temperature',
          kind: 'temperature',
          value: t.Reading ?? null,
          unit: 'Cel',
        });
      }
    }
    for (const f of await optional(client, link(thermal.Fans), op)) {
      if (f.Status?.State === 'Absent') continue;
      out.push({
        name: f.Name ?? f.Id,
        kind: 'fan',
        value: f.SpeedPercent?.Reading ?? null,
        unit: '%',
        health: healthOf(f.Status?.Health),
      });
    }
  }
  const powerPath = link(chassis.PowerSubsystem);
  if (powerPath) {
    const power = (await client.get(powerPath, op)).body;
    for (const psu of await optional(client, link(power.PowerSupplies), op)) {
      if (psu.Status?.State === 'Absent') continue;
      const metricsPath = link(psu.Metrics);
      const watts = metricsPath
        ? (await client.get(metricsPath, op)).body.InputPowerWatts?.Reading
        : undefined;
      out.push({
        name: psu.Name ?? psu.Id,
        kind: 'power',
        value: watts ?? null,
        unit: 'W',
        health: healthOf(psu.Status?.Health),
      });
    }
  }
  return out;
}

async function readLegacy(client: RedfishClient, chassis: Json, op: string): Promise<SensorReading[]> {
  const out: SensorReading[] = [];
  const [thermal, power] = await Promise.all(
    [link(chassis.Thermal), link(chassis.Power)].map((p) =>
      p ? client.get(p, op).then((r) => r.body) : Promise.resolve({} as Json),
    ),
  );
  for (const t of (thermal.Temperatures as Json[] | undefined) ?? []) {
    out.push({
      name: t.Name,
      kind: 'temperature',
      value: t.ReadingCelsius ?? null,
      unit: 'Cel',
      health: healthOf(t.Status?.Health),
    });
  }
  for (const f of (thermal.Fans as Json[] | undefined) ?? []) {
    out.push({
      name: f.Name ?? f.FanName,
      kind: 'fan',
      value: f.Reading ?? null,
      unit: f.ReadingUnits ?? 'RPM',
      health: healthOf(f.Status?.Health),
    });
  }
  for (const p of (power.PowerControl as Json[] | undefined) ?? []) {
    out.push({ name: p.Name ?? 'power', kind: 'power', value: p.PowerConsumedWatts ?? null, unit: 'W' });
  }
  for (const p of (power.PowerSupplies as Json[] | undefined) ?? []) {
    if (p.Status?.State === 'Absent') continue;
    out.push({
      name: p.Name ?? `Power Supply ${p.MemberId}`,
      kind: 'power',
      value: p.PowerInputWatts ?? null,
      unit: 'W',
      health: healthOf(p.Status?.Health),
    });
  }
  for (const v of (power.Voltages as Json[] | undefined) ?? []) {
    out.push({
      name: v.Name,
      kind: 'voltage',
      value: v.ReadingVolts ?? null,
      unit: 'V',
      health: healthOf(v.Status?.Health),
    });
  }
  return out;
}

/** Entries of the system's SEL log service (or its first log service). */
export async function readEventLog(client: RedfishClient, sys: Json, op: string): Promise<SelEntry[]> {
  const services = await expand(client, link(sys.LogServices), op);
  const sel = services.find((s) => s.Id === 'SEL' || s.LogEntryType === 'SEL') ?? services[0];
  if (!sel) return [];
  const entries = await expand(client, link(sel.Entries), op);
  return entries.map((e) => ({
    id: String(e.Id),
    at: e.Created ?? null,
    severity:
      e.Severity === 'OK'
        ? 'ok'
        : e.Severity === 'Warning'
          ? 'warning'
          : e.Severity === 'Critical'
            ? 'critical'
            : 'unknown',
    message: e.Message ?? e.Name ?? '',
  }));
}

export async function readFirmware(client: RedfishClient, root: Json, op: string): Promise<FirmwareItem[]> {
  const update = link(root.UpdateService);
  if (!update) return [];
  const inventory = link((await client.get(update, op)).body.FirmwareInventory);
  return (await expand(client, inventory, op)).map((f) => ({
    name: f.Name ?? f.Id,
    version: String(f.Version ?? ''),
  }));
}
