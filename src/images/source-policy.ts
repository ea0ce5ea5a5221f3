/**
 * Where a URL import may fetch from: one policy for OS images (src/images/registry.ts) and
 * Kubernetes bundles (src/bundles/url-source.ts). An admin's `POST /images {url}` or
 * `POST /bundles {url}` makes the region open a connection: without a policy, that reaches
 * services only the region's host can reach (its own API and database on loopback, a cloud's
 * metadata service on link-local). Refused unless an operator opts in
 * (`ingot serve --allow-private-sources [CIDR,…]`):
 *
 * - loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), unspecified,
 *   multicast and reserved addresses (IPv4-mapped IPv6 addresses count as their IPv4 one:
 *   net.BlockList compares them so);
 * - every address of the region's own interfaces.
 *
 * Private networks (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed: that is where a
 * datacenter's image mirrors live.
 *
 * Checked three times, so neither DNS rebinding nor a redirect gets around it: the URL's host
 * is resolved before the import is accepted (a clear 400), each connection's lookup refuses
 * a refused address, and each connected socket's peer address is checked again (IP literals
 * skip lookup). Redirects are followed by hand (`open`), each hop through the same checks.
 */
import { lookup as dnsLookup } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';

export interface SourcePolicyOptions {
  /**
   * Allow refused addresses too: `true` for any, or a list of addresses and CIDRs
   * (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`) for those. @default refuse them all
   */
  readonly allowPrivate?: boolean | readonly string[];
  /** The region host's own addresses. @default the addresses of os.networkInterfaces() */
  readonly ownAddresses?: () => readonly string[];
}

/** Redirects an import follows, each hop checked like the first URL. */
const MAX_REDIRECTS = 5;

const REFUSED: readonly [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'an unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

/** A refused connection; its message says why and what to do. */
export class RefusedSource extends IngotError {
  constructor(field: string, what: string, address: string, why: string) {
    super(
      ErrorCode.Validation,
      `${field}: ${what} is ${address}, ${why}: the region does not fetch imports from its own host, loopback or link-local addresses; an operator can allow them with \`ingot serve --allow-private-sources\``,
      { details: { field, address } },
    );
  }
}

export class SourcePolicy {
  readonly #allowAll: boolean;
  readonly #allowed = new BlockList();
  readonly #refused: { list: BlockList; why: string }[];
  readonly #own: () => readonly string[];

  constructor(o: SourcePolicyOptions = {}) {
    this.#allowAll = o.allowPrivate === true;
    for (const entry of Array.isArray(o.allowPrivate) ? o.allowPrivate : []) addAllowed(this.#allowed, entry);
    this.#refused = REFUSED.map(([net, prefix, family, why]) => {
      const list = new BlockList();
      list.addSubnet(net, prefix, family);
      return { list, why };
    });
    this.#own = o.ownAddresses ?? ownInterfaceAddresses;
  }

  /** Why the region will not connect to `address`, or null when it may. */
  refusal(address: string): string | null {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.#allowAll || this.#allowed.check(address, family)) return null;
    for (const r of this.#refused) if (r.list.check(address, family)) return r.why;
    if (this.#own().some((a) => a.toLowerCase() === address.toLowerCase()))
      return "one of the region host's own addresses";
    return null;
  }

  /** Resolves the URL's host and throws a 400 naming `field` when any of its addresses is refused. */
  async checkUrl(url: URL, field = 'url'): Promise<void> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await dnsLookupAll(host, { all: true })).map((a) => a.address);
    } catch (e) {
      throw invalid(
        field,
        `the host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? e}); check the URL`,
      );
    }
    for (const a of addresses) {
      const why = this.refusal(a);
      if (why)
        throw new RefusedSource(
          field,
          host === a ? 'the host' : `${host} resolves to an address that`,
          a,
          why,
        );
    }
  }

  /** An undici dispatcher whose every connection (each redirect hop included) obeys the policy. */
  dispatcher(field = 'url'): Agent {
    const lookup: LookupFunction = (hostname, options, callback) =>
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '', 4);
        const list = addresses as unknown as { address: string; family: number }[];
        const refused = list.map((a) => [a, this.refusal(a.address)] as const).find(([, why]) => why);
        if (refused)
          return callback(
            new RefusedSource(
              field,
              `${hostname} resolves to an address that`,
              refused[0].address,
              refused[1]!,
            ),
            '',
            4,
          );
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        callback(null, list[0].address, list[0].family);
      });
    const connect = buildConnector({ lookup } as Parameters<typeof buildConnector>[0]);
    return new Agent({
      connect: (opts, callback) =>
        connect(opts, (err, socket) => {
          if (err || !socket) return callback(err ?? new Error('no socket'), null);
          const peer = (socket as Socket).remoteAddress ?? '';
          const why = this.refusal(peer);
          if (!why) return callback(null, socket);
          socket.destroy();
          callback(new RefusedSource(field, `the connection to ${opts.hostname}`, peer, why), null);
        }),
    });
  }

  /**
   * GETs `u` and returns its body: every connection obeys the policy, redirects are followed by
   * hand (at most MAX_REDIRECTS, each hop an http(s) URL checked like the first). A refused
   * address or a non-2xx answer is a validation error naming `field`. The connections close
   * when the body closes: read to its end, or destroyed (callers destroy it when they are done,
   * so an import that fails before reading leaves no connection behind).
   */
  async open(u: URL, signal: AbortSignal, field = 'url'): Promise<Readable> {
    const dispatcher = this.dispatcher(field);
    const close = () => dispatcher.destroy().catch(() => undefined);
    let res: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      res = await this.#follow(u, dispatcher, signal, field);
    } catch (e) {
      await close();
      throw refusalOf(e);
    }
    const body = Readable.fromWeb(res.body as ReadableStream<Uint8Array>);
    body.once('close', close);
    return body;
  }

  async #follow(u: URL, dispatcher: Agent, signal: AbortSignal, field: string) {
    let url = u;
    for (let hop = 0; ; hop++) {
      const res = await undiciFetch(url, { signal, redirect: 'manual', dispatcher });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw invalid(field, `more than ${MAX_REDIRECTS} redirects from ${u.href}`);
        url = new URL(location, url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:')
          throw invalid(
            field,
            `${u.href} redirects to a ${url.protocol} URL; only http and https are fetched`,
          );
        await this.checkUrl(url, field);
        continue;
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new IngotError(ErrorCode.Validation, `${field}: ${url.href} answered HTTP ${res.status}`, {
          details: { field, status: res.status },
        });
      }
      return res;
    }
  }
}

/**
 * `url` parsed, if it is an http(s) URL; a validation error naming `field` otherwise, saying to
 * upload instead (`what`: a local file, a local file or directory).
 */
export function parseSourceUrl(url: string, field = 'url', upload = 'a local file'): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(field, `"${url.slice(0, 200)}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw invalid(
      field,
      `only http and https URLs can be imported (got ${u.protocol}); upload ${upload} instead`,
    );
  return u;
}

/** undici reports a refused connection as "fetch failed" with the refusal as its cause. */
function refusalOf(e: unknown): unknown {
  const cause = (e as { cause?: unknown })?.cause;
  return cause instanceof IngotError ? cause : e;
}

function addAllowed(list: BlockList, entry: string): void {
  const [address, prefix] = entry.trim().split('/');
  const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : null;
  const bits = prefix === undefined ? (family === 'ipv6' ? 128 : 32) : Number(prefix);
  if (!family || !Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv6' ? 128 : 32))
    throw new IngotError(
      ErrorCode.Config,
      `--allow-private-sources: "${entry}" is not an address or CIDR; write it like 127.0.0.1 or 10.0.0.0/8`,
      { details: { field: 'allowPrivateSources' } },
    );
  list.addSubnet(address, bits, family);
}

function ownInterfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i.address.replace(/%.*$/, ''));
}
