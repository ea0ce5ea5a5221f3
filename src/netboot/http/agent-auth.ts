/**
 * Who is calling an agent endpoint: the machine whose live boot token the request presents
 * (`Authorization: Bearer`, from `ingot.token=` on the ephemeral OS's kernel line). Every agent
 * endpoint checks it here; a refusal is answered (401 without a token, 403 with an unknown or
 * expired one) and logged without the token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Machine } from '../../core/machine.ts';
import type { BootContext } from './context.ts';
import { sendError } from './context.ts';
import { sourceIp } from './identify.ts';
import { hashBootToken, looksLikeToken, tokenFromHeaders } from './tokens.ts';

export interface BootCaller {
  machine: Machine;
  /** The SHA-256 of the presented token: a long-poll re-checks it is still the machine's. */
  tokenHash: string;
}

export async function bootCaller(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: BootContext,
): Promise<BootCaller | null> {
  const token = tokenFromHeaders(req);
  if (!looksLikeToken(token)) {
    ctx.log.warn({ ip: sourceIp(req) }, 'agent request without a boot token');
    sendError(
      res,
      new IngotError(
        ErrorCode.Unauthenticated,
        'send the boot token from the kernel command line (ingot.token=) as "Authorization: Bearer <token>"',
      ),
    );
    return null;
  }
  const tokenHash = hashBootToken(token);
  const machine = await ctx.store.findMachineByBootToken(tokenHash);
  if (!machine) {
    ctx.log.warn({ ip: sourceIp(req) }, 'agent request with an unknown or expired boot token');
    sendError(
      res,
      new IngotError(
        ErrorCode.Forbidden,
        'the boot token is unknown or expired; reboot the machine from the network to get a new one',
      ),
    );
    return null;
  }
  return { machine, tokenHash };
}
