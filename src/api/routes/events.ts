import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listPage } from '../event-page.ts';
import { Type } from 'typebox';
import type { Store } from '../../store/store.ts';
import { startEventSession } from '../event-session.ts';
import type { EventTail } from '../event-stream.ts';
import { ReplayPages } from '../replay-pages.ts';
import { errorResponses, EventsQuery, StreamQuery } from '../schemas/index.ts';

export function eventRoutes(store: Store, tail: EventTail): FastifyPluginAsyncTypebox {
  const pages = new ReplayPages(store);
  return async (app) => {
    app.get('/audit', {
      config: { role: 'admin' },
      schema: {
        tags: ['events'],
        summary:
          'The audit log: every event (machines, subnets, tokens), oldest first (`newest`: the latest page)',
        querystring: EventsQuery,
        response: { 200: Type.Array(Type.Ref('Event')), ...errorResponses },
      },
      handler: async (req) => listPage(store, {}, req.query),
    });

    app.get('/events', {
      // EventSource cannot set headers: this read-only stream also takes ?access_token=.
      config: { role: 'viewer', queryToken: true },
      schema: {
        tags: ['events'],
        summary: 'Server-sent event stream of every event (or one machine’s)',
        description:
          'text/event-stream. Each message has `id` (resume with Last-Event-ID), `event` (the event type) and `data` (the Event as JSON). `after` replays from an id, in pages as the client reads. The stream ends when its token is revoked or expires, or when the client stops reading for long. The only route that takes `?access_token=`.',
        querystring: StreamQuery,
        response: { ...errorResponses },
      },
      handler: async (req, reply) => {
        const lastHeader = req.headers['last-event-id'];
        const last =
          typeof lastHeader === 'string' && /^\d{1,15}$/.test(lastHeader) ? Number(lastHeader) : undefined;
        reply.hijack();
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        startEventSession({
          store,
          tail,
          pages,
          res: reply.raw,
          machine: req.query.machine,
          after: req.query.after ?? last,
          token: req.token,
        });
      },
    });
  };
}
