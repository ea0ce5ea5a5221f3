/** A small HTTP client for the region API, used by every CLI command. */
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

export class CliError extends Error {
  readonly exitCode: Exit;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(message: string, exitCode: Exit, code = 'INGOT_CLI', details: Record<string, unknown> = {}) {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
    this.details = details;
  }
}

/** The exit code for an HTTP error status. */
export function exitFor(status: number): Exit {
  if (status === 401 || status === 403) return Exit.Auth;
  if (status === 404) return Exit.NotFound;
  if (status === 409) return Exit.Conflict;
  if (status === 400) return Exit.Usage;
  return Exit.Error;
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
      throw new CliError(
        `cannot reach the region at ${this.target.url} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is \`ingot serve\` running? Set --url or INGOT_URL`,
        Exit.Unreachable,
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
    if (!res.ok) {
      const err = (json ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
      throw new CliError(
        err.message ?? `HTTP ${res.status}`,
        exitFor(res.status),
        err.code ?? `HTTP_${res.status}`,
        err.details ?? {},
      );
    }
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
   * method given; `size` sets Content-Length when known. Errors come back as CliErrors.
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
      if (err.cause instanceof CliError) throw err.cause;
      throw new CliError(
        `cannot upload to the region at ${this.target.url}: ${err.cause?.message ?? err.message}`,
        Exit.Unreachable,
      );
    }
    const json = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string };
    if (!res.ok)
      throw new CliError(
        json.message ?? `HTTP ${res.status}`,
        exitFor(res.status),
        json.code ?? `HTTP_${res.status}`,
      );
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
      throw new CliError(
        `cannot reach the region at ${this.target.url}: ${(e as Error).message}`,
        Exit.Unreachable,
      );
    });
    if (!res) return;
    if (!res.ok || !res.body)
      throw new CliError(`event stream refused: HTTP ${res.status}`, exitFor(res.status));
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
