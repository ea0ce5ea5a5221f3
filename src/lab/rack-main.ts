/**
 * The lab's rack services process. Started by the lab with `ip netns exec <lab>-prov node
 * rack-main.ts CONFIG`, so its sockets (DHCP on 0.0.0.0:67, boot HTTP) live in the lab's
 * provisioning namespace; it opens the region's store itself (SQLite in WAL mode or
 * PostgreSQL). Prints `INGOT-RACK-READY <json>` on stdout when serving; stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { startRackServices } from '../netboot/rack.ts';
import { openStore } from '../store/open.ts';

export interface RackChildConfig {
  dataDir: string;
  database?: string;
  secretKeyFile?: string;
  provisioningIp: string;
  httpPort: number;
  artifactsDir: string;
  ephemeral: { kernel: string; initrd: string; extraArgs?: string };
  raInterface: string;
  /** DHCP lease time, seconds (tests shorten it to see renewals). @default 3600 */
  leaseSeconds?: number;
  logLevel?: string;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as RackChildConfig;
  const log = pino({ level: cfg.logLevel ?? 'info' }, pino.destination(2));
  const store = await openStore({
    dataDir: cfg.dataDir,
    database: cfg.database,
    secretKeyFile: cfg.secretKeyFile,
  });
  const rack = await startRackServices({
    store,
    provisioningIp: cfg.provisioningIp,
    httpPort: cfg.httpPort,
    artifactsDir: cfg.artifactsDir,
    ephemeral: cfg.ephemeral,
    dhcp: { raInterface: cfg.raInterface, refreshMs: 500, leaseSeconds: cfg.leaseSeconds },
    logger: log,
  });
  process.stdout.write(`INGOT-RACK-READY ${JSON.stringify({ http: rack.httpUrl, dhcp: rack.dhcp?.port })}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await rack.close().catch((e: unknown) => log.error({ err: e }, 'rack services did not close cleanly'));
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

if (import.meta.main) {
  main().catch((e: unknown) => {
    process.stderr.write(`ingot rack: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
