import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { collect, ctx } from '../context.ts';
import { printData, table } from '../output.ts';

interface Subnet {
  id: string;
  name: string;
  cidr: string;
  gateway: string | null;
  vlan: number | null;
  dhcpMode: string;
  autoEnlist: boolean;
  ranges: { kind: string; start: string; end: string }[];
}

function range(kind: string, v: string) {
  const [start, end] = v.split('-');
  if (!start || !end) throw invalid(`--${kind}`, `"${v}" is not START-END (e.g. 10.0.0.100-10.0.0.200)`);
  return { kind, start, end };
}

export function registerSubnet(program: Command): void {
  const subnet = program.command('subnet').alias('subnets').description('subnets and IP ranges');
  subnet
    .command('add <name> <cidr>')
    .description('create a subnet')
    .option('--gateway <ip>')
    .option('--dns <ip>', 'DNS server; repeat for more', collect)
    .option('--vlan <id>', 'VLAN id', (v) => Number(v))
    .option('--dhcp <mode>', 'full, proxy or off', 'off')
    .option('--auto-enlist', 'enlist unknown MACs that boot here as new machines')
    .option('--dynamic <start-end>', 'dynamic range; repeat for more', collect)
    .option('--reserved <start-end>', 'reserved range; repeat for more', collect)
    .action(async (name, cidr, o, cmd) => {
      const { client, format } = ctx(cmd);
      const ranges = [
        ...(o.dynamic ?? []).map((v: string) => range('dynamic', v)),
        ...(o.reserved ?? []).map((v: string) => range('reserved', v)),
      ];
      const s = await client.post<Subnet>('/api/v1/subnets', {
        name,
        cidr,
        gateway: o.gateway,
        dns: o.dns,
        vlan: o.vlan,
        dhcpMode: o.dhcp,
        autoEnlist: !!o.autoEnlist,
        ranges,
      });
      if (!printData(s, format)) process.stdout.write(`${s.id}\n`);
    });
  subnet
    .command('ls')
    .description('list subnets')
    .action(async (_o, cmd) => {
      const { client, format } = ctx(cmd);
      const list = await client.get<Subnet[]>('/api/v1/subnets');
      if (!printData(list, format)) {
        process.stdout.write(
          table(
            ['NAME', 'CIDR', 'GATEWAY', 'VLAN', 'DHCP', 'RANGES'],
            list.map((s) => [
              s.name,
              s.cidr,
              s.gateway,
              s.vlan,
              s.dhcpMode + (s.autoEnlist ? '+enlist' : ''),
              s.ranges.map((r) => `${r.kind}:${r.start}-${r.end}`).join(' '),
            ]),
          ),
        );
      }
    });
  subnet
    .command('show <subnet>')
    .description('show a subnet and its addresses in use')
    .action(async (ref, _o, cmd) => {
      const { client, format } = ctx(cmd);
      const s = await client.get<Subnet>(`/api/v1/subnets/${encodeURIComponent(ref)}`);
      const ips = await client.get<
        { ip: string; kind: string; mac: string | null; machineId: string | null; expiresAt: string | null }[]
      >(`/api/v1/subnets/${s.id}/addresses`);
      if (printData({ ...s, addresses: ips }, format)) return;
      process.stdout.write(`${s.name} ${s.cidr} gateway ${s.gateway ?? '-'} dhcp ${s.dhcpMode}\n`);
      process.stdout.write(
        table(
          ['IP', 'KIND', 'MAC', 'MACHINE', 'EXPIRES'],
          ips.map((a) => [a.ip, a.kind, a.mac, a.machineId, a.expiresAt]),
        ),
      );
    });
  subnet
    .command('rm <subnet>')
    .description('delete a subnet')
    .action(async (ref, _o, cmd) => {
      await ctx(cmd).client.delete(`/api/v1/subnets/${encodeURIComponent(ref)}`);
      process.stderr.write(`subnet ${ref} deleted\n`);
    });
}
