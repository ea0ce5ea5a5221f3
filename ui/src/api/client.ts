/**
 * The console's only door to the region: fetch with the bearer token, JSON in and out, and
 * the API's error body ({code, message, details}) turned into an ApiError.
 */
import type {
  Action,
  ActionParams,
  ActionResult,
  ErrorBody,
  Image,
  IngotEvent,
  IpAllocation,
  Job,
  Machine,
  MachinePage,
  MachineQuery,
  Subnet,
  Token,
} from './types.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(status: number, body: Partial<ErrorBody>) {
    super(body.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code ?? 'INGOT_HTTP';
    this.details = body.details ?? {};
  }
}

function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export class ApiClient {
  readonly token: string;
  readonly base: string;
  readonly #fetch: typeof fetch;

  constructor(token: string, base = '', fetchImpl: typeof fetch = (...a) => fetch(...a)) {
    this.token = token;
    this.base = base;
    this.#fetch = fetchImpl;
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.base}/api/v1${path}`, {
        method,
        signal,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new ApiError(0, {
        code: 'INGOT_UNREACHABLE',
        message: 'the region did not answer; check that `ingot serve` is running',
      });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = { message: text };
    }
    if (!res.ok) throw new ApiError(res.status, (parsed ?? {}) as Partial<ErrorBody>);
    return parsed as T;
  }

  whoami = () => this.request<Token>('GET', '/whoami');
  listMachines = (q: MachineQuery, signal?: AbortSignal) =>
    this.request<MachinePage>('GET', `/machines${query(q)}`, undefined, signal);
  getMachine = (id: string) => this.request<Machine>('GET', `/machines/${encodeURIComponent(id)}`);
  machineEvents = (id: string, after?: number) =>
    this.request<IngotEvent[]>(
      'GET',
      `/machines/${encodeURIComponent(id)}/events${query({ after, limit: 1000 })}`,
    );
  machineJobs = (id: string) => this.request<Job[]>('GET', `/machines/${encodeURIComponent(id)}/jobs`);
  act = (id: string, action: Action, params?: ActionParams, comment?: string) =>
    this.request<ActionResult>('POST', `/machines/${encodeURIComponent(id)}/actions/${action}`, {
      ...(params ? { params } : {}),
      ...(comment ? { comment } : {}),
    });
  listImages = () => this.request<Image[]>('GET', '/images');
  listSubnets = () => this.request<Subnet[]>('GET', '/subnets');
  subnetAddresses = (id: string) =>
    this.request<IpAllocation[]>('GET', `/subnets/${encodeURIComponent(id)}/addresses`);
}
