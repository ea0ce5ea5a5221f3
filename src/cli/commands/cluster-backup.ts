/**
 * `ingot cluster backup ls|create|restore`: etcd backups of a running cluster (docs/day2.md
 * "Backups"). `create` takes a snapshot on a control plane now (with `--wait`, until it is
 * stored and checksummed); `restore` puts the cluster's etcd back to a backup on every control
 * plane — everything written since is lost — as a durable operation, followed to its end unless
 * `--no-wait` (exit 1 with the reason when it failed; admin token);
 * `s3-keys` rotates the S3 keys of `target: region-s3` (admin token; the secret key from a file,
 * stdin or INGOT_S3_SECRET_KEY, never from the command line, and never printed).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { ctx } from '../context.ts';
import { ago, bytes, printData, table } from '../output.ts';

interface BackupView {
  id: string;
  trigger: string;
  state: string;
  reason: string;
  createdAt: string;
  takenAt: string | null;
  node: string | null;
  sizeBytes: number | null;
  sha256: string | null;
  location: string | null;
  revision: number | null;
}

interface RestoreView {
  operation: string;
  state: string;
  reason: string;
  backup: string;
  controlPlanes: string[];
  step: string;
  keptDataDirs: string[];
  apiAfterSeconds: number | null;
  nodes: { back: number; total: number; notBack: string[] } | null;
  nodesAfterSeconds: number | null;
  kubeletsRestarted: { at: string; nodes: string[]; failed: { node: string; error: string }[] } | null;
}

const base = (name: string) => `/api/v1/clusters/${encodeURIComponent(name)}/backups`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a finished restore says of the nodes (back on the restored data, or which are not). */
function nodesSaid(r: RestoreView): string {
  if (!r.nodes) return '; the nodes were not checked';
  const k = r.kubeletsRestarted;
  const restarted = k
    ? ` (the kubelet restarted on ${k.nodes.join(', ')} at ${k.at.slice(11, 19)}${k.failed.length ? `; failed on ${k.failed.map((f) => f.node).join(', ')}` : ''})`
    : '';
  if (!r.nodes.notBack.length)
    return `; every node back (${r.nodes.total}) after ${r.nodesAfterSeconds} s${restarted}`;
  return `; ${r.nodes.back}/${r.nodes.total} nodes back — not back: ${r.nodes.notBack.join(', ')}${restarted} (look at them: \`ingot cluster show\`)`;
}

export function registerClusterBackup(cluster: Command): void {
  const backup = cluster
    .command('backup')
    .description('etcd backups of a cluster: ls, create, restore, s3-keys');

  backup
    .command('ls <name>')
    .description('the cluster’s etcd backups, newest first, with their SHA-256')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const r = await client.get<{ items: BackupView[] }>(base(name));
      if (printData(r, format)) return;
      process.stdout.write(
        `${table(
          ['ID', 'TRIGGER', 'STATE', 'TAKEN', 'NODE', 'SIZE', 'REVISION', 'SHA256', 'REASON'],
          r.items.map((b) => [
            b.id,
            b.trigger,
            b.state,
            b.takenAt ? ago(b.takenAt) : '-',
            b.node ?? '-',
            b.sizeBytes === null ? '-' : bytes(b.sizeBytes),
            b.revision ?? '-',
            b.sha256 ?? '-',
            b.state === 'failed' ? b.reason : '',
          ]),
        )}\n`,
      );
    });

  backup
    .command('create <name>')
    .description('take an etcd snapshot on a control plane now, into the region’s artifact store')
    .option('--wait', 'wait until it is stored and checksummed (exit 1 if it failed)')
    .option('--timeout <s>', 'how long --wait waits', (v) => Number(v), 600)
    .action(async (name: string, o: { wait?: boolean; timeout: number }, cmd: Command) => {
      if (!Number.isInteger(o.timeout) || o.timeout < 1 || o.timeout > 86_400)
        throw invalid('--timeout', `${o.timeout} must be a whole number of seconds from 1 to 86400`);
      const { client, format } = ctx(cmd);
      let b = (await client.post<{ backup: BackupView }>(base(name), {})).backup;
      const end = Date.now() + o.timeout * 1000;
      while (o.wait && (b.state === 'pending' || b.state === 'running')) {
        if (Date.now() > end)
          throw invalid('--timeout', `backup ${b.id} is still ${b.state} after ${o.timeout} s`);
        await sleep(1000);
        b = (await client.get<{ backup: BackupView }>(`${base(name)}/${encodeURIComponent(b.id)}`)).backup;
      }
      if (!printData({ backup: b }, format))
        process.stdout.write(
          b.state === 'done'
            ? `backup ${b.id} of ${name} taken on ${b.node}: ${bytes(b.sizeBytes ?? 0)}, revision ${b.revision}, sha256 ${b.sha256}, in ${b.location}\n`
            : `backup ${b.id} of ${name} is ${b.state}${b.state === 'failed' ? `: ${b.reason}` : ` (\`ingot cluster backup ls ${name}\` follows it)`}\n`,
        );
      if (b.state === 'failed') process.exitCode = 1;
    });

  backup
    .command('restore <name> <backup>')
    .description(
      'restore the cluster’s etcd from the backup on every control plane (everything written since is lost; admin)',
    )
    .option('--wait', 'follow the restore to its end (the default; exit 1 with the reason if it failed)')
    .option('--no-wait', 'answer once the restore is recorded and started')
    .option('--timeout <s>', 'how long the wait lasts', (v) => Number(v), 1800)
    .action(async (name: string, id: string, o: { wait?: boolean; timeout: number }, cmd: Command) => {
      if (!Number.isInteger(o.timeout) || o.timeout < 1 || o.timeout > 86_400)
        throw invalid('--timeout', `${o.timeout} must be a whole number of seconds from 1 to 86400`);
      const { client, format } = ctx(cmd);
      const url = `${base(name)}/${encodeURIComponent(id)}/restore`;
      let r = await client.post<RestoreView>(url, {});
      const end = Date.now() + o.timeout * 1000;
      let step = r.step;
      while (o.wait !== false && r.state === 'running') {
        if (Date.now() > end)
          throw invalid(
            '--timeout',
            `restore ${r.operation} is still running after ${o.timeout} s (at step ${r.step}); \`ingot cluster backup restore ${name} ${id} --wait\` is refused while it runs: follow it with \`ingot cluster operations ${name}\``,
          );
        await sleep(2000);
        r = await client.get<RestoreView>(url);
        if (r.step !== step && format === 'table')
          process.stderr.write(`restore ${r.operation}: ${r.step}\n`);
        step = r.step;
      }
      if (!printData(r, format))
        process.stdout.write(
          r.state === 'succeeded'
            ? `${name} restored from ${r.backup} on ${r.controlPlanes.join(', ')}; the API answered after ${r.apiAfterSeconds} s${nodesSaid(r)}. The old etcd data is kept in ${r.keptDataDirs.join(', ')}\n`
            : r.state === 'running'
              ? `restore ${r.operation} of ${name} from ${r.backup} started on ${r.controlPlanes.join(', ')} (step ${r.step}); \`ingot cluster operations ${name}\` follows it\n`
              : `restore ${r.operation} of ${name} from ${r.backup} ${r.state}: ${r.reason}\n`,
        );
      if (r.state !== 'succeeded' && r.state !== 'running') process.exitCode = 1;
    });

  backup
    .command('s3-keys <name>')
    .description(
      'rotate the S3 keys of the cluster’s backups (target: region-s3): tried against the bucket, then sealed in place of the old ones (admin)',
    )
    .requiredOption('--access-key <id>', 'the new access key ID')
    .option('--secret-key-file <file>', 'read the new secret key from a file')
    .option('--secret-key-stdin', 'read the new secret key from stdin')
    .action(
      async (
        name: string,
        o: { accessKey: string; secretKeyFile?: string; secretKeyStdin?: boolean },
        cmd: Command,
      ) => {
        const secretKey = o.secretKeyFile
          ? readFileSync(o.secretKeyFile, 'utf8').replace(/\r?\n$/, '')
          : o.secretKeyStdin
            ? readFileSync(0, 'utf8').replace(/\r?\n$/, '')
            : process.env.INGOT_S3_SECRET_KEY;
        if (!secretKey)
          throw invalid(
            '--secret-key-file',
            '--secret-key-file, --secret-key-stdin or INGOT_S3_SECRET_KEY is required (secret keys never go on the command line)',
          );
        const { client, format } = ctx(cmd);
        const r = await client.put<{ cluster: string; bucket: string; endpoint: string; rotatedAt: string }>(
          `${base(name)}/s3-keys`,
          { accessKey: o.accessKey, secretKey },
        );
        if (!printData(r, format))
          process.stdout.write(
            `the S3 keys of ${r.cluster}'s backups (bucket ${r.bucket} at ${r.endpoint}) are rotated: the bucket accepted them, the old ones are deleted, backups from now on use the new ones\n`,
          );
      },
    );
}
