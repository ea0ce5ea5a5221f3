/**
 * The machines matching some filters, kept current by the live event stream.
 *
 * Loads page by page (a small first page so the table paints at once, then 1,000 at a time),
 * and on machine.* / job.* events refetches just the affected machines and swaps them in
 * place: rows never reorder or vanish under the operator's cursor, except deleted machines.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError, type ApiClient } from '../api/client.ts';
import { openEventStream, type StreamStatus } from '../api/event-stream.ts';
import type { IngotEvent, Machine } from '../api/types.ts';
import { type Filters, matches, toQuery } from './filters.ts';

export interface MachineList {
  machines: Machine[];
  /** Matching machines on the server, known from the first page. */
  total: number | null;
  loading: boolean;
  error: string | null;
  stream: StreamStatus;
}

/** Enough to fill a tall screen; small so the server answers it first and fast. */
const FIRST_PAGE = 100;
const PAGE = 1000;

/** Machine ids whose row may have changed, from one batch of events. */
export function touchedMachines(events: IngotEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.machineId && (e.type.startsWith('machine.') || e.type.startsWith('job.'))) ids.add(e.machineId);
  }
  return [...ids];
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export function useMachineList(client: ApiClient, filters: Filters): MachineList {
  const [state, setState] = useState<MachineList>({
    machines: [],
    total: null,
    loading: true,
    error: null,
    stream: 'connecting',
  });
  const key = JSON.stringify(toQuery(filters));
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ ...s, machines: [], total: null, loading: true, error: null }));
    (async () => {
      const q = JSON.parse(key);
      let cursor: string | undefined;
      let limit = FIRST_PAGE;
      const all: Machine[] = [];
      do {
        const page = await client.listMachines({ ...q, limit, cursor }, ctrl.signal);
        if (ctrl.signal.aborted) return;
        all.push(...page.items);
        cursor = page.next ?? undefined;
        limit = PAGE;
        const snapshot = all.slice();
        setState((s) => ({ ...s, machines: snapshot, total: page.total, loading: cursor !== undefined }));
      } while (cursor);
    })().catch((e) => {
      if (ctrl.signal.aborted) return;
      setState((s) => ({ ...s, loading: false, error: e instanceof ApiError ? e.message : String(e) }));
    });
    return () => ctrl.abort();
  }, [client, key]);

  useEffect(() => {
    let closed = false;
    const close = openEventStream({
      base: client.base,
      token: client.token,
      onStatus: (stream) => setState((s) => (s.stream === stream ? s : { ...s, stream })),
      onBatch: async (events) => {
        const ids = touchedMachines(events);
        if (ids.length === 0) return;
        const fresh = await mapLimit(ids, 8, async (id) => {
          try {
            return { id, machine: await client.getMachine(id) };
          } catch (e) {
            return { id, machine: e instanceof ApiError && e.status === 404 ? null : undefined };
          }
        });
        if (closed) return;
        setState((s) => {
          const byId = new Map(fresh.map((f) => [f.id, f.machine]));
          let total = s.total;
          const machines: Machine[] = [];
          for (const m of s.machines) {
            const f = byId.get(m.id);
            byId.delete(m.id);
            if (f === null) {
              if (total !== null) total--;
              continue;
            }
            machines.push(f ?? m);
          }
          for (const f of byId.values()) {
            if (f && matches(f, filtersRef.current)) {
              machines.push(f);
              if (total !== null) total++;
            }
          }
          return { ...s, machines, total };
        });
      },
    });
    return () => {
      closed = true;
      close();
    };
  }, [client]);

  return state;
}
