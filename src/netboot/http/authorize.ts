/**
 * Per-machine data on the boot HTTP server (metadata, Kubernetes bundles): the machine must
 * present its boot token (or, once deployed, its OS token) AND ask from an address leased to
 * it. Anything else is refused with 401/403 and, when a machine can be named, written to its
 * timeline as `<service>.denied` (a security event) and logged as a warning.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../../core/errors.ts';
import { httpStatusOf } from '../../core/http-status.ts';
import type { Machine } from '../../core/machine.ts';
import { machineOfToken } from './agent-auth.ts';
import type { BootContext } from './context.ts';
import { sendRefusal } from './context.ts';
import { addressBelongsTo, machineByAddress, sourceIp } from './identify.ts';
import { hashBootToken, looksLikeToken, tokenFromHeaders } from './tokens.ts';

/** Which service asks, for the refusal's wording and event. */
export interface MachineService {
  /** `metadata`, `bundle`: starts the log line and the timeline message. */
  readonly name: string;
  /** Event type of a refusal (BootEvent.MetadataDenied, BootEvent.BundleDenied). */
  readonly deniedEvent: string;
  /** Where the client should put its token. */
  readonly tokenHint: string;
}

export async function authorizeMachine(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  pathToken: string | null,
  ctx: BootContext,
  service: MachineService,
): Promise<{ machine: Machine; ip: string } | null> {
  const ip = sourceIp(req);
  const token = pathToken ?? tokenFromHeaders(req);
  const deny = async (
    code: typeof ErrorCode.Unauthenticated | typeof ErrorCode.Forbidden,
    why: string,
    tokenOwner: Machine | null,
  ): Promise<null> => {
    const status = httpStatusOf(code);
    const fromMachine = await machineByAddress(ctx.store, ip).catch(() => null);
    ctx.log.warn(
      { ip, path, tokenMachine: tokenOwner?.id, sourceMachine: fromMachine?.id },
      `${service.name} request refused: ${why}`,
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
        type: service.deniedEvent,
        level: 'error',
        actor: 'rack',
        machineId,
        message:
          machineId === tokenOwner?.id && tokenOwner.id !== fromMachine?.id
            ? `${service.name} refused: this machine's token was presented from ${ip}, which is not leased to it (security event)`
            : `${service.name} refused for a request from ${ip}: ${why} (security event)`,
        data,
      });
    }
    sendRefusal(res, code, `forbidden: ${why}\n`);
    return null;
  };
  if (!looksLikeToken(token))
    return deny(ErrorCode.Unauthenticated, `no boot token; ${service.tokenHint}`, null);
  const hash = hashBootToken(token);
  // The ephemeral OS presents its boot token; a deployed OS the token its seed was written with.
  const machine = (await machineOfToken(ctx, 'boot', hash)) ?? (await machineOfToken(ctx, 'os', hash));
  if (!machine) return deny(ErrorCode.Forbidden, 'unknown or expired boot token', null);
  if (!(await addressBelongsTo(ctx.store, ip, machine)))
    return deny(ErrorCode.Forbidden, `source address ${ip} is not leased to the token's machine`, machine);
  return { machine, ip };
}
