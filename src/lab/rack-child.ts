/**
 * Starts `ingot rack` (the same command an operator runs on a real provisioning network) inside
 * the lab's provisioning namespace, and waits until it serves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, IngotError } from '../core/errors.ts';

const CLI = new URL('../cli/main.ts', import.meta.url).pathname;

export interface RackChildConfig {
  dataDir: string;
  database?: string;
  secretKeyFile?: string;
  provisioningIp: string;
  httpPort: number;
  /** Holds `ephemeral/` (the boot image, linked by the lab) and `images/`. */
  artifactsDir: string;
  kernelArgs?: string;
  /** Send IPv6 RAs on this interface; none when empty. */
  raInterface?: string;
  /** DHCP lease time, seconds. @default 3600 */
  leaseSeconds?: number;
  logLevel?: string;
}

/** The command line for `cfg`. */
export function rackArgs(cfg: RackChildConfig): string[] {
  return [
    'rack',
    '--provisioning-ip',
    cfg.provisioningIp,
    '--data',
    cfg.dataDir,
    ...(cfg.database ? ['--database', cfg.database] : []),
    ...(cfg.secretKeyFile ? ['--secret-key', cfg.secretKeyFile] : []),
    '--artifacts',
    cfg.artifactsDir,
    '--no-boot-image',
    ...(cfg.kernelArgs ? ['--kernel-args', cfg.kernelArgs] : []),
    '--http-port',
    String(cfg.httpPort),
    ...(cfg.raInterface ? ['--ra-interface', cfg.raInterface] : []),
    ...(cfg.logLevel ? ['--log-level', cfg.logLevel] : []),
    '--lease-seconds',
    String(cfg.leaseSeconds ?? 3600),
    '--dhcp-refresh-ms',
    '500',
  ];
}

export async function startRackChild(
  labDir: string,
  provNs: string,
  cfg: RackChildConfig,
  timeoutMs = 30_000,
): Promise<{ child: ChildProcess; http: string }> {
  const logFile = join(labDir, 'rack.log');
  const log = openSync(logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn('ip', ['netns', 'exec', provNs, process.execPath, CLI, ...rackArgs(cfg)], {
      stdio: ['ignore', 'pipe', log],
      detached: false,
    });
  } finally {
    closeSync(log);
  }
  const http = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new IngotError(
          ErrorCode.Timeout,
          `rack services did not start within ${timeoutMs} ms; see ${logFile}`,
        ),
      );
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /INGOT-RACK-READY (\{.*\})/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve((JSON.parse(m[1]) as { http: string }).http);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new IngotError(
          ErrorCode.Config,
          `rack services exited (code ${code}) before serving; see ${logFile}`,
        ),
      );
    });
  });
  child.stdout!.resume();
  return { child, http };
}
