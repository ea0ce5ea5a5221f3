/** One node of a running cluster: drain and uncordon (src/api/routes/cluster-nodes.ts). */
import { Type } from 'typebox';
import { DRAIN_REASON_MAX, DRAIN_TIMEOUT_MAX_S } from '../../core/node-drain.ts';
import { OPERATION_STATES } from '../../core/operation.ts';
import { MAX } from './common.ts';

export const ClusterNodeParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX.id, description: 'The cluster’s name or id' }),
  node: Type.String({ minLength: 1, maxLength: 63, description: 'The node (a member’s hostname)' }),
});

export const DrainNodeBody = Type.Object(
  {
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: DRAIN_TIMEOUT_MAX_S,
        description:
          'How long refused evictions are retried and evicted pods may take to go (default 300); then the drain fails naming the PodDisruptionBudget, the node left cordoned',
      }),
    ),
    force: Type.Optional(
      Type.Boolean({
        description: 'Also evict pods no controller owns (they are gone for good); default false',
      }),
    ),
    reason: Type.Optional(
      Type.String({ minLength: 1, maxLength: DRAIN_REASON_MAX, description: 'Why: on the timeline' }),
    ),
  },
  { additionalProperties: false },
);

export const DrainNodeResult = Type.Object({
  operation: Type.String({
    description: 'The drain’s operation: GET /clusters/{name}/operations/{id} follows it',
  }),
  state: Type.String({
    description: `The operation's state (${OPERATION_STATES.join(', ')}): running until it ends, succeeded or failed with the reason`,
  }),
  reason: Type.String(),
  node: Type.String(),
  step: Type.Union([Type.String(), Type.Null()], {
    description: 'The node’s last step done: null, `cordoned`, `drained`',
  }),
  message: Type.Union([Type.String(), Type.Null()], {
    description: 'What the drain says now (`blocked by PDB ns/name`)',
  }),
  timeoutSeconds: Type.Integer(),
  evicted: Type.Array(Type.String(), { description: 'Pods evicted, `namespace/name` (once drained)' }),
  kept: Type.Array(Type.String(), { description: 'Pods left on purpose (DaemonSet, mirror, finished)' }),
});

export const UncordonNodeResult = Type.Object({ node: Type.String(), schedulable: Type.Boolean() });
