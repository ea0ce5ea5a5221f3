import type { PlannedNode } from '../plan/types.ts';
import { BOOTSTRAP_PATH } from './bootstrap.ts';
import { type NodeFile, nodeStrings, type RenderContext } from './context.ts';
import { toYaml } from './yaml.ts';
import { toYamlWithList } from './yaml-list.ts';

/**
 * `#cloud-config` user-data for one node: hostname, hardened SSH defaults, every file, and one
 * runcmd that runs the bootstrap script (a script with `set -e`, so a failing step stops the
 * bootstrap instead of cloud-init carrying on with the next runcmd entry).
 */
export function userData(ctx: RenderContext, node: PlannedNode, files: readonly NodeFile[]): string {
  const head = {
    hostname: node.hostname,
    fqdn: node.hostname,
    prefer_fqdn_over_hostname: false,
    manage_etc_hosts: true,
    preserve_hostname: false,
    ssh_pwauth: false,
    disable_root: true,
    package_update: false,
    package_upgrade: false,
    // When the region orders the bootstrap, the node agent runs the script on request instead.
    ...(ctx.bootstrapBy === 'agent' ? {} : { runcmd: [[BOOTSTRAP_PATH]] }),
  };
  const writeFiles = files.map((f) => ({
    value: { path: f.path, content: f.content, owner: 'root:root', permissions: `0${f.mode.toString(8)}` },
    content: f.content,
    id: `${f.path}\n${f.mode}`,
    pieces: f.pieces,
  }));
  // With a render's templates, shared files (certificates, containerd, packages…) are
  // serialised once per render and the per-node ones (bootstrap, kubeadm config) once per shape.
  const yaml = ctx.yaml
    ? toYamlWithList(head, 'write_files', writeFiles, nodeStrings(node), ctx.yaml)
    : toYaml({ ...head, write_files: writeFiles.map((f) => f.value) });
  return `#cloud-config\n# Rendered by Ingot for ${node.hostname} (${node.role}) of cluster ${ctx.spec.metadata.name}.\n${yaml}`;
}
