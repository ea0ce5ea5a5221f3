/**
 * A real region on a free loopback port, with the fake BMC and simulated agent, for tests. It
 * serves HTTPS with a self-signed certificate it generates, as `ingot serve` does by default;
 * `fetch` and `api` trust that certificate alone (pinned by fingerprint), and `cliEnv` hands
 * the same pin to an `ingot` child process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type Agent, fetch as undiciFetch } from 'undici';
import { type Region, type RegionOptions, startRegion } from '../../src/api/region.ts';
import { createDispatcher } from '../../src/tls/pinned-dispatcher.ts';

/** `fetch` whose HTTPS trusts only the pinned certificate. */
export type PinnedFetch = (url: string, init?: RequestInit) => Promise<Response>;

/** A fetch that accepts exactly the certificate with this SHA-256 fingerprint (or plain HTTP). */
export function pinnedFetch(fingerprint: string | null): { fetch: PinnedFetch; dispatcher: Agent | null } {
  if (!fingerprint) return { fetch: (url, init) => fetch(url, init), dispatcher: null };
  const dispatcher = createDispatcher({ fingerprint, timeoutMs: 600_000 });
  return {
    dispatcher,
    fetch: (url, init) =>
      undiciFetch(url, { ...(init as object), dispatcher } as Parameters<
        typeof undiciFetch
      >[1]) as unknown as Promise<Response>,
  };
}

export interface TestRegion {
  region: Region;
  url: string;
  dataDir: string;
  adminToken: string;
  /** `sha256:AB:CD:…` of the region's certificate; null on plain HTTP. */
  fingerprint: string | null;
  /** fetch trusting the region's certificate only. */
  fetch: PinnedFetch;
  /** INGOT_URL, INGOT_TOKEN and INGOT_FINGERPRINT for an `ingot` child process. */
  cliEnv: Record<string, string>;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startTestRegion(o: Partial<RegionOptions> = {}): Promise<TestRegion> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'ingot-region-'));
  const region = await startRegion({
    dataDir,
    listen: '127.0.0.1:0',
    simulatedAgentDelayMs: 0,
    agentPollMs: 20,
    logger: pino({ level: 'silent' }),
    ...o,
  });
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const fingerprint = region.tls ? `sha256:${region.tls.fingerprint256}` : null;
  const pinned = pinnedFetch(fingerprint);
  const api = async <T>(method: string, path: string, body?: unknown, token: string | null = adminToken) => {
    const res = await pinned.fetch(`${region.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (metrics): the text as is
    }
    return { status: res.status, body: parsed as T };
  };
  return {
    region,
    url: region.url,
    dataDir,
    adminToken,
    fingerprint,
    fetch: pinned.fetch,
    cliEnv: { INGOT_URL: region.url, INGOT_TOKEN: adminToken, INGOT_FINGERPRINT: fingerprint ?? '' },
    api,
    stop: async () => {
      await region.stop();
      await pinned.dispatcher?.close();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let n = 0;
/** A valid POST /machines body with a fresh MAC and a fake BMC. */
export function newMachineBody(over: Record<string, unknown> = {}) {
  n++;
  const b = (n + (process.pid % 200) * 1000).toString(16).padStart(6, '0');
  return {
    bmc: { address: `fake://bmc-${process.pid}-${n}`, username: 'admin', password: 'bmc-pass-1' },
    nics: [{ mac: `52:54:${b.slice(0, 2)}:${b.slice(2, 4)}:${b.slice(4, 6)}:aa` }],
    ...over,
  };
}

/** Polls until `check` returns a truthy value or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
