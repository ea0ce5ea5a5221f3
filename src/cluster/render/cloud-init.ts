import type { PlannedNode } from '../plan/types.ts';
import { BOOTSTRAP_PATH } from './bootstrap.ts';
import type { NodeFile, RenderContext } from './context.ts';
import { toYaml } from './yaml.ts';

/**
 * `#cloud-config` user-data for one node: hostname, hardened SSH defaults, every file, and one
 * runcmd that runs the bootstrap script (a script with `set -e`, so a failing step stops the
 * bootstrap instead of cloud-init carrying on with the next runcmd entry).
 */
export function userData(ctx: RenderContext, node: PlannedNode, files: readonly NodeFile[]): string {
  const doc = {
    hostname: node.hostname,
    fqdn: node.hostname,
    prefer_fqdn_over_hostname: false,
    manage_etc_hosts: true,
    preserve_hostname: false,
    ssh_pwauth: false,
    disable_root: true,
    package_update: false,
    package_upgrade: false,
    write_files: files.map((f) => ({
      path: f.path,
      content: f.content,
      owner: 'root:root',
      permissions: `0${f.mode.toString(8)}`,
    })),
    // When the region orders the bootstrap, the node agent runs the script on request instead.
    ...(ctx.bootstrapBy === 'agent' ? {} : { runcmd: [[BOOTSTRAP_PATH]] }),
  };
  return `#cloud-config\n# Rendered by Ingot for ${node.hostname} (${node.role}) of cluster ${ctx.spec.metadata.name}.\n${toYaml(doc)}`;
}
