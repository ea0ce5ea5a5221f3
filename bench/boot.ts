/**
 * Boot chain vs the floor, side by side in one run (root; ~4 min). For each firmware, runs
 * alternate: one boot of the boot floor (bench/boot-floor.ts: an optional peer, INGOT_BOOT_FLOOR;
 * dnsmasq + a static HTTP server, same QEMU, ROM, kernel; skipped when missing), then one commission boot of a lab VM through Ingot's chain (BMC power-on →
 * Ingot DHCP → iPXE script → HTTP kernel + initrd → phone-home). Each milestone is timed from
 * QEMU start. Up to the kernel+initrd fetch the two chains do the same work (Ingot's initrd is
 * the 38.5 MiB boot image, the floor's a 2.4 MiB busybox one); the phone-home compares Ingot's
 * agent image with the floor's busybox (bench/boot-image.ts compares the images alone). One VM
 * at a time.
 *
 *   node bench/boot.ts [--runs 3] [--firmware bios,uefi]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from '../src/lab/ephemeral-image.ts';
import { AgentTask } from '../src/core/agent-protocol.ts';
import { AgentTasksPort } from '../src/engine/agent-tasks-port.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { startLab } from '../src/lab/lab.ts';
import { labNetwork, removeNetwork } from '../src/lab/netns.ts';
import type { Firmware } from '../src/lab/qemu.ts';
import { apiRegion } from '../src/lab/region-client.ts';
import { eventually, startTestRegion } from '../test/support/region.ts';
import { bootFloorTool, runBootFloor } from './boot-floor.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, firmware: { type: 'string', default: 'bios,uefi' } },
});
const runs = Number(values.runs);
const firmwares = values.firmware!.split(',') as Firmware[];
const FLOOR = bootFloorTool();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

interface FloorRun {
  dhcp: number;
  script: number;
  kernRd: number;
  phone: number;
}
async function floorOnce(tool: string, fw: Firmware): Promise<FloorRun> {
  const { stdout, median } = await runBootFloor(tool, [
    '--firmware',
    fw,
    '--cache',
    `${defaultCacheDir()}/boot-floor`,
  ]);
  // One run: its milestone table's min column is the run's value.
  const at = (label: string) =>
    Number(new RegExp(`${label}[^\\n]*?\\s([\\d.]+)\\s+[\\d.]+\\s+[\\d.]+\\n`).exec(stdout)?.[1]);
  return {
    dhcp: at('DHCP ACK seen by dnsmasq'),
    script: at('iPXE script fetched'),
    kernRd: at('kernel\\+initrd fetched'),
    phone: median,
  };
}

// hello from the real boot (the agent.hello event), every other task simulated.
const hello = new AgentTasksPort(() => region.region.store);
const simulated = new FakeAgent();
const region = await startTestRegion({
  agent: { task: (m, j, t, p) => (t === AgentTask.Hello ? hello : simulated).task(m, j, t, p) },
  agentPollMs: 100,
});
const name = `b${process.pid % 100000}`;
const lab = await startLab({
  name,
  dataDir: region.dataDir,
  region: apiRegion(region.url, region.adminToken),
  machines: firmwares.length,
  firmware: firmwares,
});
const store = region.region.store;

interface Milestones {
  dhcp: number;
  script: number;
  kernRd: number;
  gdhcp: number;
  phone: number;
}
async function ingotOnce(i: number): Promise<Milestones> {
  const m = lab.state.machines[i];
  const target = lab.targets.get(m.systemId)!;
  const before =
    (await store.listEvents({ machineId: m.machineId, limit: 1, newestFirst: true }))[0]?.id ?? 0;
  const r = await region.api('POST', `/api/v1/machines/${m.machineId}/actions/commission`, {});
  if (r.status !== 202) throw new Error(`commission: ${r.status} ${JSON.stringify(r.body)}`);
  await eventually(async () => (await store.getMachine(m.machineId)).state === 'ready', 180_000, 'ready');
  // The guest powers itself off after the phone-home; wait for QEMU to go.
  await eventually(async () => !(await target.isOn()), 30_000, 'QEMU exit');
  const ev = await store.listEvents({ machineId: m.machineId, afterId: before, limit: 1000 });
  const t0 = target.startedAt;
  const at = (pred: (e: (typeof ev)[number]) => boolean) => {
    const e = ev.find(pred);
    return e ? (Date.parse(e.at) - t0) / 1000 : Number.NaN;
  };
  const kern = at((e) => e.type === 'http.artifact' && String(e.data.path).endsWith('vmlinuz'));
  const rd = at((e) => e.type === 'http.artifact' && String(e.data.path).endsWith('initrd.img'));
  const kernRd = Math.max(kern, rd);
  return {
    dhcp: at((e) => e.type === 'dhcp.ack'),
    script: at((e) => e.type === 'http.script'),
    kernRd,
    gdhcp: at((e) => e.type === 'dhcp.ack' && Date.parse(e.at) - t0 > kernRd * 1000),
    phone: at((e) => e.type === 'agent.hello'),
  };
}

const rows: string[] = [];
try {
  for (const [i, fw] of firmwares.entries()) {
    const floor: FloorRun[] = [];
    const ours: Milestones[] = [];
    for (let n = 0; n < runs; n++) {
      if (FLOOR) floor.push(await floorOnce(FLOOR, fw));
      ours.push(await ingotOnce(i));
      const o = ours.at(-1)!;
      const f = floor.at(-1);
      console.error(
        `${fw} run ${n + 1}: ${f ? `floor ${f.phone.toFixed(2)} s (kernel+initrd ${f.kernRd.toFixed(2)}), ` : ''}ingot ${o.phone.toFixed(2)} s (dhcp ${o.dhcp.toFixed(2)}, script ${o.script.toFixed(2)}, kernel+initrd ${o.kernRd.toFixed(2)}, guest dhcp ${o.gdhcp.toFixed(2)})`,
      );
    }
    const fmed = (k: keyof FloorRun) => (floor.length ? median(floor.map((o) => o[k])) : Number.NaN);
    const med = (k: keyof Milestones) => median(ours.map((o) => o[k]));
    const pair = (a: number, b: number) =>
      Number.isNaN(a)
        ? `${b.toFixed(2)} / – s`
        : `${b.toFixed(2)} / ${a.toFixed(2)} s (${(b / a).toFixed(3)}×)`;
    rows.push(
      `| ${fw} | ${runs} | ${pair(fmed('dhcp'), med('dhcp'))} | ${pair(fmed('script'), med('script'))} | ${pair(fmed('kernRd'), med('kernRd'))} | ${pair(fmed('phone'), med('phone'))} |`,
    );
  }
} finally {
  await lab.close();
  await removeNetwork(labNetwork(name)).catch(() => undefined);
  await region.stop();
}
console.log(
  `host: ${cpus().length} CPUs, load average at end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  '| firmware | runs | DHCP ack, Ingot / floor (median) | iPXE script | kernel+initrd fetched | phone-home (Ingot: the boot image agent; floor: busybox) |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
