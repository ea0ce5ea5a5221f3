/**
 * `ingot lab up|status|down`: a virtual lab of QEMU machines behind virtual Redfish BMCs,
 * network-booted by Ingot's rack services, enrolled in the region as `new` machines.
 * Needs root (network namespaces, taps). See docs/lab.md.
 *
 * `ingot lab testbed up|status|down|kubectl`: real Kubernetes 1.20.2 nodes as namespaces on
 * this host, from the bundle `scripts/kubernetes-bundle.ts` builds (docs/kubernetes.md). Root.
 */
import type { Command } from 'commander';
import { defaultDataDir } from '../paths.ts';
import { invalid } from '../../core/errors.ts';
import { labDown, labUp } from '../../lab/control.ts';
import { MAX_LAB_MACHINES } from '../../lab/lab.ts';
import type { Firmware } from '../../lab/qemu.ts';
import {
  DEFAULT_ROOT,
  down as bedDown,
  kubectl,
  readState as readBedState,
  status as bedStatus,
  up as bedUp,
} from '../../lab/testbed/bed.ts';
import { TOPOLOGIES } from '../../lab/testbed/topology.ts';
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
    .option('--cpus <n>', 'vCPUs per VM (a kubeadm control plane needs 2)', '1')
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
        cpus: positive('--cpus', o.cpus, 16),
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
  registerTestbedCommand(lab);
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

function registerTestbedCommand(lab: Command): void {
  const tb = lab
    .command('testbed')
    .description('Real Kubernetes 1.20.2 nodes as namespaces on this host (root)');
  const nameOpt = ['--name <name>', 'bed name (1-8 lower-case letters or digits)', 'tb'] as const;
  const rootOpt = ['--root <dir>', 'where beds keep their nodes’ files', DEFAULT_ROOT] as const;
  tb.command('up')
    .description(
      'Render a cluster with Ingot, start the nodes, kubeadm init and join, wait until every node is Ready',
    )
    .option(
      '--topology <t>',
      `${TOPOLOGIES.join(' or ')} (1+2: a control plane and two workers; 3+0: 3 control planes with stacked etcd behind haproxy, no worker; ha: 3 control planes with stacked etcd behind haproxy + 2 workers)`,
      '1+1',
    )
    .option(
      '--prepared',
      'stop before Kubernetes: containerd, the bundle’s binaries and images, no kubeadm (for a region’s cluster create)',
    )
    .option(...nameOpt)
    .option(...rootOpt)
    .action(async (o, cmd: Command) => {
      const { format } = ctx(cmd);
      const s = await bedUp({
        name: o.name,
        topology: o.topology,
        root: o.root,
        prepared: o.prepared === true,
        say: (l) => process.stderr.write(`testbed: ${l}\n`),
      });
      printBed(bedStatus({ name: s.name, root: o.root }), format);
    });
  tb.command('status')
    .description('Show the bed’s nodes and how long each phase of `up` took')
    .option(...nameOpt)
    .option(...rootOpt)
    .action((o, cmd: Command) => {
      const s = bedStatus({ name: o.name, root: o.root });
      printBed(s, ctx(cmd).format);
      if (!s || s.nodes.some((n) => !n.alive)) process.exitCode = 1;
    });
  tb.command('down')
    .description(
      'Kill every node process by PID, delete the namespaces and cgroups, restore the host sysctls',
    )
    .option(...nameOpt)
    .option(...rootOpt)
    .action(async (o) => {
      const done = await bedDown({ name: o.name, root: o.root });
      process.stdout.write(`testbed ${o.name}: ${done.length ? done.join('; ') : 'nothing was running'}\n`);
    });
  tb.command('kubectl')
    .description('kubectl with the admin kubeconfig, inside the first control plane')
    .argument('[args...]')
    .option(...nameOpt)
    .option(...rootOpt)
    .action(async (args: string[], o) => {
      const s = readBedState(o.root, o.name);
      if (!s) throw new Error(`no test bed ${o.name}: \`ingot lab testbed up\` first`);
      process.stdout.write(await kubectl(s, args));
    });
}

function printBed(s: ReturnType<typeof bedStatus>, format: ReturnType<typeof ctx>['format']): void {
  if (printData(s, format)) return;
  if (!s) {
    process.stdout.write('no test bed\n');
    return;
  }
  process.stdout.write(`testbed ${s.name} (${s.topology})\n`);
  process.stdout.write(
    table(
      ['NODE', 'ROLE', 'ADDRESS', 'NAMESPACE', 'PID', 'ALIVE'],
      s.nodes.map((n) => [n.name, n.role, n.ip, n.ns, n.pid, n.alive ? 'yes' : 'no']),
    ),
  );
  const t = Object.entries(s.timings).map(([k, v]) => `${k} ${v} s`);
  if (t.length) process.stdout.write(`up: ${t.join(', ')}\n`);
}
