/** Events: a machine's timeline, the audit log and the SSE stream. */
import { Type } from 'typebox';
import { EVENT_LEVELS } from '../../core/event.ts';
import { After, Limit, Lit, MAX, Nullable } from './common.ts';

export const EventT = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String(),
    type: Type.String(),
    level: Lit(EVENT_LEVELS),
    machineId: Nullable(Type.String()),
    clusterId: Nullable(Type.String({ description: 'The cluster whose timeline the event is on' })),
    jobId: Nullable(Type.String()),
    actor: Type.String(),
    message: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'Event' },
);

/** `GET /machines/{id}/events`, `GET /clusters/{name}/events` and `GET /audit`. */
export const EventsQuery = Type.Object(
  {
    after: Type.Optional(After),
    limit: Type.Optional(Limit(200)),
    newest: Type.Optional(
      Type.Boolean({
        description:
          'The newest `limit` events (after `after`, if given) instead of the oldest; still listed oldest first',
      }),
    ),
  },
  { additionalProperties: false },
);

/** `GET /events` (SSE). */
export const StreamQuery = Type.Object(
  {
    machine: Type.Optional(Type.String({ maxLength: MAX.id, description: 'Only this machine’s events' })),
    after: Type.Optional(After),
    access_token: Type.Optional(
      Type.String({
        maxLength: 256,
        description:
          'The bearer token, for clients that cannot set headers (EventSource). Accepted on this route only',
      }),
    ),
  },
  { additionalProperties: false },
);
