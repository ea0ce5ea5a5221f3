/** One node of a running cluster: drain and uncordon (src/api/routes/cluster-nodes.ts). */
import { Type } from 'typebox';
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
        maximum: 3600,
        description:
          'How long refused evictions are retried and evicted pods may take to go (default 300); then INGOT_DRAIN_BLOCKED names the PodDisruptionBudget',
      }),
    ),
    force: Type.Optional(
      Type.Boolean({
        description: 'Also evict pods no controller owns (they are gone for good); default false',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DrainNodeResult = Type.Object({
  node: Type.String(),
  evicted: Type.Array(Type.String(), { description: 'Pods evicted, `namespace/name`' }),
  kept: Type.Array(Type.String(), { description: 'Pods left on purpose (DaemonSet, mirror, finished)' }),
});

export const UncordonNodeResult = Type.Object({ node: Type.String(), schedulable: Type.Boolean() });
