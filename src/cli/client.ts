/** A small HTTP client for the region API, used by every CLI command. */
import { ErrorCode, IngotError, isIngotError } from '../core/errors.ts';
import { codeOfStatus } from '../core/http-status.ts';
import { createDispatcher, FingerprintMismatchError } from '../tls/pinned-dispatcher.ts';
import { type Agent, fetch as undiciFetch } from 'undici';
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
  INGOT_DRAIN_BLOCKED: Exit.Conflict,
  INGOT_OPERATION_RUNNING: Exit.Conflict,
  INGOT_UNAUTHENTICATED: Exit.Auth,
  INGOT_FORBIDDEN: Exit.Auth,
  INGOT_UNREACHABLE: Exit.Unreachable,
  INGOT_TLS_UNTRUSTED: Exit.Auth,
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

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/;

/**
 * The TLS failure behind a failed fetch, as an IngotError saying what to do; null when the
 * failure is not about trust (refused, reset, timeout).
 */
export function tlsFailure(e: unknown, url: string): IngotError | null {
  let c: unknown = e;
  for (let i = 0; c && i < 5; i++, c = (c as { cause?: unknown }).cause) {
    if (c instanceof FingerprintMismatchError)
      return new IngotError(
        ErrorCode.TlsUntrusted,
        `the region at ${url} showed the certificate sha256:${c.actual}, not the pinned sha256:${c.expected}: refusing to send the token. If the region's certificate really changed (regenerated or replaced), compare the new fingerprint with the one \`ingot serve\` printed or \`ingot tls\` shows on the region's host, then run \`ingot login ${url} --fingerprint sha256:${c.actual}\`; otherwise something between you and the region is answering in its place`,
        { details: { expected: `sha256:${c.expected}`, actual: `sha256:${c.actual}` } },
      );
    const code = (c as { code?: string }).code ?? '';
    if (TLS_CODES.test(code))
      return new IngotError(
        ErrorCode.TlsUntrusted,
        `the region at ${url} has a TLS certificate this machine does not trust (${code}); pin it: \`ingot login ${url}\` (shows its fingerprint to confirm) or --fingerprint sha256:… (INGOT_FINGERPRINT)`,
        { details: { tlsCode: code } },
      );
  }
  return null;
}

export class Client {
  readonly target: CliTarget;
  #dispatcher: Agent | null = null;
  constructor(target: CliTarget) {
    this.target = target;
  }

  /**
   * fetch to the region: over HTTPS with a pinned fingerprint only that certificate is accepted
   * (src/tls/pinned-dispatcher.ts, as the Redfish driver pins BMCs); without one, the system's
   * CAs decide.
   */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.target.url}${path}`;
    if (!this.target.fingerprint || !url.startsWith('https:')) return fetch(url, init);
    this.#dispatcher ??= createDispatcher({
      fingerprint: this.target.fingerprint,
      fieldName: '--fingerprint',
      // Uploads and imports answer when they are done: minutes, not seconds.
      timeoutMs: 300_000,
      bodyTimeoutMs: 0,
    });
    const opts = { ...init, dispatcher: this.#dispatcher } as Parameters<typeof undiciFetch>[1];
    return undiciFetch(url, opts) as unknown as Promise<Response>;
  }

  /** Closes the pinned connections (a CLI run ends with them otherwise kept alive). */
  async close(): Promise<void> {
    await this.#dispatcher?.close();
    this.#dispatcher = null;
  }

  headers(): Record<string, string> {
    return this.target.token ? { authorization: `Bearer ${this.target.token}` } : {};
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.fetch(path, {
        method,
        headers: { ...this.headers(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      const tls = tlsFailure(e, this.target.url);
      if (tls) throw tls;
      throw new IngotError(
        ErrorCode.Unreachable,
        `cannot reach the region at ${this.target.url} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is \`ingot serve\` running? Set --url or INGOT_URL${this.target.url.startsWith('http:') ? ' (regions serve HTTPS unless started with --http or --insecure-http: try https://)' : ''}`,
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
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
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
      res = await this.fetch(path, {
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
      const tls = tlsFailure(e, this.target.url);
      if (tls) throw tls;
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
    const res = await this.fetch(path, {
      headers: { ...this.headers(), accept: 'text/event-stream' },
      signal,
    }).catch((e) => {
      if (signal.aborted) return null;
      const tls = tlsFailure(e, this.target.url);
      if (tls) throw tls;
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
