import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Store } from '../../store/store.ts';
import type { EventTail } from '../event-stream.ts';
import { errorResponses, EventsQuery, StreamQuery } from '../schemas/index.ts';

export function eventRoutes(store: Store, tail: EventTail): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/audit', {
      config: { role: 'admin' },
      schema: {
        tags: ['events'],
        summary: 'The audit log: every event (machines, subnets, tokens), oldest first',
        querystring: EventsQuery,
        response: { 200: Type.Array(Type.Ref('Event')), ...errorResponses },
      },
      handler: async (req) => store.listEvents({ afterId: req.query.after, limit: req.query.limit ?? 200 }),
    });

    app.get('/events', {
      config: { role: 'viewer' },
      schema: {
        tags: ['events'],
        summary: 'Server-sent event stream of every event (or one machine’s)',
        description:
          'text/event-stream. Each message has `id` (resume with Last-Event-ID), `event` (the event type) and `data` (the Event as JSON). `after` replays from an id.',
        querystring: StreamQuery,
        response: { ...errorResponses },
      },
      handler: async (req, reply) => {
        const machine = req.query.machine;
        const lastHeader = Number(req.headers['last-event-id']);
        let after = req.query.after ?? (Number.isFinite(lastHeader) ? lastHeader : undefined);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write(': connected\n\n');
        const send = (e: { id: number; type: string; machineId: string | null }) => {
          if (machine && e.machineId !== machine) return;
          if (after !== undefined && e.id <= after) return;
          after = e.id;
          res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        };
        const unsubscribe = tail.subscribe(send);
        if (after !== undefined) {
          for (const e of await store.listEvents({ machineId: machine, afterId: after, limit: 1000 }))
            send(e);
        }
        const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
        req.raw.on('close', () => {
          clearInterval(ping);
          unsubscribe();
        });
      },
    });
  };
}
