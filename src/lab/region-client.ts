/**
 * How the lab enrols its machines: through the region's HTTP API, like any client — a subnet
 * for the lab network (so the region's DHCP serves it) and one `new` machine per VM with its BMC.
 * Re-running `lab up` reuses machines by MAC and points them at the new BMC address.
 */
import { fetch as undiciFetch } from 'undici';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { createDispatcher } from '../tls/pinned-dispatcher.ts';

export interface LabRegion {
  ensureSubnet(s: {
    name: string;
    cidr: string;
    rangeStart: string;
    rangeEnd: string;
    reservedStart?: string;
    reservedEnd?: string;
  }): Promise<string>;
  enrol(m: {
    hostname: string;
    mac: string;
    tags: string[];
    bmc: { address: string; username: string; password: string };
  }): Promise<string>;
}

/** `fingerprint`: the region's pinned certificate (the CLI's), trusted alone over HTTPS. */
export function apiRegion(url: string, token: string | null, fingerprint?: string | null): LabRegion {
  const base = `${url.replace(/\/+$/, '')}/api/v1`;
  const dispatcher =
    fingerprint && base.startsWith('https:') ? createDispatcher({ fingerprint, timeoutMs: 60_000 }) : null;
  const get = (u: string, init: RequestInit): Promise<Response> =>
    dispatcher
      ? (undiciFetch(u, { ...init, dispatcher } as Parameters<
          typeof undiciFetch
        >[1]) as unknown as Promise<Response>)
      : fetch(u, init);
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    let res: Response;
    try {
      res = await get(`${base}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new IngotError(
        ErrorCode.Config,
        `cannot reach the region at ${url} (${(e as Error).message}); start it with \`ingot serve\` or pass --url`,
      );
    }
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const fail = (what: string, r: { status: number; body: unknown }): never => {
    const msg = (r.body as { message?: string } | undefined)?.message ?? JSON.stringify(r.body);
    throw new IngotError(ErrorCode.Config, `${what}: region answered ${r.status}: ${msg}`);
  };
  return {
    async ensureSubnet(s) {
      const list = await call<{ id: string; name: string; cidr: string }[]>('GET', '/subnets');
      if (list.status !== 200) fail('listing subnets', list);
      const have = list.body.find((x) => x.cidr === s.cidr || x.name === s.name);
      if (have) return have.id;
      const r = await call<{ id: string }>('POST', '/subnets', {
        name: s.name,
        cidr: s.cidr,
        dhcpMode: 'full',
        ranges: [
          { kind: 'dynamic', start: s.rangeStart, end: s.rangeEnd },
          ...(s.reservedStart && s.reservedEnd
            ? [{ kind: 'reserved', start: s.reservedStart, end: s.reservedEnd }]
            : []),
        ],
      });
      if (r.status !== 201) fail(`creating subnet ${s.name}`, r);
      return r.body.id;
    },
    async enrol(m) {
      const found = await call<{ items: { id: string; nics: { mac: string }[] }[] }>(
        'GET',
        `/machines?q=${encodeURIComponent(m.mac)}&limit=10`,
      );
      if (found.status !== 200) fail('looking up lab machines', found);
      const existing = found.body.items.find((x) => x.nics.some((n) => n.mac === m.mac));
      if (existing) {
        const r = await call('PATCH', `/machines/${existing.id}`, { bmc: m.bmc });
        if (r.status !== 200) fail(`updating the BMC of ${m.hostname}`, r);
        return existing.id;
      }
      const r = await call<{ id: string }>('POST', '/machines', {
        hostname: m.hostname,
        nics: [{ mac: m.mac, boot: true }],
        bmc: m.bmc,
        tags: m.tags,
      });
      if (r.status !== 201) fail(`enrolling ${m.hostname}`, r);
      return r.body.id;
    },
  };
}
