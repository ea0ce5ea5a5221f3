/** Cost and capacity: `POST /cost` and `POST /capacity` (src/api/routes/cost.ts). */
import { Type } from 'typebox';
import { OptionKind, ScopeKind } from '../../cost/estimate.ts';
import { COST_FILE_MAX } from '../../cost/model-file.ts';
import { BARE_METAL_LINES, WattsSource } from '../../cost/types.ts';
import { CLUSTER_FILE_MAX, WhatIfRowT } from './clusters.ts';
import { Lit, Nullable } from './common.ts';

const Money = Type.Number();
const Months = Nullable(
  Type.Integer({
    description: 'null: never (the cloud option costs no more per month than running the machines)',
  }),
);

export const CostBody = Type.Object(
  {
    model: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: COST_FILE_MAX,
        description: 'A CostModel file as YAML text (docs/cost.md); default: every documented default',
      }),
    ),
    priceTable: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: COST_FILE_MAX,
        description: 'A CloudPriceTable as YAML text; default: the shipped table the model names',
      }),
    ),
    windowDays: Type.Integer({
      minimum: 1,
      maximum: 3650,
      default: 30,
      description: 'Average BMC power readings over this many days',
    }),
    clusters: Type.Array(Type.String({ minLength: 1, maxLength: CLUSTER_FILE_MAX }), {
      maxItems: 16,
      default: [],
      description:
        'Cluster files (YAML text) planned onto the ready machines, priced as clusters beside the ones this region runs (which are always priced, by their members); a file named like a running cluster adds nothing',
    }),
  },
  { additionalProperties: false },
);

const LinesT = Type.Object(
  Object.fromEntries(BARE_METAL_LINES.map((k) => [k, Money])) as Record<
    (typeof BARE_METAL_LINES)[number],
    typeof Money
  >,
);

const MachineCostT = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  pool: Type.String(),
  class: Nullable(Type.String()),
  watts: Type.Number(),
  wattsSource: Lit(
    Object.values(WattsSource),
    'measured: mean of the BMC readings in the window; nominal: the class’s nominal watts',
  ),
  readings: Type.Integer(),
  upfront: Money,
  lines: Type.Object({ amortisation: Money, support: Money, power: Money, space: Money }),
  monthly: Money,
  cloud: Type.Record(Type.String(), Nullable(Type.Object({ instance: Type.String(), monthly: Money })), {
    description: 'Per term (on-demand, then the table’s reserved terms): the cheapest fitting instance',
  }),
  unfit: Nullable(Type.String()),
});

const OptionCostT = Type.Object({
  kind: Lit(Object.values(OptionKind)),
  term: Type.String(),
  compute: Money,
  egress: Money,
  controlPlaneFee: Money,
  total: Money,
  perVcpuMonth: Nullable(Money),
  perGiBMonth: Nullable(Money),
  breakevenMonth: Months,
  machines: Type.Integer(),
  missing: Type.Array(Type.String()),
});

const ScopeCostT = Type.Object({
  scope: Lit(Object.values(ScopeKind)),
  name: Type.String(),
  machines: Type.Integer(),
  vcpus: Type.Number(),
  memoryGiB: Type.Number(),
  bareMetal: Type.Object({
    lines: LinesT,
    total: Money,
    upfront: Money,
    running: Money,
    perVcpuMonth: Nullable(Money),
    perGiBMonth: Nullable(Money),
  }),
  options: Type.Array(OptionCostT),
  dominant: Type.Array(Type.Object({ input: Type.String(), monthly: Money, share: Type.Number() })),
  measuredWatts: Type.Integer(),
  nominalWatts: Type.Integer(),
});

const Listed = Type.Array(Type.Object({ hostname: Type.String(), reason: Type.String() }));

export const CostEstimateT = Type.Object({
  currency: Type.String(),
  priceTable: Type.String(),
  terms: Type.Array(Type.String()),
  windowDays: Type.Integer(),
  machines: Type.Array(MachineCostT),
  unpriced: Listed,
  unfit: Listed,
  region: ScopeCostT,
  clusters: Type.Array(ScopeCostT),
  pools: Type.Array(ScopeCostT),
  notes: Type.Array(Type.String()),
});

export const CapacityBody = Type.Object(
  {
    cluster: Type.String({
      minLength: 1,
      maxLength: CLUSTER_FILE_MAX,
      description: 'The Cluster file as YAML text',
    }),
  },
  { additionalProperties: false },
);

const ResourcesT = Type.Object({ cpu: Type.Number(), memoryGiB: Type.Number() });
const Domain = Lit(['zone', 'rack'] as const);
const LossRowT = Type.Object({
  domain: Domain,
  name: Type.String(),
  nodesLost: Type.Integer(),
  remaining: ResourcesT,
  headroom: ResourcesT,
  holds: Type.Boolean(),
});

export const CapacityQuery = Type.Object(
  { cluster: Type.String({ minLength: 1, maxLength: 128, description: 'a cluster’s name or id' }) },
  { additionalProperties: false },
);

export const ClusterCapacityT = Type.Object({
  cluster: Type.String(),
  requestsKind: Type.String({ description: 'plan (the Cluster file) or kubernetes (live requests)' }),
  requestsBasis: Type.String(),
  tolerate: Type.Array(Domain),
  pools: Type.Array(
    Type.Object({
      pool: Type.String(),
      nodes: Type.Integer(),
      allocatable: ResourcesT,
      requested: ResourcesT,
      losses: Type.Array(LossRowT),
      worst: Type.Object({ zone: Nullable(LossRowT), rack: Nullable(LossRowT) }),
      spares: Type.Array(Type.Object({ domain: Domain, name: Type.String(), ready: Type.Integer() })),
      recommendation: Type.String(),
    }),
  ),
  whatIf: Type.Array(WhatIfRowT),
  recommendations: Type.Array(Type.String()),
});
