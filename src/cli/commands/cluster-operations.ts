/**
 * `ingot cluster reconfigure -f FILE NAME` (roll a changed Cluster file out: today its
 * `spec.apiServer.extraArgs`), `ingot cluster rotate-certs NAME` (renew the control planes'
 * certificates), `ingot cluster os-replace NAME --image IMAGE` (redeploy the nodes with an OS
 * image in a roll), `ingot cluster operations NAME` (each operation with every
 * node's progress) and `ingot cluster pause|resume|abort NAME` (the running one). A second
 * operation while one runs exits 4 (INGOT_OPERATION_RUNNING) naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import type { ClusterOperation, OperationControl } from '../../core/operation.ts';
import { OPERATION_CONTROLS } from '../../core/operation.ts';
import { collect, ctx } from '../context.ts';
import { printData } from '../output.ts';

const path = (name: string) => `/api/v1/clusters/${encodeURIComponent(name)}`;

function describe(o: ClusterOperation): string {
  const changes = o.params.changes
    .map((c) => (c.to === null ? `-${c.flag}` : `--${c.flag}=${c.to}`))
    .join(' ');
  const target = o.params.target
    ? ` [to ${o.params.target}]`
    : o.params.image
      ? ` [image ${o.params.image}]`
      : '';
  const lines = [`${o.id} ${o.kind} ${o.state}: ${o.reason}${changes ? ` [${changes}]` : ''}${target}`];
  const s = o.progress.snapshot;
  lines.push(
    `  etcd snapshot: ${s.state}${s.id ? ` ${s.id} on ${s.node}` : ''}${s.note ? ` (${s.note})` : ''}`,
  );
  for (const n of o.progress.nodes)
    lines.push(
      `  ${n.hostname} (${n.role}): ${n.state}${n.step ? `, ${n.step}` : ''}${n.message ? ` — ${n.message}` : ''}`,
    );
  return lines.join('\n');
}

export function registerClusterOperations(cluster: Command): void {
  cluster
    .command('reconfigure <name>')
    .description(
      'roll a changed Cluster file out (its kube-apiserver flags): etcd snapshot, control planes one at a time, workers drained in batches',
    )
    .requiredOption('-f, --file <cluster.yaml>', 'the changed Cluster file')
    .option('--max-unavailable <n>', 'workers at once: a count or a percentage such as 25%', '1')
    .action(async (name: string, o: { file: string; maxUnavailable: string }, cmd: Command) => {
      if (!existsSync(o.file)) throw invalid('--file', `${o.file} does not exist`);
      const mu = /^\d+$/.test(o.maxUnavailable) ? Number(o.maxUnavailable) : o.maxUnavailable;
      const { client, format } = ctx(cmd);
      const op = await client.post<ClusterOperation>(`${path(name)}/reconfigure`, {
        cluster: readFileSync(o.file, 'utf8'),
        maxUnavailable: mu,
      });
      if (printData(op, format)) return;
      process.stdout.write(`${describe(op)}\nfollow it with \`ingot cluster operations ${name}\`\n`);
    });

  cluster
    .command('upgrade <name>')
    .description(
      'upgrade Kubernetes (one minor at a time; skew rules checked first): etcd snapshot, kubeadm upgrade apply on the first control plane, upgrade node on the others, workers drained in batches',
    )
    .requiredOption('--to <version>', 'the target version, v1.21.3')
    .option('--max-unavailable <n>', 'workers at once: a count or a percentage such as 25%', '1')
    .action(async (name: string, o: { to: string; maxUnavailable: string }, cmd: Command) => {
      const mu = /^\d+$/.test(o.maxUnavailable) ? Number(o.maxUnavailable) : o.maxUnavailable;
      const { client, format } = ctx(cmd);
      const op = await client.post<ClusterOperation>(`${path(name)}/upgrade`, {
        version: o.to,
        maxUnavailable: mu,
      });
      if (printData(op, format)) return;
      process.stdout.write(`${describe(op)}\nfollow it with \`ingot cluster operations ${name}\`\n`);
    });

  cluster
    .command('os-replace <name>')
    .description(
      "replace the nodes' OS in a roll: control planes named with --node first, one at a time (quorum checked, drained, etcd member removed, redeployed, kubeadm join --control-plane with fresh credentials, member healthy, Ready; 3 or more with stacked etcd), then the workers, each cordoned, drained (PDBs honoured), its Node deleted, its machine redeployed with the image, joined again with a fresh token, uncordoned and Ready before the next batch",
    )
    .requiredOption('--image <name>', 'a ready OS image of the region (ingot image ls)')
    .option('--max-unavailable <n>', 'workers at once: a count or a percentage such as 25%', '1')
    .option(
      '--node <hostname>',
      'replace only this node (a worker or a control plane); repeat for more (default: every worker)',
      collect,
    )
    .action(
      async (name: string, o: { image: string; maxUnavailable: string; node?: string[] }, cmd: Command) => {
        const mu = /^\d+$/.test(o.maxUnavailable) ? Number(o.maxUnavailable) : o.maxUnavailable;
        const { client, format } = ctx(cmd);
        const op = await client.post<ClusterOperation>(`${path(name)}/os-replace`, {
          image: o.image,
          maxUnavailable: mu,
          ...(o.node?.length ? { nodes: o.node } : {}),
        });
        if (printData(op, format)) return;
        process.stdout.write(`${describe(op)}\nfollow it with \`ingot cluster operations ${name}\`\n`);
      },
    );

  cluster
    .command('rotate-certs <name>')
    .description(
      "renew the control planes' certificates (kubeadm certs renew all): etcd snapshot, one control plane at a time, static pods restarted, API healthy before the next",
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const op = await client.post<ClusterOperation>(`${path(name)}/rotate-certificates`, {});
      if (printData(op, format)) return;
      process.stdout.write(`${describe(op)}\nfollow it with \`ingot cluster operations ${name}\`\n`);
    });

  cluster
    .command('operations <name>')
    .description("the cluster's operations, newest first, with every node's progress")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const ops = await client.get<ClusterOperation[]>(`${path(name)}/operations`);
      if (printData(ops, format)) return;
      process.stdout.write(
        ops.length ? `${ops.map(describe).join('\n')}\n` : `cluster ${name} has run no operation\n`,
      );
    });

  for (const control of OPERATION_CONTROLS)
    cluster
      .command(`${control} <name>`)
      .description(`${control} the cluster's running operation`)
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const { client, format } = ctx(cmd);
        const op = await client.post<ClusterOperation>(
          `${path(name)}/operations/active/${control satisfies OperationControl}`,
          {},
        );
        if (printData(op, format)) return;
        process.stdout.write(`${describe(op)}\n`);
      });
}
