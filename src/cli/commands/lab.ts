/**
 * `ingot lab up|status|down`: a virtual lab of QEMU machines behind virtual Redfish BMCs,
 * network-booted by Ingot's rack services, enrolled in the region as `new` machines.
 * Needs root (network namespaces, taps). See docs/lab.md.
 */
import type { Command } from 'commander';
import { defaultDataDir } from '../paths.ts';
import { invalid } from '../../core/errors.ts';
import { labDown, labUp } from '../../lab/control.ts';
import { MAX_LAB_MACHINES } from '../../lab/lab.ts';
import type { Firmware } from '../../lab/qemu.ts';
import { labDirFor, readState } from '../../lab/state.ts';
import { type LabStatus, labStatus } from '../../lab/status.ts';
import { ctx } from '../context.ts';
import { type Format, printData, table } from '../output.ts';

const dataOpt = ['--data <dir>', 'the region’s data dir (its store; labs live in DATA/labs)'] as const;
const defaultData = defaultDataDir();

function positive(flag: string, v: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw invalid(flag, `"${v}" must be a whole number from 1 to ${max}`);
  return n;
}

export function parseFirmware(v: string, machines: number): Firmware[] {
  const list = v.split(',').map((s) => s.trim());
  for (const f of list)
    if (f !== 'bios' && f !== 'uefi')
      throw invalid('--firmware', `"${f}" must be bios or uefi (or a list: bios,uefi)`);
  if (list.length !== 1 && list.length !== machines)
    throw invalid('--firmware', `give one firmware for all machines or one per machine (${machines})`);
  return Array.from({ length: machines }, (_, i) => (list[i] ?? list[0]) as Firmware);
}

export function registerLabCommand(program: Command): Command {
  const lab = program
    .command('lab')
    .description('A virtual lab: QEMU machines with virtual BMCs, booted by Ingot');
  lab
    .command('up')
    .description(
      'Create the lab network, start the VMs’ BMCs and rack services, enrol the VMs as new machines',
    )
    .option('--name <name>', 'lab name (1-12 lower-case letters or digits)', 'lab')
    .option('--machines <n>', `number of VMs (at most ${MAX_LAB_MACHINES} on 2 cores)`, '2')
    .option('--firmware <fw>', 'bios or uefi, or one per machine: bios,uefi', 'bios')
    .option('--memory <MiB>', 'memory per VM', '512')
    .option('--disk <GiB>', 'disk per VM (qcow2, allocated on write)', '8')
    .option('--cidr <cidr>', 'the lab network (inside its namespaces only)', '10.77.0.0/24')
    .option('--kernel-args <args>', 'appended to the ephemeral OS kernel line (e.g. ingot.after=wait)')
    .option(...dataOpt, defaultData)
    .option('--database <url>', 'the region’s PostgreSQL URL, if it uses one', process.env.INGOT_DATABASE)
    .action(async (o, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const machines = positive('--machines', o.machines, MAX_LAB_MACHINES);
      const st = await labUp({
        name: o.name,
        dataDir: o.data,
        database: o.database,
        machines,
        firmware: parseFirmware(o.firmware, machines),
        memoryMiB: positive('--memory', o.memory, 65536),
        diskGiB: positive('--disk', o.disk, 4096),
        cidr: o.cidr,
        kernelArgs: o.kernelArgs,
        regionUrl: client.target.url,
        token: client.target.token,
        fingerprint: client.target.fingerprint,
      });
      printStatus(await labStatus(o.name, st), format);
    });
  lab
    .command('status')
    .description('Show the lab: VMs, power, BMC and rack addresses, problems')
    .option('--name <name>', 'lab name', 'lab')
    .option(...dataOpt, defaultData)
    .action(async (o, cmd: Command) => {
      const { format } = ctx(cmd);
      const s = await labStatus(o.name, readState(labDirFor(o.data, o.name)));
      printStatus(s, format);
      if (s.status !== 'up') process.exitCode = 1;
    });
  lab
    .command('down')
    .description('Stop the VMs, BMCs and rack services and delete the lab’s namespaces (also after a crash)')
    .option('--name <name>', 'lab name', 'lab')
    .option(...dataOpt, defaultData)
    .action(async (o) => {
      const r = await labDown(o.data, o.name);
      const what = [
        r.stopped ? 'stopped the lab process' : null,
        r.killed.length ? `stopped PIDs ${r.killed.join(', ')}` : null,
        r.removed.length ? `deleted namespaces ${r.removed.join(', ')}` : null,
      ].filter(Boolean);
      process.stdout.write(`lab ${o.name}: ${what.length ? what.join('; ') : 'nothing was running'}\n`);
    });
  return lab;
}

function printStatus(s: LabStatus, format: Format): void {
  if (printData(s, format)) return;
  const head = [`lab ${s.name}: ${s.status}${s.accel ? ` (accel ${s.accel})` : ''}`];
  if (s.rackHttp) head.push(`rack services: ${s.rackHttp} (inside namespace ingot-${s.name}-prov)`);
  if (s.bmc) head.push(`virtual BMC:   ${s.bmc}`);
  process.stdout.write(`${head.join('\n')}\n`);
  if (s.machines.length)
    process.stdout.write(
      table(
        ['HOSTNAME', 'MACHINE', 'MAC', 'FIRMWARE', 'POWER', 'BMC'],
        s.machines.map((m) => [m.hostname, m.machineId, m.mac, m.firmware, m.power, m.bmcAddress]),
      ),
    );
  for (const p of s.problems) process.stdout.write(`problem: ${p}\n`);
}
