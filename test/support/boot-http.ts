/**
 * Shared setup for the boot HTTP tests: a real SQLite store in a temp dir and a server on
 * loopback, with HTTPS as `ingot rack` has it (a generated certificate; `tls: null` for plain
 * HTTP only). `request` and `fetch` trust that certificate alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BootHttpServer, startBootHttpServer } from '../../src/netboot/http/index.ts';
import type { BootHttpOptions } from '../../src/netboot/http/server.ts';
import { openStore } from '../../src/store/open.ts';
import { publicKeyPin } from '../../src/tls/fingerprint.ts';
import { generateSelfSignedCert } from '../../src/tls/self-signed.ts';
import { type PinnedFetch, pinnedFetch } from './region.ts';
import type { SqlStore } from '../../src/store/sql-store.ts';
import type { NewMachine } from '../../src/store/store.ts';

export interface Harness {
  dir: string;
  store: SqlStore;
  http: BootHttpServer;
  artifacts: string;
  /** fetch trusting the rack's certificate only (plain HTTP as is). */
  fetch: PinnedFetch;
  /** The rack certificate's `sha256//…` pin (what the kernel line carries), null without TLS. */
  pin: string | null;
  /** The rack's certificate (PEM): what the agent puts in a deployed OS's trust store. */
  certPem: string | null;
  close(): Promise<void>;
}

export async function startHarness(over: Partial<BootHttpOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-boothttp-'));
  const store = await openStore({ dataDir: join(dir, 'data') });
  const artifacts = join(dir, 'artifacts');
  mkdirSync(join(artifacts, 'ephemeral'), { recursive: true });
  writeFileSync(join(artifacts, 'ephemeral', 'vmlinuz'), Buffer.alloc(4096, 7));
  writeFileSync(join(artifacts, 'ephemeral', 'initrd.img'), Buffer.alloc(1000, 9));
  // A subject of its own: OpenSSL finds a trust anchor by subject name among TRUSTED.
  const cert =
    over.tls === null
      ? null
      : await generateSelfSignedCert(['127.0.0.1'], `Ingot test rack ${TRUSTED.length}`);
  if (cert) TRUSTED.push(cert.certPem);
  const pin = cert ? publicKeyPin(cert.certPem) : null;
  const server = await startBootHttpServer({
    store,
    host: '127.0.0.1',
    artifactsDir: artifacts,
    ephemeral: { kernel: 'ephemeral/vmlinuz', initrd: 'ephemeral/initrd.img' },
    ...(cert && pin ? { tls: { certPem: cert.certPem, keyPem: cert.keyPem, publicKeyPin: pin } } : {}),
    ...over,
  });
  const pinned = pinnedFetch(cert ? `sha256:${cert.fingerprint256}` : null);
  return {
    dir,
    store,
    http: server,
    artifacts,
    fetch: pinned.fetch,
    pin,
    certPem: cert?.certPem ?? null,
    async close() {
      await server.close();
      await pinned.dispatcher?.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Gives a machine 127.0.0.1 (a static address in a loopback subnet): what the rack sees as the
 * source of a test's curl, or of a QEMU guest on user networking, so per-machine data (OS images,
 * metadata, bundles) answers it.
 */
export async function leaseLoopback(store: SqlStore, machineId: string): Promise<void> {
  const subnet = await store.createSubnet(
    {
      name: `lo-${process.pid}-${machineId}`,
      cidr: '127.0.0.0/24',
      gateway: null,
      dns: [],
      vlan: null,
      dhcpMode: 'off',
      autoEnlist: false,
      ranges: [],
    },
    'test',
  );
  await store.allocateIp(subnet.id, { machineId, ip: '127.0.0.1', kind: 'static' });
}

let seq = 0;
export function machine(over: Partial<NewMachine> = {}): NewMachine {
  seq++;
  const hex = (seq + (process.pid % 250) * 256).toString(16).padStart(6, '0');
  return {
    hostname: `boot-${process.pid}-${seq}`,
    arch: 'amd64',
    bmc: null,
    nics: [{ mac: `52:54:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:0b`, boot: true }],
    tags: [],
    zone: 'z1',
    rack: 'r1',
    pool: 'default',
    ...over,
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The harnesses' certificates: `request` trusts these (and only these) over HTTPS. */
const TRUSTED: string[] = [];

/** One request (HTTP or HTTPS); `from` binds the client to a loopback source address (127.0.0.x). */
export function request(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const req = (secure ? https : http).request(
      url,
      {
        method: o.method ?? 'GET',
        headers: o.headers,
        localAddress: o.from,
        ...(secure ? { ca: TRUSTED, agent: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Waits until the event sink has flushed (it batches for up to 50 ms). */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 120));
