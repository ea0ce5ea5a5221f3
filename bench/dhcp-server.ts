/**
 * Starts Ingot's DHCP server alone, configured from the environment (set by bench/dhcp-leases.sh,
 * which drives it with perfdhcp, and by the real-peer tests):
 *   SRV_ADDR, SUBNET, POOL_START, POOL_END, VALID_LIFETIME, WORKDIR (store lives there).
 * Optional: DHCP_BIND (default 0.0.0.0), DHCP_PORT (67), HTTP_BASE, DHCP_MODE (full),
 * AUTO_ENLIST (0), GATEWAY, LOG_LEVEL (warn), DATABASE (postgres://… instead of SQLite),
 * RA_IF (send router advertisements there).
 * Prints `ready <port>` on stdout once it answers. Usage: bench/dhcp-leases.sh.
 */
import pino from 'pino';
import type { DhcpMode } from '../src/core/subnet.ts';
import { startDhcpServer } from '../src/netboot/dhcp/index.ts';
import { openStore } from '../src/store/open.ts';

const env = (k: string, d?: string): string => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`dhcp-server: set ${k}`);
  return v;
};

const srv = env('SRV_ADDR');
const store = await openStore({ dataDir: env('WORKDIR'), database: process.env.DATABASE });
const name = 'bench';
const existing = (await store.listSubnets()).find((s) => s.name === name);
if (!existing) {
  await store.createSubnet(
    {
      name,
      cidr: env('SUBNET'),
      gateway: process.env.GATEWAY ?? null,
      dns: [],
      vlan: null,
      dhcpMode: env('DHCP_MODE', 'full') as DhcpMode,
      autoEnlist: env('AUTO_ENLIST', '0') === '1',
      ranges: [{ kind: 'dynamic', start: env('POOL_START'), end: env('POOL_END') }],
    },
    'bench',
  );
}
const logger = pino({ level: env('LOG_LEVEL', 'warn') }, pino.destination(2));
const server = await startDhcpServer({
  store,
  bind: { address: env('DHCP_BIND', '0.0.0.0'), port: Number(env('DHCP_PORT', '67')) },
  serverIp: srv,
  httpBase: env('HTTP_BASE', `http://${srv}:8081`),
  leaseSeconds: Number(env('VALID_LIFETIME', '3600')),
  ra: process.env.RA_IF ? { interface: process.env.RA_IF } : undefined,
  logger,
});
process.stdout.write(`ready ${server.port}\n`);

async function stop(): Promise<void> {
  await server.close();
  logger.warn({ stats: server.stats }, 'stopped');
  await store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
