/**
 * The one table from Ingot error codes to HTTP statuses. Pure, so both HTTP faces of Ingot use
 * it: the region's API (src/api/errors.ts) and the rack's boot HTTP server (src/netboot/http).
 */
import type { ErrorCode } from './errors.ts';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INGOT_VALIDATION: 400,
  INGOT_CONFIG: 400,
  INGOT_NOT_FOUND: 404,
  INGOT_MACHINE_NOT_FOUND: 404,
  INGOT_SUBNET_NOT_FOUND: 404,
  INGOT_TOKEN_NOT_FOUND: 404,
  INGOT_JOB_NOT_FOUND: 404,
  INGOT_CONFLICT: 409,
  INGOT_INVALID_TRANSITION: 409,
  INGOT_CONCURRENT_UPDATE: 409,
  INGOT_IP_EXHAUSTED: 409,
  INGOT_DRAIN_BLOCKED: 409,
  INGOT_OPERATION_RUNNING: 409,
  INGOT_REQUEST_TIMEOUT: 408,
  INGOT_PAYLOAD_TOO_LARGE: 413,
  INGOT_URI_TOO_LONG: 414,
  INGOT_UNSUPPORTED_MEDIA_TYPE: 415,
  INGOT_METHOD_NOT_ALLOWED: 405,
  INGOT_HEADERS_TOO_LARGE: 431,
  INGOT_UNAUTHENTICATED: 401,
  INGOT_FORBIDDEN: 403,
  INGOT_BMC_UNSUPPORTED: 422,
  INGOT_BMC_UNREACHABLE: 502,
  INGOT_BMC_AUTH: 502,
  INGOT_BMC_ERROR: 502,
  INGOT_AGENT_ERROR: 502,
  INGOT_STEP_FAILED: 500,
  INGOT_TIMEOUT: 504,
  INGOT_UNREACHABLE: 502,
  INGOT_TLS_UNTRUSTED: 502,
  INGOT_STORE: 503,
  INGOT_UNAVAILABLE: 503,
  INGOT_INTERNAL: 500,
};

/** The HTTP status of an error code (500 for a code the table does not know). */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code] ?? 500;
}

/**
 * The code of an answer that carries only its HTTP status (Fastify's own 4xx, a proxy's page):
 * the generic code of that status, or undefined when the status has none.
 */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'INGOT_VALIDATION',
  401: 'INGOT_UNAUTHENTICATED',
  403: 'INGOT_FORBIDDEN',
  404: 'INGOT_NOT_FOUND',
  405: 'INGOT_METHOD_NOT_ALLOWED',
  408: 'INGOT_REQUEST_TIMEOUT',
  409: 'INGOT_CONFLICT',
  413: 'INGOT_PAYLOAD_TOO_LARGE',
  414: 'INGOT_URI_TOO_LONG',
  415: 'INGOT_UNSUPPORTED_MEDIA_TYPE',
  431: 'INGOT_HEADERS_TOO_LARGE',
};

export function codeOfStatus(status: number): ErrorCode | undefined {
  return CODE_OF_STATUS[status];
}
