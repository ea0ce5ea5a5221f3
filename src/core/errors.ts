/**
 * The one error type of Ingot. Every failure a user can see carries a stable code
 * (`INGOT_…`), a message that says what to do next, and optional structured details.
 * Codes map to HTTP statuses in one place (src/core/http-status.ts).
 */
export const ErrorCode = {
  /** Input failed validation; `details.field` names the field. */
  Validation: 'INGOT_VALIDATION',
  NotFound: 'INGOT_NOT_FOUND',
  MachineNotFound: 'INGOT_MACHINE_NOT_FOUND',
  SubnetNotFound: 'INGOT_SUBNET_NOT_FOUND',
  TokenNotFound: 'INGOT_TOKEN_NOT_FOUND',
  JobNotFound: 'INGOT_JOB_NOT_FOUND',
  /** A resource with the same unique key (MAC, hostname, CIDR) exists. */
  Conflict: 'INGOT_CONFLICT',
  /** The machine's state forbids the action; `details` has state and allowed actions. */
  InvalidTransition: 'INGOT_INVALID_TRANSITION',
  /** A compare-and-set lost a race; the caller should re-read and retry. */
  ConcurrentUpdate: 'INGOT_CONCURRENT_UPDATE',
  /** The request is too big for the route (body, path, headers) or took too long to arrive. */
  PayloadTooLarge: 'INGOT_PAYLOAD_TOO_LARGE',
  UriTooLong: 'INGOT_URI_TOO_LONG',
  HeadersTooLarge: 'INGOT_HEADERS_TOO_LARGE',
  RequestTimeout: 'INGOT_REQUEST_TIMEOUT',
  /** The body's Content-Type is not one the route reads. */
  UnsupportedMediaType: 'INGOT_UNSUPPORTED_MEDIA_TYPE',
  /** The path exists, the method does not (the rack's agent endpoints). */
  MethodNotAllowed: 'INGOT_METHOD_NOT_ALLOWED',
  Unauthenticated: 'INGOT_UNAUTHENTICATED',
  Forbidden: 'INGOT_FORBIDDEN',
  /** IP address management: no free address in the range. */
  IpExhausted: 'INGOT_IP_EXHAUSTED',
  BmcUnsupported: 'INGOT_BMC_UNSUPPORTED',
  BmcUnreachable: 'INGOT_BMC_UNREACHABLE',
  BmcAuth: 'INGOT_BMC_AUTH',
  BmcError: 'INGOT_BMC_ERROR',
  AgentError: 'INGOT_AGENT_ERROR',
  /** A workflow step failed for good (retries exhausted or not retryable). */
  StepFailed: 'INGOT_STEP_FAILED',
  /** A drain cannot finish: an eviction is refused (`details.pdb` names the PodDisruptionBudget). */
  DrainBlocked: 'INGOT_DRAIN_BLOCKED',
  /** The cluster already runs an operation (`details.operation` names it): one at a time. */
  OperationRunning: 'INGOT_OPERATION_RUNNING',
  Timeout: 'INGOT_TIMEOUT',
  /** A service this process needs did not answer (the region, for the CLI). */
  Unreachable: 'INGOT_UNREACHABLE',
  /** The server's TLS certificate is not the pinned one, or not trusted at all. */
  TlsUntrusted: 'INGOT_TLS_UNTRUSTED',
  Config: 'INGOT_CONFIG',
  Store: 'INGOT_STORE',
  /** A service that cannot answer yet (the rack has no ephemeral OS image to boot). */
  Unavailable: 'INGOT_UNAVAILABLE',
  Internal: 'INGOT_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface IngotErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Whether retrying the same operation later may succeed (network blips, 5xx). */
  retryable?: boolean;
}

export class IngotError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: IngotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngotError';
    this.code = code;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? false;
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A validation error naming the field path, e.g. `bmc.address`. */
export function invalid(field: string, message: string, details: Record<string, unknown> = {}): IngotError {
  return new IngotError(ErrorCode.Validation, `${field}: ${message}`, { details: { field, ...details } });
}

export function isIngotError(e: unknown, code?: ErrorCode): e is IngotError {
  return e instanceof IngotError && (code === undefined || e.code === code);
}

/** Wraps anything thrown into an IngotError without losing the cause. */
export function toIngotError(e: unknown): IngotError {
  if (e instanceof IngotError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new IngotError(ErrorCode.Internal, message, { cause: e });
}
