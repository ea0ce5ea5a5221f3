/**
 * JSON Schema of the CostModel file (`kind: CostModel`) and of a cloud price table
 * (`kind: CloudPriceTable`), in TypeBox so they are plain JSON Schema: schema/cost-model.schema.json
 * and schema/cloud-prices.schema.json are generated from them by `node scripts/cost-schema.ts`
 * (a test checks they match). Defaults live here, so they are published with the schema and
 * Ajv fills them in; docs/cost.md lists them.
 */
import { type Static, Type } from 'typebox';

export const COST_API_VERSION = 'ingot.dev/v1alpha1';
/** The price table shipped in src/cost/prices/, used when the model names none. */
export const DEFAULT_PRICE_TABLE = 'aws-us-east-1';

const Money = (description: string, dflt?: number) =>
  Type.Number({ minimum: 0, maximum: 1e12, description, ...(dflt === undefined ? {} : { default: dflt }) });
const Name = Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, ...(description ? { description } : {}) });

export const SiteT = Type.Object(
  {
    pricePerKWh: Money('Electricity price per kWh', 0.15),
    pue: Type.Number({
      minimum: 1,
      maximum: 5,
      default: 1.5,
      description: 'Power usage effectiveness (facility ÷ IT power)',
    }),
    pricePerRackUnitMonth: Money('Colocation or floor space per rack unit per month', 15),
    networkPerMonth: Money('Site-wide network (transit, switches’ support) per month', 0),
    staffFte: Type.Number({
      minimum: 0,
      maximum: 10000,
      default: 0,
      description: 'Full-time staff running the machines',
    }),
    staffCostPerYear: Money('Cost of one full-time person per year', 150000),
    egressTBPerMonth: Type.Number({
      minimum: 0,
      maximum: 1e9,
      default: 0,
      description: 'Traffic out of the site, TB per month',
    }),
    bareMetalEgressPerTB: Money('What the site pays per TB out (often 0: flat-rate transit)', 0),
  },
  { additionalProperties: false, default: {} },
);

export const MachineClassT = Type.Object(
  {
    name: Name,
    match: Type.Object(
      {
        pool: Type.Optional(Text(63)),
        tags: Type.Optional(Type.Array(Text(128), { maxItems: 64 })),
        hostnames: Type.Optional(Type.Array(Text(63), { maxItems: 10000 })),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Every given criterion must match; {} takes every machine',
      },
    ),
    price: Money('Purchase price of one machine', 10000),
    amortisationMonths: Type.Integer({ minimum: 1, maximum: 240, default: 60 }),
    supportPercentPerYear: Type.Number({ minimum: 0, maximum: 100, default: 8 }),
    nominalWatts: Type.Number({
      minimum: 0,
      maximum: 100000,
      default: 350,
      description: 'Used when the machine has no BMC power readings in the window (flagged as nominal)',
    }),
    rackUnits: Type.Number({ minimum: 0, maximum: 64, default: 1 }),
  },
  { additionalProperties: false },
);

const DEFAULT_CLASS = {
  name: 'default',
  match: {},
  price: 10000,
  amortisationMonths: 60,
  supportPercentPerYear: 8,
  nominalWatts: 350,
  rackUnits: 1,
};

export const CostModelT = Type.Object(
  {
    apiVersion: Type.Literal(COST_API_VERSION),
    kind: Type.Literal('CostModel'),
    metadata: Type.Object({ name: Name }, { additionalProperties: false }),
    spec: Type.Object(
      {
        currency: Type.String({
          pattern: '^[A-Z]{3}$',
          default: 'USD',
          description: 'ISO 4217; must match the price table',
        }),
        site: SiteT,
        classes: Type.Array(MachineClassT, {
          minItems: 1,
          maxItems: 256,
          default: [DEFAULT_CLASS],
          description:
            'The first class whose match a machine meets prices it; a machine none matches is reported as unpriced',
        }),
        cloud: Type.Object(
          {
            priceTable: Type.String({
              minLength: 1,
              maxLength: 1024,
              default: DEFAULT_PRICE_TABLE,
              description: `A shipped table's name (${DEFAULT_PRICE_TABLE}) or a path relative to this file`,
            }),
            egressPerGB: Type.Optional(Money('Overrides the table’s egress price per GB')),
            controlPlaneFeePerHour: Type.Optional(
              Money('Overrides the table’s managed Kubernetes fee per cluster-hour'),
            ),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type CostModelFile = Static<typeof CostModelT>;

export const InstanceTypeT = Type.Object(
  {
    name: Text(64),
    vcpus: Type.Integer({ minimum: 1, maximum: 4096 }),
    memoryGiB: Type.Number({ minimum: 0, maximum: 1e6 }),
    gpus: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
    onDemandPerHour: Money('On-demand price per hour'),
    reservedPerHour: Type.Record(
      Type.String({ maxLength: 32 }),
      Money('Effective hourly price at this term'),
      {
        default: {},
        description:
          'Term name → effective hourly price (upfront spread over the term); each term must be in `terms`',
      },
    ),
  },
  { additionalProperties: false },
);

export const PriceTableT = Type.Object(
  {
    apiVersion: Type.Literal(COST_API_VERSION),
    kind: Type.Literal('CloudPriceTable'),
    metadata: Type.Object(
      {
        name: Name,
        date: Type.String({
          pattern: '^\\d{4}-\\d{2}-\\d{2}$',
          description: 'The date the prices are as of',
        }),
      },
      { additionalProperties: false },
    ),
    sources: Type.Array(
      Type.Object(
        { name: Text(200), url: Text(1024), note: Type.Optional(Text(1000)) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64, description: 'Where the prices come from' },
    ),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    egressPerGB: Money('Internet egress per GB'),
    controlPlaneFeePerHour: Money('Managed Kubernetes control-plane fee per cluster-hour'),
    terms: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 8, default: [] }),
    instances: Type.Array(InstanceTypeT, { minItems: 1, maxItems: 10000 }),
  },
  { additionalProperties: false },
);
export type PriceTableFile = Static<typeof PriceTableT>;
