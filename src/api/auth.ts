/**
 * Bearer tokens with roles. Only a SHA-256 of each token is stored; the token itself is shown
 * once when created. Every route declares the role it needs (`config.role`); `/healthz` is
 * the one route without auth.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ApiToken, type Role, roleAllows } from '../core/auth.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';

export const hashToken = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new token secret: `ingot_` + 32 random bytes, base64url. */
export const newTokenSecret = (): string => `ingot_${randomBytes(32).toString('base64url')}`;

declare module 'fastify' {
  interface FastifyRequest {
    token?: ApiToken;
  }
  interface FastifyContextConfig {
    /** Least role the route needs; `public` needs none. */
    role?: Role | 'public';
    /**
     * The route also takes the token as `?access_token=`, for clients that cannot set headers
     * (EventSource). Only read-only GET routes may: a token in a URL ends up in histories and
     * proxy logs, so it must never be able to change anything.
     */
    queryToken?: boolean;
  }
}

export function actorOf(req: FastifyRequest): string {
  return req.token ? `user:${req.token.name}` : 'anonymous';
}

export function authHook(store: Store) {
  const touched = new Map<string, number>();
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const need = req.routeOptions.config?.role ?? 'admin';
    if (need === 'public') return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const fromQuery = (req.query as Record<string, unknown> | undefined)?.access_token;
    const queryAllowed = req.routeOptions.config?.queryToken === true && req.method === 'GET';
    const secret = m?.[1] ?? (queryAllowed && typeof fromQuery === 'string' ? fromQuery : null);
    if (!secret) {
      throw new IngotError(
        ErrorCode.Unauthenticated,
        fromQuery === undefined
          ? 'missing bearer token: send `Authorization: Bearer <token>` (the admin token is in the data dir, admin.token)'
          : '?access_token= is accepted only by GET /api/v1/events (the event stream); send `Authorization: Bearer <token>` instead',
      );
    }
    const token = await store.findTokenByHash(hashToken(secret));
    if (!token || token.revoked || (token.expiresAt && Date.parse(token.expiresAt) < Date.now())) {
      throw new IngotError(
        ErrorCode.Unauthenticated,
        'the bearer token is unknown, revoked or expired; create a new one with `ingot token create`',
      );
    }
    if (!roleAllows(token.role, need)) {
      throw new IngotError(
        ErrorCode.Forbidden,
        `this needs the ${need} role; token ${token.name} has ${token.role}`,
        {
          details: { need, have: token.role },
        },
      );
    }
    req.token = token;
    // Record use at most once a minute per token, not on every request.
    const last = touched.get(token.id) ?? 0;
    if (Date.now() - last > 60_000) {
      touched.set(token.id, Date.now());
      store.touchToken(token.id).catch(() => undefined);
    }
  };
}
