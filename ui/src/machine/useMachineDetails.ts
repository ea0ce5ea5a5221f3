/**
 * One machine with its events and jobs, kept live: new events for it arrive through the
 * stream (resuming after the last loaded id), and each batch refetches the machine and its
 * jobs once.
 */
import { useCallback, useEffect, useState } from 'react';
import { ApiError, type ApiClient } from '../api/client.ts';
import { openEventStream, type StreamStatus } from '../api/event-stream.ts';
import type { IngotEvent, Job, Machine } from '../api/types.ts';

export interface MachineDetailsState {
  machine: Machine | null;
  events: IngotEvent[];
  jobs: Job[];
  error: string | null;
  notFound: boolean;
  stream: StreamStatus;
}

export function useMachineDetails(
  client: ApiClient,
  id: string,
): MachineDetailsState & { refresh: () => void } {
  const [s, setS] = useState<MachineDetailsState>({
    machine: null,
    events: [],
    jobs: [],
    error: null,
    notFound: false,
    stream: 'connecting',
  });
  // Set once the first load is in: the stream resumes after the last event loaded.
  const [streamFrom, setStreamFrom] = useState<number | null>(null);

  const refresh = useCallback(() => {
    Promise.all([client.getMachine(id), client.machineJobs(id)])
      .then(([machine, jobs]) => setS((x) => ({ ...x, machine, jobs })))
      .catch((e) =>
        setS((x) => ({
          ...x,
          error: e instanceof Error ? e.message : String(e),
          notFound: e instanceof ApiError && e.status === 404,
        })),
      );
  }, [client, id]);

  useEffect(() => {
    let cancelled = false;
    setS({ machine: null, events: [], jobs: [], error: null, notFound: false, stream: 'connecting' });
    setStreamFrom(null);
    (async () => {
      const [machine, jobs] = await Promise.all([client.getMachine(id), client.machineJobs(id)]);
      const events: IngotEvent[] = [];
      for (;;) {
        const page = await client.machineEvents(id, events.at(-1)?.id);
        events.push(...page);
        if (page.length < 1000) break;
      }
      if (cancelled) return;
      setS((x) => ({ ...x, machine, jobs, events }));
      setStreamFrom(events.at(-1)?.id ?? 0);
    })().catch((e) => {
      if (!cancelled)
        setS((x) => ({
          ...x,
          error: e instanceof Error ? e.message : String(e),
          notFound: e instanceof ApiError && e.status === 404,
        }));
    });
    return () => {
      cancelled = true;
    };
  }, [client, id]);

  useEffect(() => {
    if (streamFrom === null) return;
    return openEventStream({
      base: client.base,
      token: client.token,
      machine: id,
      after: streamFrom,
      onStatus: (stream) => setS((x) => ({ ...x, stream })),
      onBatch: (batch) => {
        setS((x) => {
          const seen = new Set(x.events.map((e) => e.id));
          return { ...x, events: [...x.events, ...batch.filter((e) => !seen.has(e.id))] };
        });
        refresh();
      },
    });
  }, [client, id, streamFrom, refresh]);

  return { ...s, refresh };
}
