/** Hardware health history: `GET /machines/{id}/health` (src/api/routes/health.ts, docs/health.md). */
import { type Static, Type } from 'typebox';
import { SENSOR_HEALTHS, SENSOR_KINDS } from '../../bmc/driver.ts';
import { DiskHealthSource, DiskProtocol } from '../../core/health.ts';
import { Lit, Nullable } from './common.ts';

const Count = (description: string) => Nullable(Type.Integer({ minimum: 0, description }));

export const HealthQuery = Type.Object(
  {
    hours: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 168, default: 24, description: 'How far back, in hours' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_080,
        default: 1440,
        description: 'At most this many samples (the newest)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type HealthQuery = Static<typeof HealthQuery>;

export const HealthSampleT = Type.Object({
  at: Type.String({ format: 'date-time', description: 'When the poll finished' }),
  reachable: Type.Boolean({ description: 'The BMC answered' }),
  health: Lit(SENSOR_HEALTHS, 'The BMC’s rollup; unknown when it did not answer'),
  error: Nullable(Type.String({ description: 'Why the BMC did not answer' })),
  tempMaxCelsius: Nullable(Type.Number()),
  fans: Count('Fans reported'),
  fansFailed: Count('Fans warning or critical'),
  psus: Count('Power supplies reported'),
  psusFailed: Count('Power supplies warning or critical'),
  watts: Nullable(Type.Number({ description: 'The system’s input power' })),
  selCritical: Count('Critical SEL entries'),
  selWarning: Count('Warning SEL entries'),
  readings: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: Lit(SENSOR_KINDS),
      value: Nullable(Type.Number()),
      unit: Type.String(),
      health: Type.Optional(Lit(SENSOR_HEALTHS)),
    }),
  ),
});

export const DiskHealthT = Type.Object({
  serial: Type.String(),
  at: Type.String({ format: 'date-time', description: 'When the report was taken' }),
  device: Type.String({ description: 'Kernel name as smartctl saw it' }),
  model: Nullable(Type.String()),
  protocol: Lit(Object.values(DiskProtocol)),
  passed: Nullable(Type.Boolean({ description: 'SMART self-assessment; false: failure predicted' })),
  reallocatedSectors: Count('ATA 5 raw / SCSI grown defects'),
  pendingSectors: Count('ATA 197 raw'),
  mediaErrors: Count('NVMe media errors'),
  percentageUsed: Count('NVMe percentage used'),
  temperatureCelsius: Nullable(Type.Number()),
  powerOnHours: Count('Power-on hours'),
  source: Lit(Object.values(DiskHealthSource)),
});

export const MachineHealthT = Type.Object({
  samples: Type.Array(HealthSampleT, { description: 'BMC polls, oldest first' }),
  disks: Type.Array(DiskHealthT, { description: 'SMART reports per disk serial, oldest first' }),
});

export const RegionHealthT = Type.Object({
  machines: Type.Array(
    Type.Object({
      machine: Type.String(),
      hostname: Type.String(),
      zone: Type.String(),
      rack: Type.String(),
      at: Type.String({ format: 'date-time', description: 'The newest poll' }),
      reachable: Type.Boolean(),
      health: Lit(SENSOR_HEALTHS),
      tempMaxCelsius: Nullable(Type.Number()),
      watts: Nullable(Type.Number()),
      fansFailed: Count('Fans warning or critical'),
      psusFailed: Count('Power supplies warning or critical'),
    }),
    { description: 'Each machine’s newest health poll' },
  ),
  disksAtRisk: Type.Array(
    Type.Object({
      machine: Type.String(),
      hostname: Type.String(),
      zone: Type.String(),
      rack: Type.String(),
      serial: Type.String(),
      device: Type.String(),
      reason: Type.String({ description: 'Why, in words' }),
    }),
    { description: 'Disks whose newest SMART report puts them at risk' },
  ),
});
