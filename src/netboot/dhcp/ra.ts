/**
 * IPv6 router advertisements on the provisioning segment, sent by Debian's `radvd`.
 *
 * Why: iPXE configures IPv6 next to DHCPv4 and waits for a router advertisement before it
 * carries on; on a segment without one it waits ~13 s per boot (22.8 s instead of 9.9 s here).
 * Any RA without the managed/other flags ends that wait at once. node:dgram cannot send
 * ICMPv6 (no raw sockets), so the server runs radvd as a child process, advertising nothing
 * but its presence: no prefix, router lifetime 0 (not a default router), so hosts on the
 * segment get no IPv6 address or route from us. Networks that already have IPv6 routers do
 * not need this: leave `ra` unset.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode, IngotError } from '../../core/errors.ts';

export interface RouterAdvertiser {
  readonly pid: number;
  stop(): Promise<void>;
}

export function radvdConfig(iface: string): string {
  return `interface ${iface} {
  AdvSendAdvert on;
  # Answer router solicitations quickly and repeat often enough for late joiners.
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  # Not a default router; no prefix: the advertisement only ends iPXE's IPv6 wait.
  AdvDefaultLifetime 0;
  AdvManagedFlag off;
  AdvOtherConfigFlag off;
};
`;
}

export async function startRouterAdvertiser(
  iface: string,
  log: Logger,
  binary = 'radvd',
): Promise<RouterAdvertiser> {
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(iface)) {
    throw new IngotError(ErrorCode.Config, `ra.interface: "${iface}" is not an interface name`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ingot-radvd-'));
  const conf = join(dir, 'radvd.conf');
  writeFileSync(conf, radvdConfig(iface));
  const child: ChildProcess = spawn(
    binary,
    ['-n', '-C', conf, '-p', join(dir, 'radvd.pid'), '-m', 'stderr'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  // radvd checks its config and the interface at start; give it a moment to fail loudly.
  const early = await Promise.race([exited, new Promise<'up'>((r) => setTimeout(() => r('up'), 300))]);
  if (early !== 'up' || child.pid === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new IngotError(
      ErrorCode.Config,
      `ra: radvd did not start on ${iface} (exit ${early}); install Debian's radvd and check the interface exists. ${stderr.trim()}`,
    );
  }
  // radvd has read its config and written its pid file (it only reads the config again on
  // SIGHUP, which it never gets): the directory goes now, so a server killed with -9 leaves
  // nothing behind in the temporary directory.
  rmSync(dir, { recursive: true, force: true });
  log.info({ interface: iface, pid: child.pid }, 'sending IPv6 router advertisements (radvd)');
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) log.error({ interface: iface, code, signal, stderr }, 'radvd exited');
  });
  return {
    pid: child.pid,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
