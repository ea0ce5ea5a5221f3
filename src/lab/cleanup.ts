/**
 * Cleaning up a lab, also after a crash: the recorded owner (if it is a lab process and not us)
 * is stopped by PID, every process inside the lab's namespaces is stopped by PID, and the
 * namespaces are deleted. Nothing outside the lab's own PIDs and namespaces is touched.
 */
import { rmSync } from 'node:fs';
import { alive, cmdline, stopPid } from '../host/process.ts';
import { type LabNetwork, removeNetwork } from './netns.ts';
import { readState, statePath } from './state.ts';

/** Marker in the command line of processes that own a lab (the `lab up` daemon). */
export const DAEMON_MARK = 'lab-daemon.ts';

export async function cleanupStale(
  labDir: string,
  net: Pick<LabNetwork, 'provNs' | 'rackNs'>,
  log: (m: string) => void,
): Promise<{ removed: string[]; killed: number[] }> {
  const killed: number[] = [];
  const st = readState(labDir);
  if (st) {
    const owner = st.ownerPid;
    if (owner !== process.pid && alive(owner) && cmdline(owner).includes(DAEMON_MARK)) {
      await stopPid(owner, 5000);
      killed.push(owner);
    }
    for (const pid of [st.rackPid, ...st.machines.map((m) => m.qemuPid)]) {
      if (pid && alive(pid) && /main\.ts rack |qemu-system/.test(cmdline(pid))) {
        await stopPid(pid, 1000);
        killed.push(pid);
      }
    }
    rmSync(statePath(labDir), { force: true });
  }
  const removed = await removeNetwork(net);
  if (removed.length || killed.length)
    log(
      `cleaned up a previous run: namespaces ${removed.join(', ') || 'none'}, PIDs ${killed.join(', ') || 'none'}`,
    );
  return { removed, killed };
}
