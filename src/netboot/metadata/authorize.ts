/**
 * A machine gets only its own metadata: it must present its boot token (or, once deployed, its
 * OS token) AND ask from an address
 * leased to it. Anything else is refused with 401/403 and, when a machine can be named, written
 * to its timeline as `metadata.denied` (a security event) and logged as a warning.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Machine, osTokenHonoured } from '../../core/machine.ts';
import type { BootContext } from '../http/context.ts';
import { sendText } from '../http/context.ts';
import { addressBelongsTo, machineByAddress, sourceIp } from '../http/identify.ts';
import { hashBootToken, looksLikeToken, tokenFromHeaders } from '../http/tokens.ts';
import { BootEvent } from '../urls.ts';

export async function authorizeMetadata(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  pathToken: string | null,
  ctx: BootContext,
): Promise<{ machine: Machine; ip: string } | null> {
  const ip = sourceIp(req);
  const token = pathToken ?? tokenFromHeaders(req);
  const deny = async (status: 401 | 403, why: string, tokenOwner: Machine | null): Promise<null> => {
    const fromMachine = await machineByAddress(ctx.store, ip).catch(() => null);
    ctx.log.warn(
      { ip, path, tokenMachine: tokenOwner?.id, sourceMachine: fromMachine?.id },
      `metadata request refused: ${why}`,
    );
    const data = {
      ip,
      path,
      status,
      reason: why,
      tokenMachine: tokenOwner?.id ?? null,
      sourceMachine: fromMachine?.id ?? null,
    };
    const ids = new Set([tokenOwner?.id, fromMachine?.id].filter((x): x is string => !!x));
    for (const machineId of ids) {
      ctx.events.push({
        type: BootEvent.MetadataDenied,
        level: 'error',
        actor: 'rack',
        machineId,
        message:
          machineId === tokenOwner?.id && tokenOwner.id !== fromMachine?.id
            ? `metadata refused: this machine's token was presented from ${ip}, which is not leased to it (security event)`
            : `metadata refused for a request from ${ip}: ${why} (security event)`,
        data,
      });
    }
    sendText(res, status, `forbidden: ${why}\n`);
    return null;
  };
  if (!looksLikeToken(token))
    return deny(
      401,
      'no boot token; put it in the path (/metadata/<token>/) or the X-Ingot-Token header',
      null,
    );
  const hash = hashBootToken(token);
  // The ephemeral OS presents its boot token; a deployed OS the token its seed was written with.
  const machine =
    (await ctx.store.findMachineByBootToken(hash)) ??
    (await ctx.store.findMachineByOsToken(hash).then((m) => (m && osTokenHonoured(m) ? m : null)));
  if (!machine) return deny(403, 'unknown or expired boot token', null);
  if (!(await addressBelongsTo(ctx.store, ip, machine)))
    return deny(403, `source address ${ip} is not leased to the token's machine`, machine);
  return { machine, ip };
}
