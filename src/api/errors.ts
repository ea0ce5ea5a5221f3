/**
 * The handlers that turn anything that goes wrong — thrown by a route, raised by Fastify itself
 * (validation, body parsing, bad URLs) or by Node's HTTP parser (oversized headers, malformed
 * requests) — into `{code, message, details}`, with the status of its code (the one table,
 * src/core/http-status.ts).
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';
import { fieldPathOf } from '../core/field-path.ts';
import { codeOfStatus, httpStatusOf } from '../core/http-status.ts';

/** A request path for a message: bounded, so a 60 kB path does not come back in the answer. */
const shortPath = (url: string): string => {
  const p = url.split('?')[0];
  return p.length > 120 ? `${p.slice(0, 120)}…` : p;
};

/**
 * Fastify's own errors (its `FST_ERR_…` codes), each as the IngotError a client can act on.
 * Anything Fastify raises that is not listed keeps its status through `byStatus`.
 */
const FRAMEWORK: Readonly<Record<string, (e: FastifyError, req: FastifyRequest) => IngotError>> = {
  FST_ERR_BAD_URL: (_e, req) =>
    invalid(
      'path',
      `"${shortPath(req.url)}" is not a valid URL (bad percent-encoding); encode path segments with encodeURIComponent`,
    ),
  FST_ERR_MAX_PARAM_LENGTH: (_e, req) =>
    new IngotError(
      ErrorCode.UriTooLong,
      `path: a parameter of "${shortPath(req.url)}" is too long; ids and names are at most 128 characters`,
      { details: { field: 'path' } },
    ),
  FST_ERR_CTP_BODY_TOO_LARGE: (_e, req) =>
    new IngotError(
      ErrorCode.PayloadTooLarge,
      `body: larger than ${req.routeOptions.bodyLimit ?? 1_048_576} bytes, the most this route takes; send less`,
      { details: { field: 'body', limit: req.routeOptions.bodyLimit } },
    ),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (_e, req) =>
    new IngotError(
      ErrorCode.UnsupportedMediaType,
      `body: Content-Type ${JSON.stringify(String(req.headers['content-type'] ?? '').slice(0, 100))} is not accepted here; send application/json`,
      { details: { field: 'body' } },
    ),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    invalid('body', 'its length does not match the Content-Length header; send the body as declared'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => invalid('body', 'is empty; send a JSON object'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => invalid('body', 'is not valid JSON; send a JSON object'),
};

/** An IngotError for a status Fastify chose that has no entry in FRAMEWORK (a 4xx). */
function byStatus(status: number, message: string): IngotError {
  return new IngotError(codeOfStatus(status) ?? ErrorCode.Validation, message);
}

/** `/body/bmc/address` + `must have required property 'password'` → `bmc.password`. */
function fieldOf(v: { instancePath?: string; params?: Record<string, unknown> }, context: string): string {
  return fieldPathOf(v) || context;
}

/** Fastify's schema validation failure, naming the field. */
function validationError(fe: FastifyError): IngotError {
  const context = fe.validationContext ?? 'body';
  const problems = (fe.validation ?? []).map((v) => {
    const field = fieldOf(v, context);
    const allowed = (v.params as { allowedValues?: unknown[] })?.allowedValues;
    let message = v.message ?? 'is invalid';
    if (v.keyword === 'additionalProperties') message = 'is not a known field; remove it';
    if (allowed) message = `must be one of ${allowed.join(', ')}`;
    return { field, message };
  });
  const first = problems[0] ?? { field: context, message: 'is invalid' };
  const more =
    problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return new IngotError(ErrorCode.Validation, `${first.field}: ${first.message}${more}`, {
    details: { field: first.field, problems },
  });
}

/** Whatever was thrown, as the IngotError the client sees. */
export function toApiError(error: unknown, req: FastifyRequest): IngotError {
  if (error instanceof IngotError) return error;
  const fe = error as FastifyError;
  if (fe.validation) return validationError(fe);
  const framework = fe.code ? FRAMEWORK[fe.code] : undefined;
  if (framework) return framework(fe, req);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
    return byStatus(fe.statusCode, fe.message.slice(0, 300));
  return new IngotError(ErrorCode.Internal, 'internal error; the region log has the details');
}

export function errorHandler(error: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const e = toApiError(error, req);
  const status = httpStatusOf(e.code);
  if (status >= 500 && !(error instanceof IngotError)) req.log.error({ err: error }, 'unhandled error');
  reply.status(status).send(e.toJSON());
}

/** Fastify's `frameworkErrors`: bad percent-encoding and over-long parameters, before routing. */
export function frameworkErrors(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  errorHandler(error, req, reply);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  errorHandler(
    new IngotError(
      ErrorCode.NotFound,
      `no route ${req.method} ${shortPath(req.url)}; see /api/v1/openapi.json`,
    ),
    req,
    reply,
  );
}

/**
 * Node's `clientError`: requests its HTTP parser refuses (headers too large, bytes that are
 * not HTTP, a non-ASCII request line) never reach Fastify; answer them in the same shape.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new IngotError(
          ErrorCode.HeadersTooLarge,
          'headers: larger than 16 KiB in total; send fewer or shorter headers',
        )
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new IngotError(ErrorCode.RequestTimeout, 'the request took too long to arrive; send it again')
        : invalid(
            'request',
            'is not a valid HTTP/1.1 request (malformed request line or headers; paths must be ASCII, percent-encode the rest)',
          );
  const status = httpStatusOf(e.code);
  const body = JSON.stringify(e.toJSON());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
