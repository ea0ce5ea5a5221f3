/**
 * `ingot cluster scale NAME --workers N [--remove NODE]… [--pool P] [--wait]`: add workers from
 * ready machines, or drain, delete and release workers (newest first, or the ones named).
 * `--control-planes N` (a scale of its own; odd, never below the etcd quorum) adds control planes
 * one at a time (`kubeadm join --control-plane`, etcd member healthy and Node Ready before the
 * next) or removes the newest (drained, etcd member removed, released). docs/day2.md "Scale".
 */
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { ctx } from '../context.ts';
import { printData } from '../output.ts';
import { follow, lastEventId } from './cluster-lifecycle.ts';

interface ScaleView {
  cluster: { state: string; stateReason: string; members: { hostname: string; role: string }[] };
  job: { id: string } | null;
}

const count = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw invalid(flag, `"${v}" must be a whole number`);
  return n;
};

export function registerClusterScale(cluster: Command): void {
  cluster
    .command('scale <name>')
    .description(
      "scale the workers or the control planes: more are allocated from ready machines and joined (control planes one at a time, etcd member added); fewer are cordoned, drained (PDBs respected), deleted (a control plane's etcd member removed first) and released with a wipe",
    )
    .option('--workers <n>', 'the workers the cluster should have', count('--workers'))
    .option(
      '--remove <node>',
      'remove this worker (repeat for more) instead of the newest',
      (v, all: string[]) => [...all, v],
      [],
    )
    .option(
      '--control-planes <n>',
      'the control planes the cluster should have (odd, never below the etcd quorum; in a scale of its own)',
      count('--control-planes'),
    )
    .option('--pool <name>', 'the worker pool (default: the only one)')
    .option('--wipe <mode>', 'quick or secure, for removed workers', 'quick')
    .option('--wait', 'follow the scale until the cluster runs again; exit 7 if it fails')
    .option('--timeout <s>', 'with --wait: give up after this many seconds', (v) => Number(v), 7200)
    .action(
      async (
        name: string,
        o: {
          workers?: number;
          remove: string[];
          controlPlanes?: number;
          pool?: string;
          wipe: string;
          wait?: boolean;
          timeout: number;
        },
        cmd: Command,
      ) => {
        if (o.wipe !== 'quick' && o.wipe !== 'secure')
          throw invalid('--wipe', `"${o.wipe}" must be quick or secure`);
        if (o.workers === undefined && o.remove.length === 0 && o.controlPlanes === undefined)
          throw invalid('--workers', 'say how many workers the cluster should have (or --remove NODE)');
        const { client, format } = ctx(cmd);
        const after = o.wait ? await lastEventId(client, name) : 0;
        const r = await client.post<ScaleView>(`/api/v1/clusters/${encodeURIComponent(name)}/scale`, {
          ...(o.workers !== undefined ? { workers: o.workers } : {}),
          ...(o.remove.length ? { remove: o.remove } : {}),
          ...(o.controlPlanes !== undefined ? { controlPlanes: o.controlPlanes } : {}),
          ...(o.pool ? { pool: o.pool } : {}),
          ...(o.wipe === 'secure' ? { wipe: 'secure' } : {}),
        });
        if (!r.job) {
          if (printData(r, format)) return;
          const workers = r.cluster.members.filter((m) => m.role === 'worker').length;
          process.stdout.write(`cluster ${name} has ${workers} workers already; nothing to do\n`);
          return;
        }
        // The scale's reason names what it adds and removes.
        const what = r.cluster.stateReason.replace(/^scale requested by \S+: /, '');
        if (!o.wait) {
          if (printData(r, format)) return;
          process.stdout.write(`cluster ${name} ${r.cluster.state}: ${what}\n`);
          return;
        }
        const c = await follow(client, name, { timeoutMs: o.timeout * 1000, until: ['running'], after });
        const workers = (c as unknown as ScaleView['cluster']).members.filter(
          (m) => m.role === 'worker',
        ).length;
        process.stdout.write(`cluster ${name} ${c.state}: ${what} done; workers: ${workers}\n`);
      },
    );
}
