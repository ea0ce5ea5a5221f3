/** A cluster's scale (src/api/routes/cluster-scale.ts, docs/day2.md "Scale"). */
import { Type } from 'typebox';
import { WIPE_MODES } from '../../core/action-params.ts';
import { MAX_WORKERS } from '../../core/scale.ts';
import { Lit, MAX } from './common.ts';

export const ScaleClusterBody = Type.Object(
  {
    workers: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WORKERS,
        description:
          'The workers the cluster should have; more are allocated from ready machines, fewer are drained, deleted and released (newest first, unless `remove` names them)',
      }),
    ),
    remove: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
        maxItems: 1000,
        description: 'Workers to remove, by hostname (instead of the newest first)',
      }),
    ),
    controlPlanes: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 99,
        description:
          'The control planes wanted (kubeadm, stacked etcd): odd, never below the etcd quorum of the members now, in a scale of its own; added one at a time (kubeadm join --control-plane, etcd member healthy, Node Ready) or removed newest first (drained, etcd member removed, Node deleted, machine released)',
      }),
    ),
    pool: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, description: 'The worker pool (default: the only one)' }),
    ),
    image: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX.id,
        description: 'OS image for new workers (default: the create’s)',
      }),
    ),
    wipe: Type.Optional(Lit(WIPE_MODES, 'How removed workers’ disks are wiped (default: quick)')),
  },
  { additionalProperties: false },
);
