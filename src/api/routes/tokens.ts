import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Store } from '../../store/store.ts';
import { actorOf, hashToken, newTokenSecret } from '../auth.ts';
import { CreatedTokenT, CreateTokenBody, errorResponses, IdParams } from '../schemas/index.ts';

export function tokenRoutes(store: Store): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['tokens'];
    app.post('/tokens', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create an API token; its secret is returned once',
        body: CreateTokenBody,
        response: { 201: CreatedTokenT, ...errorResponses },
      },
      handler: async (req, reply) => {
        const secret = newTokenSecret();
        const expiresAt = req.body.expiresInDays
          ? new Date(Date.now() + req.body.expiresInDays * 86_400_000).toISOString()
          : null;
        const token = await store.createToken(
          {
            name: req.body.name,
            role: req.body.role,
            hash: hashToken(secret),
            expiresAt,
          },
          actorOf(req),
        );
        reply.status(201);
        return { token, secret };
      },
    });
    app.get('/tokens', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'List tokens (never their secrets)',
        response: { 200: Type.Array(Type.Ref('Token')), ...errorResponses },
      },
      handler: async () => store.listTokens(),
    });
    app.delete('/tokens/:id', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Revoke a token by id or name',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      handler: async (req, reply) => {
        await store.revokeToken(req.params.id, actorOf(req));
        reply.status(204);
        return null;
      },
    });
    app.get('/whoami', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'The token this request used',
        response: { 200: Type.Ref('Token'), ...errorResponses },
      },
      handler: async (req) => req.token!,
    });
  };
}
