import type { PowerState } from '../core/machine.ts';
import type { BmcDriver } from './driver.ts';

/** What `waitForPower` saw: whether the BMC reported the state asked for, and its last answer. */
export interface PowerWait {
  readonly reached: boolean;
  readonly last: PowerState;
}

/**
 * Reads the BMC's power state every `intervalMs` until it reports `want` or `timeoutMs` have
 * passed (at least one read; a read that throws ends the wait with its error). A BMC accepts a
 * power request before the machine's power changes: IPMI's chassis control and Redfish's Reset
 * answer at once (ipmi_sim cycles ~1 s later), and a machine in the middle of a cycle reads off
 * before it reads on. The engine's power steps and the remediator's fence both
 * wait here before they count a power state as reached.
 */
export async function waitForPower(
  bmc: Pick<BmcDriver, 'powerState'>,
  want: PowerState,
  o: { readonly timeoutMs: number; readonly intervalMs: number },
): Promise<PowerWait> {
  const until = Date.now() + o.timeoutMs;
  for (;;) {
    const last = await bmc.powerState();
    if (last === want) return { reached: true, last };
    if (Date.now() >= until) return { reached: false, last };
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}
