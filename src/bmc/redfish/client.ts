/**
 * A thin Redfish HTTP client: sessions (X-Auth-Token) with basic-auth fallback, timeouts,
 * retries with capped backoff on 5xx and network failures, ETag/If-Match with one retry after
 * 412, and collection paging. Every error names the operation and the BMC, never the password.
 *
 * Paths are used as the BMC writes them, with or without a trailing slash. Some BMCs (HPE
 * iLO) answer a path without its slash with a 301 to the slashed one, for every method: the
 * client repeats the request there (same method and body) and remembers the move, but only on
 * the BMC's own origin — a redirect to another host is an error, and nothing (no password, no
 * session token) is sent to it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, type Dispatcher, request } from 'undici';
import { IngotError } from '../../core/errors.ts';
import { bmcAuth, bmcError, bmcUnreachable, type BmcErrorContext } from '../errors.ts';
import { FingerprintMismatchError } from '../../tls/pinned-dispatcher.ts';

// biome-ignore lint/suspicious/noExplicitAny: Redfish bodies vary by vendor; readers narrow each field they use.
export type Json = Record<string, any>;

export interface RedfishClientOptions {
  /** `https://host:port` */
  readonly origin: string;
  /** For messages: the address without credentials. */
  readonly target: string;
  readonly username: string;
  readonly password: string;
  readonly dispatcher: Agent;
  /** Attempts after the first on 5xx, timeouts and connection errors. @default 3 */
  readonly retries?: number;
  /** First backoff; doubles per attempt, capped at 5 s, ±50% jitter. @default 200 ms */
  readonly backoffMs?: number;
}

export interface RedfishResponse {
  readonly status: number;
  readonly body: Json;
  readonly etag: string | undefined;
}

const RETRY_STATUS = new Set([500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The HTTP status of a Redfish error, if it came from an HTTP answer. */
export function statusOf(e: unknown): number | undefined {
  return e instanceof IngotError && typeof e.details.status === 'number' ? e.details.status : undefined;
}

export class RedfishClient {
  private readonly opts: RedfishClientOptions;
  private readonly retries: number;
  private readonly backoffMs: number;
  private mode: 'unknown' | 'session' | 'basic' = 'unknown';
  private token: string | null = null;
  private sessionUri: string | null = null;
  private login: Promise<void> | null = null;
  private root: Json | null = null;
  private closed = false;
  /** Paths the BMC redirected (on its own origin), to the path it redirected them to. */
  private readonly moved = new Map<string, string>();

  constructor(opts: RedfishClientOptions) {
    this.opts = opts;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 200;
  }

  /** The service root (unauthenticated, cached). */
  async serviceRoot(op: string): Promise<Json> {
    this.root ??= (await this.send('GET', '/redfish/v1/', undefined, op, { auth: false })).body;
    return this.root;
  }

  get(path: string, op: string): Promise<RedfishResponse> {
    return this.send('GET', path, undefined, op);
  }

  post(path: string, body: unknown, op: string): Promise<RedfishResponse> {
    return this.send('POST', path, body, op);
  }

  /** PATCH with If-Match; after a 412 the ETag is re-read and the PATCH tried once more. */
  async patch(path: string, body: unknown, op: string, etag?: string): Promise<RedfishResponse> {
    try {
      return await this.send('PATCH', path, body, op, { etag });
    } catch (e) {
      if (statusOf(e) !== 412) throw e;
      const fresh = await this.get(path, op);
      return this.send('PATCH', path, body, op, { etag: fresh.etag });
    }
  }

  /** All members of a collection, following `Members@odata.nextLink`. */
  async members(path: string, op: string): Promise<Json[]> {
    const out: Json[] = [];
    let next: string | undefined = path;
    for (let page = 0; next && page < 1000; page++) {
      const { body }: RedfishResponse = await this.get(next, op);
      out.push(...((body.Members as Json[] | undefined) ?? []));
      next = body['Members@odata.nextLink'];
    }
    return out;
  }

  /** Logs out (deletes the session) and closes sockets. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sessionUri && this.token) {
      try {
        const res = await this.request('DELETE', this.sessionUri, { 'X-Auth-Token': this.token }, undefined, {
          operation: 'log out',
          target: this.opts.target,
        });
        await res.body.dump();
      } catch {
        // Best effort: the BMC expires the session on its own.
      }
    }
    this.token = null;
    await this.opts.dispatcher.close();
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    op: string,
    o: { auth?: boolean; etag?: string } = {},
  ): Promise<RedfishResponse> {
    const ctx: BmcErrorContext = { operation: op, target: this.opts.target };
    if (this.closed) throw bmcError(ctx, 'the driver was closed');
    // Links are paths, but some BMCs write absolute URLs: keep only the path, on our own origin,
    // so a link can never send credentials to another host.
    if (/^https?:\/\//i.test(path)) {
      const u = new URL(path);
      path = u.pathname + u.search;
    }
    // POSTs (resets) are retried too: after a timeout the BMC may or may not have acted, and the
    // caller re-reads the power state anyway; a lost reset is worse than a repeated one.
    let relogged = false;
    for (let attempt = 0; ; attempt++) {
      if (o.auth !== false) await this.authenticate(op);
      const headers: Record<string, string> = { Accept: 'application/json', 'OData-Version': '4.0' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (o.etag) headers['If-Match'] = o.etag;
      if (o.auth !== false) Object.assign(headers, this.authHeaders());
      let status: number;
      let json: Json;
      let etag: string | undefined;
      try {
        const res = await this.request(
          method,
          path,
          headers,
          body === undefined ? undefined : JSON.stringify(body),
          ctx,
        );
        status = res.statusCode;
        const text = await res.body.text();
        json = parseJson(text);
        const h = res.headers.etag;
        etag =
          (Array.isArray(h) ? h[0] : h) ??
          (typeof json['@odata.etag'] === 'string' ? json['@odata.etag'] : undefined);
      } catch (e) {
        const fatal = classifyFailure(e, ctx);
        if (fatal) throw fatal;
        if (attempt < this.retries) {
          await this.backoff(attempt);
          continue;
        }
        throw bmcUnreachable(ctx, `${describe(e)} after ${attempt + 1} attempts`, e);
      }
      if (status >= 200 && status < 300) return { status, body: json, etag };
      if (status === 401 && o.auth !== false) {
        // A session can be dropped by the BMC at any time: log in again once, then give up.
        if (this.mode === 'session' && !relogged) {
          relogged = true;
          this.dropSession();
          attempt--;
          continue;
        }
        throw bmcAuth(ctx, `HTTP 401 on ${method} ${path}`);
      }
      if (RETRY_STATUS.has(status) && attempt < this.retries) {
        await this.backoff(attempt);
        continue;
      }
      throw bmcError(ctx, `HTTP ${status} on ${method} ${path}: ${redfishMessage(json)}`, {
        retryable: RETRY_STATUS.has(status) || status === 412,
        extra: { status },
      });
    }
  }

  /**
   * One HTTP exchange with the BMC, following its redirects on its own origin (the same
   * method and body at each hop; 303 turns into a GET). A move is remembered, so a path the BMC
   * redirects costs one round trip once. A redirect elsewhere is refused before anything is sent.
   */
  private async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    ctx: BmcErrorContext,
  ): Promise<Dispatcher.ResponseData> {
    let current = this.moved.get(path) ?? path;
    for (let hop = 0; ; hop++) {
      const res = await request(this.opts.origin + current, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        dispatcher: this.opts.dispatcher,
      });
      const location = res.headers.location;
      if (!REDIRECT_STATUS.has(res.statusCode) || typeof location !== 'string') return res;
      await res.body.dump();
      const next = new URL(location, this.opts.origin + current);
      if (next.origin !== new URL(this.opts.origin).origin)
        throw bmcError(
          ctx,
          `it redirected ${method} ${current} to another host (${next.origin}); Ingot sends a BMC's credentials only to the BMC itself: check the machine's BMC address`,
        );
      if (hop >= MAX_REDIRECTS) throw bmcError(ctx, `more than ${MAX_REDIRECTS} redirects from ${path}`);
      current = next.pathname + next.search;
      if (this.moved.size < 1024) this.moved.set(path, current);
      if (res.statusCode === 303) {
        method = 'GET';
        body = undefined;
      }
    }
  }

  private authHeaders(): Record<string, string> {
    if (this.mode === 'session' && this.token) return { 'X-Auth-Token': this.token };
    return {
      Authorization: `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64')}`,
    };
  }

  private dropSession(): void {
    this.mode = 'unknown';
    this.token = null;
    this.sessionUri = null;
  }

  /** Logs in once for all concurrent callers. */
  private async authenticate(op: string): Promise<void> {
    if (this.mode !== 'unknown') return;
    this.login ??= this.createSession(op).finally(() => {
      this.login = null;
    });
    await this.login;
  }

  private async createSession(op: string): Promise<void> {
    const root = await this.serviceRoot(op).catch(() => ({}) as Json);
    const path: string = root.Links?.Sessions?.['@odata.id'] ?? '/redfish/v1/SessionService/Sessions';
    const ctx = { operation: op, target: this.opts.target };
    const creds = { UserName: this.opts.username, Password: this.opts.password };
    for (let attempt = 0; ; attempt++) {
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await this.request(
          'POST',
          path,
          { 'Content-Type': 'application/json', Accept: 'application/json' },
          JSON.stringify(creds),
          ctx,
        );
        await res.body.dump();
      } catch (e) {
        const fatal = classifyFailure(e, ctx);
        if (fatal) throw fatal;
        if (attempt < this.retries) {
          await this.backoff(attempt);
          continue;
        }
        throw bmcUnreachable(ctx, `${describe(e)} while logging in, after ${attempt + 1} attempts`, e);
      }
      const token = res.headers['x-auth-token'];
      if (res.statusCode >= 200 && res.statusCode < 300 && typeof token === 'string') {
        this.token = token;
        const loc = res.headers.location;
        this.sessionUri = typeof loc === 'string' ? new URL(loc, this.opts.origin).pathname : null;
        this.mode = 'session';
        return;
      }
      if (res.statusCode === 401 || res.statusCode === 403)
        throw bmcAuth(ctx, `session login answered HTTP ${res.statusCode}`);
      if (RETRY_STATUS.has(res.statusCode) && attempt < this.retries) {
        await this.backoff(attempt);
        continue;
      }
      // No usable SessionService (404, 405, 501, or a 2xx without a token): fall back to basic auth.
      this.mode = 'basic';
      return;
    }
  }

  private backoff(attempt: number): Promise<void> {
    const base = Math.min(5000, this.backoffMs * 2 ** attempt);
    return sleep(base * (0.5 + Math.random()));
  }
}

function describe(e: unknown): string {
  return (e as { code?: string }).code || (e as Error).message || String(e);
}

/** An error that retrying cannot fix (TLS trust), or null for a retryable network failure. */
function classifyFailure(e: unknown, ctx: BmcErrorContext): IngotError | null {
  // Our own refusals (a redirect to another host) are final as they are.
  if (e instanceof IngotError) return e;
  if (e instanceof FingerprintMismatchError) {
    return bmcError(
      ctx,
      `${e.message}; if the BMC's certificate really changed, pin the new fingerprint (tlsFingerprint)`,
      { cause: e },
    );
  }
  const code = (e as { code?: string }).code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
    return bmcError(
      ctx,
      `its TLS certificate is not trusted (${code}); pin the certificate's SHA-256 fingerprint with the tlsFingerprint option or ?fingerprint= in the address`,
      { cause: e },
    );
  }
  if (NETWORK_CODES.has(code) || (e instanceof Error && e.name === 'AbortError')) return null;
  return bmcError(ctx, describe(e), { cause: e, retryable: true });
}

function parseJson(text: string): Json {
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' ? v : { value: v };
  } catch {
    return { text: text.slice(0, 200) };
  }
}

/** The first `@Message.ExtendedInfo` message of a Redfish error body, or its `message`. */
export function redfishMessage(body: Json): string {
  const err = body.error ?? {};
  const info = err['@Message.ExtendedInfo']?.[0];
  const msg: string = info?.Message ?? err.message ?? body.text ?? 'no error details';
  return info?.Resolution ? `${msg} (${info.Resolution})` : msg;
}
