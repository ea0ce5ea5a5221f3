/** A real region on a free loopback port, with the fake BMC and simulated agent, for tests. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type Region, type RegionOptions, startRegion } from '../../src/api/region.ts';

export interface TestRegion {
  region: Region;
  url: string;
  dataDir: string;
  adminToken: string;
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
  const api = async <T>(method: string, path: string, body?: unknown, token: string | null = adminToken) => {
    const res = await fetch(`${region.url}${path}`, {
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
    api,
    stop: async () => {
      await region.stop();
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
