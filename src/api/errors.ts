/**
 * The Fastify error handler: anything thrown becomes `{code, message, details}` with the status
 * of its code (the one table, src/core/http-status.ts).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { httpStatusOf } from '../core/http-status.ts';

/** `/body/bmc/address` + `must have required property 'password'` → `bmc.password`. */
function fieldOf(v: { instancePath?: string; params?: Record<string, unknown> }, context: string): string {
  const path = (v.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  const extra = (v.params?.missingProperty ?? v.params?.additionalProperty) as string | undefined;
  const full = [path, extra].filter(Boolean).join('.').replace('.[', '[');
  return full || context;
}

export function errorHandler(
  error: FastifyError | IngotError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error instanceof IngotError) {
    reply.status(httpStatusOf(error.code)).send(error.toJSON());
    return;
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const context = fe.validationContext ?? 'body';
    const problems = fe.validation.map((v) => {
      const field = fieldOf(v, context);
      const allowed = (v.params as { allowedValues?: unknown[] })?.allowedValues;
      let message = v.message ?? 'is invalid';
      if (v.keyword === 'additionalProperties') message = 'is not a known field; remove it';
      if (allowed) message = `must be one of ${allowed.join(', ')}`;
      return { field, message };
    });
    const first = problems[0];
    reply.status(400).send({
      code: ErrorCode.Validation,
      message: `${first.field}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}`,
      details: { field: first.field, problems },
    });
    return;
  }
  if (fe.statusCode && fe.statusCode < 500) {
    reply
      .status(fe.statusCode)
      .send({ code: ErrorCode.Validation, message: fe.message, details: { fastify: fe.code } });
    return;
  }
  req.log.error({ err: error }, 'unhandled error');
  reply.status(500).send({
    code: ErrorCode.Internal,
    message: 'internal error; the region log has the details',
    details: {},
  });
}
