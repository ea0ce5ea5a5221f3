/**
 * The process `ingot lab up` leaves running: it holds the virtual BMC (127.0.0.1) and the QEMU
 * machines it starts, and supervises the rack services child. Started detached with a config
 * file; stops the lab on SIGTERM/SIGINT (what `ingot lab down` sends).
 */
import { readFileSync } from 'node:fs';
import { type LabOptions, startLab } from './lab.ts';
import { apiRegion } from './region-client.ts';

export interface DaemonConfig extends Omit<LabOptions, 'region' | 'log'> {
  readonly regionUrl: string;
  readonly token: string | null;
  /** The region's pinned certificate, as the CLI that started the lab pins it. */
  readonly fingerprint?: string | null;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as DaemonConfig;
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  const lab = await startLab({ ...cfg, region: apiRegion(cfg.regionUrl, cfg.token, cfg.fingerprint), log });
  log(`lab ${cfg.name} up: rack ${lab.state.rackHttp}, BMC ${lab.state.bmc.url}`);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping lab ${cfg.name}`);
    await lab.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // The BMC's listening socket keeps this process alive until a signal stops the lab.
}

if (import.meta.main) {
  main().catch((e: unknown) => {
    process.stderr.write(`ingot lab: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
