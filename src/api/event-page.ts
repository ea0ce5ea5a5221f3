/**
 * One page of a timeline as the events routes give it (machine, cluster, audit): the oldest
 * `limit` events after `after`, or with `newest` the latest `limit` of them — always listed
 * oldest first, so a client prints them in order and follows on from the last id.
 */
import type { IngotEvent } from '../core/event.ts';
import type { Store } from '../store/store.ts';
import type { EventFilter } from '../store/types.ts';

export async function listPage(
  store: Store,
  scope: Pick<EventFilter, 'machineId' | 'clusterId'>,
  q: { after?: number; limit?: number; newest?: boolean },
): Promise<IngotEvent[]> {
  const events = await store.listEvents({
    ...scope,
    afterId: q.after,
    limit: q.limit ?? 200,
    newestFirst: q.newest === true,
  });
  return q.newest ? events.reverse() : events;
}
