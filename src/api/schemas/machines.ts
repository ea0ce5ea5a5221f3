/** Machines, their actions and jobs: `/machines…`, `/jobs/{id}`. */
import { type Static, Type } from 'typebox';
import { MEMBER_ROLES } from '../../core/cluster.ts';
import { JOB_STATUSES } from '../../core/job.ts';
import { ACTIONS, MACHINE_STATES } from '../../core/lifecycle.ts';
import { ARCHES, POWER_STATES } from '../../core/machine.ts';
import { Label, Lit, Limit, MAX, MAX_INT, Mac, Nullable } from './common.ts';

export const MachineStateT = Lit(MACHINE_STATES);
export const ActionT = Lit(ACTIONS);

export const NicT = Type.Object({
  mac: Type.String(),
  boot: Type.Boolean(),
  name: Type.Optional(Type.String()),
  driver: Type.Optional(Type.String()),
  speedMbps: Type.Optional(Type.Number()),
});

export const DisksT = Type.Array(
  Type.Object({
    name: Type.String(),
    sizeBytes: Type.Number(),
    model: Type.Optional(Type.String()),
    serial: Type.Optional(Type.String()),
    rotational: Type.Optional(Type.Boolean()),
  }),
);

export const MachineT = Type.Object(
  {
    id: Type.String(),
    hostname: Type.String(),
    arch: Type.String(),
    state: MachineStateT,
    stateReason: Type.String(),
    stateEnteredAt: Type.String({ format: 'date-time' }),
    powerState: Lit(POWER_STATES),
    bmc: Nullable(Type.Object({ address: Type.String(), username: Type.String() })),
    nics: Type.Array(NicT),
    disks: DisksT,
    cpu: Nullable(
      Type.Object({
        model: Type.Optional(Type.String()),
        cores: Type.Number(),
        threads: Type.Optional(Type.Number()),
      }),
    ),
    memoryBytes: Nullable(Type.Number()),
    tags: Type.Array(Type.String()),
    zone: Type.String(),
    rack: Type.String(),
    pool: Type.String(),
    owner: Type.String(),
    commissionedAt: Nullable(Type.String({ format: 'date-time' })),
    allowedActions: Type.Array(ActionT, { description: 'Actions the lifecycle allows in the current state' }),
    cluster: Nullable(
      Type.Object(
        { cluster: Type.String(), role: Lit(MEMBER_ROLES) },
        { description: 'The cluster the machine is a member of, and its role there' },
      ),
    ),
    version: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Machine' },
);

const BMC_ADDRESS =
  'redfish+https://host[:port][/redfish/v1/Systems/ID], redfish+http://…, ipmi://host[:port]; no user or password in the URL';
const BmcAddress = Type.String({ minLength: 1, maxLength: MAX.url, description: BMC_ADDRESS });
const BmcUsername = Type.String({ minLength: 1, maxLength: MAX.username });
const BmcPassword = Type.String({
  minLength: 1,
  maxLength: MAX.password,
  writeOnly: true,
  description:
    'Stored encrypted; never returned. Required again when the address moves to another host, port or scheme',
});

export const BmcInput = Type.Object(
  { address: BmcAddress, username: BmcUsername, password: BmcPassword },
  { additionalProperties: false },
);

const NicInput = Type.Object(
  { mac: Mac, boot: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const Nics = Type.Array(NicInput, { minItems: 1, maxItems: 64 });
const Tags = Type.Array(Label, { maxItems: 64 });
const Hostname = Type.String({ minLength: 1, maxLength: 63 });

export const CreateMachineBody = Type.Object(
  {
    hostname: Type.Optional(Hostname),
    arch: Type.Optional(Lit(ARCHES)),
    bmc: BmcInput,
    nics: Nics,
    tags: Type.Optional(Tags),
    zone: Type.Optional(Label),
    rack: Type.Optional(Label),
    pool: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export type CreateMachineBody = Static<typeof CreateMachineBody>;

export const UpdateMachineBody = Type.Object(
  {
    hostname: Type.Optional(Hostname),
    bmc: Type.Optional(
      Type.Object(
        { address: BmcAddress, username: BmcUsername, password: Type.Optional(BmcPassword) },
        { additionalProperties: false },
      ),
    ),
    nics: Type.Optional(Nics),
    tags: Type.Optional(Tags),
    zone: Type.Optional(Label),
    rack: Type.Optional(Label),
    pool: Type.Optional(Label),
    version: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_INT,
        description: 'Expected version: the update fails with 409 if the machine changed since',
      }),
    ),
  },
  { additionalProperties: false },
);
export type UpdateMachineBody = Static<typeof UpdateMachineBody>;

const Filter = (description?: string) =>
  Type.Optional(Type.String({ maxLength: MAX.query, ...(description ? { description } : {}) }));

export const ListMachinesQuery = Type.Object(
  {
    state: Filter('Comma-separated states'),
    tag: Filter('Comma-separated tags; a machine must have all'),
    zone: Filter(),
    rack: Filter(),
    pool: Filter(),
    owner: Filter(),
    q: Filter('Hostname substring, MAC or id'),
    limit: Type.Optional(Limit(100)),
    cursor: Filter(),
  },
  { additionalProperties: false },
);
export type ListMachinesQuery = Static<typeof ListMachinesQuery>;

export const MachinePage = Type.Object({
  items: Type.Array(Type.Ref('Machine')),
  next: Nullable(Type.String()),
  total: Type.Integer(),
});

/**
 * An action's body. `params` is free-form here (each action's parameters are checked by
 * src/core/action-params.ts, which names the field); the body parser bounds its depth.
 */
export const ActionBody = Type.Object(
  {
    comment: Type.Optional(Type.String({ maxLength: MAX.comment })),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        maxProperties: 16,
        propertyNames: { maxLength: MAX.key },
      }),
    ),
  },
  { additionalProperties: false, description: 'May be omitted (an empty body is `{}`)' },
);

export const ActionParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: MAX.id }),
  action: ActionT,
});

export const JobStepT = Type.Object({
  name: Type.String(),
  startedAt: Nullable(Type.String()),
  endedAt: Nullable(Type.String()),
  attempts: Type.Integer(),
  error: Nullable(Type.String()),
});

export const JobT = Type.Object(
  {
    id: Type.String(),
    machineId: Nullable(Type.String({ description: 'The machine a machine workflow runs on' })),
    clusterId: Nullable(Type.String({ description: 'The cluster a cluster workflow runs on' })),
    kind: Type.String(),
    status: Lit(JOB_STATUSES),
    steps: Type.Array(JobStepT),
    stepIndex: Type.Integer(),
    error: Nullable(Type.String()),
    actor: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    finishedAt: Nullable(Type.String()),
  },
  { $id: 'Job' },
);

export const ActionResultT = Type.Object({ machine: Type.Ref('Machine'), job: Nullable(Type.Ref('Job')) });

/** `GET /machines/{id}/console`. */
export const ConsoleQuery = Type.Object(
  { bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 * 2 ** 20, default: 65536 })) },
  { additionalProperties: false },
);
