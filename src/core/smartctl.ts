/**
 * One disk's health from `smartctl --json` (smartmontools ≥ 7.0; `-a`, or `-i -H -A`): the
 * counters that predict a failure — ATA reallocated (5) and pending (197) sectors, SCSI grown
 * defects, NVMe media errors and percentage used — with the drive's own verdict
 * (`smart_status.passed`), keyed by its serial. Pure: the caller reads the JSON.
 */
import { invalid } from './errors.ts';
import { type DiskHealth, DiskProtocol, type DiskHealthSource } from './health.ts';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | null =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;

function protocolOf(device: Json | null): DiskProtocol {
  const p = String(device?.protocol ?? '').toLowerCase();
  if (p === 'ata') return DiskProtocol.Ata;
  if (p === 'nvme') return DiskProtocol.Nvme;
  if (p === 'scsi') return DiskProtocol.Scsi;
  return DiskProtocol.Unknown;
}

/** An ATA attribute's raw value by id (the raw counter, not the vendor-normalised value). */
function ataRaw(doc: Json, id: number): number | null {
  const table = obj(doc.ata_smart_attributes)?.table;
  if (!Array.isArray(table)) return null;
  const a = table.map(obj).find((x) => x?.id === id);
  return a ? count(obj(a.raw)?.value) : null;
}

export function parseSmartctl(
  input: unknown,
  ctx: { machineId: string; at: number; source: DiskHealthSource },
): DiskHealth {
  const doc = obj(input);
  if (!doc) throw invalid('smartctl', 'is not a JSON object; pass the output of `smartctl --json -a DEVICE`');
  const device = obj(doc.device);
  const name = typeof device?.name === 'string' ? device.name : null;
  if (!name)
    throw invalid('smartctl.device.name', 'is missing; pass the output of `smartctl --json -a DEVICE`');
  const serial = typeof doc.serial_number === 'string' ? doc.serial_number.trim() : '';
  if (!serial)
    throw invalid(
      'smartctl.serial_number',
      `is missing for ${name}: a disk's health is kept by its serial; the device may be behind a RAID controller (try -d)`,
    );
  const protocol = protocolOf(device);
  const nvme = obj(doc.nvme_smart_health_information_log);
  const status = obj(doc.smart_status);
  return {
    machineId: ctx.machineId,
    serial,
    at: ctx.at,
    device: name,
    model: typeof doc.model_name === 'string' ? doc.model_name : null,
    protocol,
    passed: typeof status?.passed === 'boolean' ? status.passed : null,
    reallocatedSectors: protocol === DiskProtocol.Scsi ? count(doc.scsi_grown_defect_list) : ataRaw(doc, 5),
    pendingSectors: ataRaw(doc, 197),
    mediaErrors: count(nvme?.media_errors),
    percentageUsed: count(nvme?.percentage_used),
    temperatureCelsius: count(obj(doc.temperature)?.current),
    powerOnHours: count(obj(doc.power_on_time)?.hours),
    source: ctx.source,
  };
}
