/** A small HTTP client for the region API, used by every CLI command. */
import { ErrorCode, IngotError, isIngotError } from '../core/errors.ts';
import { codeOfStatus } from '../core/http-status.ts';
import type { CliTarget } from './config.ts';

/** Exit codes scripts can trust. */
export const Exit = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  NotFound: 3,
  Conflict: 4,
  Auth: 5,
  Unreachable: 6,
  ActionFailed: 7,
  Timeout: 8,
} as const;
export type Exit = (typeof Exit)[keyof typeof Exit];

/** Exit codes for error codes: a script can branch on the kind of failure. */
const EXIT_BY_CODE: Partial<Record<ErrorCode, Exit>> = {
  INGOT_VALIDATION: Exit.Usage,
  INGOT_CONFIG: Exit.Usage,
  INGOT_PAYLOAD_TOO_LARGE: Exit.Usage,
  INGOT_URI_TOO_LONG: Exit.Usage,
  INGOT_UNSUPPORTED_MEDIA_TYPE: Exit.Usage,
  INGOT_HEADERS_TOO_LARGE: Exit.Usage,
  INGOT_NOT_FOUND: Exit.NotFound,
  INGOT_MACHINE_NOT_FOUND: Exit.NotFound,
  INGOT_SUBNET_NOT_FOUND: Exit.NotFound,
  INGOT_TOKEN_NOT_FOUND: Exit.NotFound,
  INGOT_JOB_NOT_FOUND: Exit.NotFound,
  INGOT_CONFLICT: Exit.Conflict,
  INGOT_INVALID_TRANSITION: Exit.Conflict,
  INGOT_CONCURRENT_UPDATE: Exit.Conflict,
  INGOT_IP_EXHAUSTED: Exit.Conflict,
  INGOT_UNAUTHENTICATED: Exit.Auth,
  INGOT_FORBIDDEN: Exit.Auth,
  INGOT_UNREACHABLE: Exit.Unreachable,
  INGOT_STEP_FAILED: Exit.ActionFailed,
  INGOT_TIMEOUT: Exit.Timeout,
  INGOT_REQUEST_TIMEOUT: Exit.Timeout,
};

/** The exit code of an error: by its code when it is an IngotError, else a plain failure. */
export function exitFor(e: unknown): Exit {
  return isIngotError(e) ? (EXIT_BY_CODE[e.code] ?? Exit.Error) : Exit.Error;
}

/**
 * A region's error answer as an IngotError: its `{code, message, details}` when it sent one
 * this CLI knows, else a code from the HTTP status (a proxy's page, a newer region's code).
 */
export function errorFromResponse(status: number, body: unknown): IngotError {
  const err = (body ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  const known = (Object.values(ErrorCode) as string[]).includes(err.code ?? '');
  return new IngotError(
    known ? (err.code as ErrorCode) : (codeOfStatus(status) ?? ErrorCode.Internal),
    err.message ?? `HTTP ${status}`,
    { details: { ...err.details, ...(known || !err.code ? {} : { regionCode: err.code }) } },
  );
}

export class Client {
  readonly target: CliTarget;
  constructor(target: CliTarget) {
    this.target = target;
  }

  headers(): Record<string, string> {
    return this.target.token ? { authorization: `Bearer ${this.target.token}` } : {};
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, {
        method,
        headers: { ...this.headers(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new IngotError(
        ErrorCode.Unreachable,
        `cannot reach the region at ${this.target.url} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is \`ingot serve\` running? Set --url or INGOT_URL`,
      );
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) throw errorFromResponse(res.status, json);
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  /**
   * Streams `body` as `application/octet-stream` (a file, or a tar made on the fly) with the
   * method given; `size` sets Content-Length when known. Errors come back as IngotErrors.
   */
  async upload<T>(method: 'PUT' | 'POST', path: string, body: ReadableStream, size?: number): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, {
        method,
        headers: {
          ...this.headers(),
          'content-type': 'application/octet-stream',
          ...(size === undefined ? {} : { 'content-length': String(size) }),
        },
        body,
        duplex: 'half',
      } as RequestInit);
    } catch (e) {
      const err = e as Error & { cause?: Error };
      if (err.cause instanceof IngotError) throw err.cause;
      throw new IngotError(
        ErrorCode.Unreachable,
        `cannot upload to the region at ${this.target.url}: ${err.cause?.message ?? err.message}`,
      );
    }
    const json = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string };
    if (!res.ok) throw errorFromResponse(res.status, json);
    return json;
  }

  /** Follows the SSE stream, calling `onEvent` for each event until `signal` aborts. */
  async stream(
    path: string,
    onEvent: (e: { id: number; type: string } & Record<string, unknown>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await fetch(`${this.target.url}${path}`, {
      headers: { ...this.headers(), accept: 'text/event-stream' },
      signal,
    }).catch((e) => {
      if (signal.aborted) return null;
      throw new IngotError(
        ErrorCode.Unreachable,
        `cannot reach the region at ${this.target.url}: ${(e as Error).message}`,
      );
    });
    if (!res) return;
    if (!res.ok || !res.body)
      throw errorFromResponse(res.status, { message: `event stream refused: HTTP ${res.status}` });
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) onEvent(JSON.parse(data));
          i = buf.indexOf('\n\n');
        }
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    }
  }
}
