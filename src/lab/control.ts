/**
 * `lab up` and `lab down` as functions (the CLI is a thin shell over these): up starts the lab
 * daemon detached and waits for its state file; down stops it by PID and then removes whatever
 * is left — also after a crash, when there is no daemon to ask.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { cleanupStale } from './cleanup.ts';
import { alive, stopPid } from '../host/process.ts';
import type { DaemonConfig } from './lab-daemon.ts';
import { labNetwork } from './netns.ts';
import { type LabState, labDirFor, readState } from './state.ts';

const DAEMON = new URL('./lab-daemon.ts', import.meta.url).pathname;

export async function labUp(cfg: DaemonConfig, timeoutMs = 180_000): Promise<LabState> {
  const labDir = labDirFor(cfg.dataDir, cfg.name);
  const prev = readState(labDir);
  if (prev && alive(prev.ownerPid) && prev.status === 'up')
    throw new IngotError(
      ErrorCode.Conflict,
      `lab ${cfg.name} is already up (PID ${prev.ownerPid}); run \`ingot lab down --name ${cfg.name}\` first`,
    );
  mkdirSync(labDir, { recursive: true, mode: 0o700 });
  const cfgFile = join(labDir, 'daemon.json');
  writeFileSync(cfgFile, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
  const logFile = join(labDir, 'daemon.log');
  const log = openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, [DAEMON, cfgFile], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const st = readState(labDir);
    if (st && st.ownerPid === child.pid && st.status === 'up') return st;
    if (!alive(child.pid)) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new IngotError(
        ErrorCode.Config,
        `lab ${cfg.name} did not start:\n${tail}\n(full log: ${logFile})`,
      );
    }
    await sleep(100);
  }
  await stopPid(child.pid, 5000);
  throw new IngotError(
    ErrorCode.Timeout,
    `lab ${cfg.name} did not come up within ${timeoutMs / 1000} s; see ${logFile}`,
  );
}

export async function labDown(
  dataDir: string,
  name: string,
): Promise<{ stopped: boolean; removed: string[]; killed: number[] }> {
  const labDir = labDirFor(dataDir, name);
  const st = readState(labDir);
  let stopped = false;
  if (st && alive(st.ownerPid) && st.ownerPid !== process.pid) {
    // The daemon stops its VMs, the rack services and the namespaces itself.
    process.kill(st.ownerPid, 'SIGTERM');
    const end = Date.now() + 20_000;
    while (alive(st.ownerPid) && Date.now() < end) await sleep(100);
    stopped = !alive(st.ownerPid);
  }
  // Whatever is left (a crashed daemon, a daemon that did not stop in time).
  const rest = await cleanupStale(labDir, labNetwork(name), () => {});
  return { stopped, ...rest };
}
