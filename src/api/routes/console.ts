/**
 * GET /api/v1/machines/{id}/console: the tail of a machine's serial console log
 * (src/host/console-log.ts: lab machines log theirs; real machines have none until
 * serial-over-LAN lands).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { findConsoleLog, readTail } from '../../host/console-log.ts';
import type { Store } from '../../store/store.ts';
import { ConsoleQuery, errorResponses, IdParams } from '../schemas/index.ts';

export function consoleRoutes(store: Store, o: { dataDir: string }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/machines/:id/console', {
      config: { role: 'viewer' },
      schema: {
        tags: ['machines'],
        summary: 'The tail of the machine’s serial console (lab machines)',
        params: IdParams,
        querystring: ConsoleQuery,
        response: { 200: Type.String(), ...errorResponses },
      },
      handler: async (req, reply) => {
        const m = await store.getMachine(req.params.id);
        const file = findConsoleLog(o.dataDir, m.id);
        if (!file)
          throw new IngotError(
            ErrorCode.NotFound,
            `machine ${m.hostname} has no console log: only lab machines log their serial console, from their first power-on (see docs/lab.md)`,
          );
        let tail: { text: string; size: number };
        try {
          tail = readTail(file, req.query.bytes ?? 65536);
        } catch {
          throw new IngotError(
            ErrorCode.NotFound,
            `machine ${m.hostname} has not been powered on in its lab yet: no console output`,
          );
        }
        reply.header('content-type', 'text/plain; charset=utf-8');
        reply.header('x-console-size', String(tail.size));
        return tail.text;
      },
    });
  };
}
