/**
 * Cost estimate benchmark (issue 18): POST /api/v1/cost on a region of N machines, each with a
 * month of BMC power readings (`--readings`, one an hour back from now; 72 by default, 720 a full month), against the shipped price table.
 * Reports seeding time, the median and max of `--runs` requests, and the pure estimate alone.
 * Usage: node bench/cost.ts [--machines 10000] [--runs 5]
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultCostModel, resolveInputs, shippedPriceTable } from '../src/cost/model-file.ts';
import { estimateCost } from '../src/cost/estimate.ts';
import { regionCostFacts } from '../src/api/routes/cost.ts';
import { startTestRegion } from '../test/support/region.ts';
import { seedMachines } from '../test/support/ui-seed.ts';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    readings: { type: 'string', default: '72' },
  },
});
const MACHINES = Number(values.machines);
const RUNS = Number(values.runs);
const READINGS = Number(values.readings);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const r = await startTestRegion();
try {
  let t0 = performance.now();
  const ids = await seedMachines(r.region.store, { machines: MACHINES, zones: 4, racksPerZone: 25 });
  const now = Date.now();
  for (const [i, id] of ids.entries())
    for (let h = 0; h < READINGS; h++)
      await r.region.store.recordPowerReading(id, now - h * 3_600_000, 200 + ((i + h) % 100));
  process.stderr.write(
    `seeded ${MACHINES} machines × ${READINGS} readings in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  const api: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t0 = performance.now();
    const res = await r.api<{ region: { machines: number } }>('POST', '/api/v1/cost', { windowDays: 30 });
    api.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  }
  const facts = await regionCostFacts(r.region.store, now - 30 * 86_400_000);
  const inputs = resolveInputs(defaultCostModel(), shippedPriceTable('aws-us-east-1'));
  const pure: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t0 = performance.now();
    estimateCost(inputs, facts);
    pure.push(performance.now() - t0);
  }
  console.log(
    JSON.stringify(
      {
        machines: MACHINES,
        readingsPerMachine: READINGS,
        apiMedianMs: Math.round(median(api)),
        apiMaxMs: Math.round(Math.max(...api)),
        estimateMedianMs: Math.round(median(pure)),
        host: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      },
      null,
      2,
    ),
  );
} finally {
  await r.stop();
}
