/**
 * Error constructors shared by the BMC drivers. Every message names the operation and the BMC
 * target (the address without credentials) and says what to do next; none carries a password.
 */
import { ErrorCode, IngotError } from '../core/errors.ts';

export interface BmcErrorContext {
  /** What was attempted, e.g. `power on`, `set boot device network`. */
  readonly operation: string;
  /** The BMC address without credentials. */
  readonly target: string;
}

function details(ctx: BmcErrorContext, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { operation: ctx.operation, target: ctx.target, ...extra };
}

/** The BMC cannot do this at all; retrying will not help. */
export function bmcUnsupported(
  ctx: BmcErrorContext,
  why: string,
  extra: Record<string, unknown> = {},
): IngotError {
  return new IngotError(
    ErrorCode.BmcUnsupported,
    `${ctx.operation} is not supported by BMC ${ctx.target}: ${why}`,
    {
      details: details(ctx, extra),
    },
  );
}

/** The BMC refused the credentials. */
export function bmcAuth(ctx: BmcErrorContext, why: string, cause?: unknown): IngotError {
  return new IngotError(
    ErrorCode.BmcAuth,
    `${ctx.operation} on BMC ${ctx.target}: the BMC rejected the credentials (${why}); check the machine's BMC username and password`,
    { details: details(ctx), cause },
  );
}

/** The BMC did not answer (refused, timed out, no route). Retrying later may work. */
export function bmcUnreachable(ctx: BmcErrorContext, why: string, cause?: unknown): IngotError {
  return new IngotError(
    ErrorCode.BmcUnreachable,
    `${ctx.operation} on BMC ${ctx.target}: the BMC is unreachable (${why}); check its address, port and network path`,
    { details: details(ctx), cause, retryable: true },
  );
}

/** The BMC answered with an error. */
export function bmcError(
  ctx: BmcErrorContext,
  why: string,
  opts: { retryable?: boolean; cause?: unknown; extra?: Record<string, unknown> } = {},
): IngotError {
  return new IngotError(ErrorCode.BmcError, `${ctx.operation} on BMC ${ctx.target} failed: ${why}`, {
    details: details(ctx, opts.extra),
    cause: opts.cause,
    retryable: opts.retryable ?? false,
  });
}

/** Removes user:password@ from a URL-ish address so it can appear in messages. */
export function redactAddress(address: string): string {
  try {
    const u = new URL(address);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return address.replace(/\/\/[^@/]*@/, '//');
  }
}
