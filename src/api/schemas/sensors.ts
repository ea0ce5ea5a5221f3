/** Sensor readings: `GET /machines/{id}/sensors` (src/api/routes/sensors.ts). */
import { Type } from 'typebox';
import { SENSOR_HEALTHS, SENSOR_KINDS } from '../../bmc/driver.ts';
import { Lit, Nullable } from './common.ts';

export const SensorReadingsT = Type.Object({
  health: Lit(SENSOR_HEALTHS, 'Worst health of the system as the BMC rolls it up'),
  readings: Type.Array(
    Type.Object({
      name: Type.String({ description: 'Sensor name as the BMC reports it, e.g. CPU temperature' }),
      kind: Lit(SENSOR_KINDS),
      value: Nullable(Type.Number({ description: 'null when the BMC has no reading' })),
      unit: Type.String({ description: 'Cel, RPM, %, W, V, A… as the driver reports it' }),
      health: Type.Optional(Lit(SENSOR_HEALTHS)),
    }),
  ),
  readAt: Type.String({
    format: 'date-time',
    description: 'When the region read the BMC; requests within a few seconds share one read',
  }),
});
