/**
 * Who is calling an agent endpoint: the machine whose live boot token the request presents
 * (`Authorization: Bearer`, from `ingot.token=` on the ephemeral OS's kernel line). Every agent
 * endpoint checks it here; a refusal is answered (401 without a token, 403 with an unknown or
 * expired one) and logged without the token. The task endpoints also take a deployed machine's
 * OS token (its node agent, src/agent/node/), only from an address leased to that machine.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { type Machine, osTokenHonoured } from '../../core/machine.ts';
import type { BootContext } from './context.ts';
import { sendError } from './context.ts';
import { BootEvent } from '../urls.ts';
import { addressBelongsTo, sourceIp } from './identify.ts';
import { hashBootToken, looksLikeToken, tokenFromHeaders } from './tokens.ts';

export interface BootCaller {
  machine: Machine;
  /** The SHA-256 of the presented token: a long-poll re-checks it is still the machine's. */
  tokenHash: string;
  /** `boot`: the ephemeral OS's agent; `os`: the deployed OS's node agent (OS token). */
  kind: 'boot' | 'os';
}

/** The machine a token names now: its live boot token, or (kind `os`) its honoured OS token. */
export async function machineOfToken(
  ctx: BootContext,
  kind: BootCaller['kind'],
  tokenHash: string,
): Promise<Machine | null> {
  if (kind === 'boot') return ctx.store.findMachineByBootToken(tokenHash);
  const m = await ctx.store.findMachineByOsToken(tokenHash);
  return m && osTokenHonoured(m) ? m : null;
}

export async function bootCaller(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: BootContext,
  o: { osToken?: boolean } = {},
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
  const machine = await machineOfToken(ctx, 'boot', tokenHash);
  if (!machine && o.osToken) {
    const deployed = await machineOfToken(ctx, 'os', tokenHash);
    if (deployed) {
      const ip = sourceIp(req);
      if (await addressBelongsTo(ctx.store, ip, deployed))
        return { machine: deployed, tokenHash, kind: 'os' };
      ctx.log.warn(
        { ip, machine: deployed.id },
        'node agent request with an OS token from an address not leased to its machine',
      );
      ctx.events.push({
        type: BootEvent.NodeAgentDenied,
        level: 'error',
        actor: 'rack',
        machineId: deployed.id,
        message: `node agent refused: this machine's OS token was presented from ${ip}, which is not leased to it (security event)`,
        data: { ip, path: req.url?.split('?')[0] ?? '' },
      });
      sendError(
        res,
        new IngotError(
          ErrorCode.Forbidden,
          `the OS token was presented from ${ip}, which is not leased to its machine; the node agent asks from the machine's own address`,
        ),
      );
      return null;
    }
  }
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
  return { machine, tokenHash, kind: 'boot' };
}

/** A deployed OS's node agent only (its OS token); a boot token is answered 403 naming `what`. */
export async function nodeAgentCaller(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: BootContext,
  what: string,
): Promise<BootCaller | null> {
  const caller = await bootCaller(req, res, ctx, { osToken: true });
  if (caller && caller.kind !== 'os') {
    sendError(
      res,
      new IngotError(ErrorCode.Forbidden, `${what} takes the deployed OS’s token, not a boot token`),
    );
    return null;
  }
  return caller;
}
