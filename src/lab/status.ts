/** `lab status`: the state file checked against what is really running. */
import { alive } from '../host/process.ts';
import { listNamespaces } from './netns.ts';
import type { LabState } from './state.ts';

export interface LabStatus {
  name: string;
  status: 'up' | 'degraded' | 'down';
  problems: string[];
  rackHttp: string | null;
  bmc: string | null;
  accel: string | null;
  namespaces: string[];
  machines: {
    hostname: string;
    machineId: string;
    mac: string;
    firmware: string;
    bmcAddress: string;
    power: 'on' | 'off';
    consoleLog: string;
  }[];
}

export async function labStatus(name: string, st: LabState | null): Promise<LabStatus> {
  const ns = (await listNamespaces()).filter((n) => n.startsWith(`ingot-${name}-`));
  if (!st)
    return {
      name,
      status: 'down',
      problems: ns.length ? [`stale namespaces ${ns.join(', ')}: run \`ingot lab down --name ${name}\``] : [],
      rackHttp: null,
      bmc: null,
      accel: null,
      namespaces: ns,
      machines: [],
    };
  const problems: string[] = [];
  if (!alive(st.ownerPid))
    problems.push(`the lab process (PID ${st.ownerPid}) is gone: run \`ingot lab up\` again`);
  if (!alive(st.rackPid))
    problems.push(`the rack services (PID ${st.rackPid}) are not running; see ${st.labDir}/rack.log`);
  for (const want of [st.namespaces.prov, st.namespaces.rack])
    if (!ns.includes(want)) problems.push(`namespace ${want} is missing`);
  return {
    name,
    status: problems.length ? 'degraded' : 'up',
    problems,
    rackHttp: st.rackHttp,
    bmc: st.bmc.url,
    accel: st.accel,
    namespaces: ns,
    machines: st.machines.map((m) => ({
      hostname: m.hostname,
      machineId: m.machineId,
      mac: m.mac,
      firmware: m.firmware,
      bmcAddress: m.bmcAddress,
      power: alive(m.qemuPid) ? 'on' : 'off',
      consoleLog: m.consoleLog,
    })),
  };
}
