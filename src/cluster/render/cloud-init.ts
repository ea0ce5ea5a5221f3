import type { PlannedNode } from '../plan/types.ts';
import { BOOTSTRAP_PATH } from './bootstrap.ts';
import { type NodeFile, nodeStrings, type RenderContext } from './context.ts';
import { toYaml } from './yaml.ts';
import { toYamlWithList } from './yaml-list.ts';
import type { YamlTemplates } from './yaml-template.ts';

/**
 * `#cloud-config` user-data for one node: hostname, hardened SSH defaults, every file, and one
 * runcmd that runs the bootstrap script (a script with `set -e`, so a failing step stops the
 * bootstrap instead of cloud-init carrying on with the next runcmd entry).
 */
export function userData(ctx: RenderContext, node: PlannedNode, files: readonly NodeFile[]): string {
  const head = userDataHead(ctx, node.hostname);
  const writeFiles = files.map((f) => ({
    value: writeFileValue(f),
    content: f.content,
    id: itemId(f.path, f.mode, ctx.yaml),
    pieces: f.pieces,
  }));
  // With a render's templates, shared files (certificates, containerd, packages…) are
  // serialised once per render and the per-node ones (bootstrap, kubeadm config) once per shape.
  const yaml = ctx.yaml
    ? toYamlWithList(head, 'write_files', writeFiles, nodeStrings(node), ctx.yaml)
    : toYaml({ ...head, write_files: writeFiles.map((f) => f.value) });
  return cloudConfig(ctx, node.hostname, node.role, yaml);
}

/** The user-data's keys before `write_files` (which sorts after all of them). */
export function userDataHead(ctx: RenderContext, hostname: string): Record<string, unknown> {
  return {
    hostname,
    fqdn: hostname,
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
}

/** One `write_files` item. */
export function writeFileValue(f: NodeFile): Record<string, unknown> {
  return { path: f.path, content: f.content, owner: 'root:root', permissions: `0${f.mode.toString(8)}` };
}

/** The user-data's text around its YAML. */
export function cloudConfig(ctx: RenderContext, hostname: string, role: string, yaml: string): string {
  return `#cloud-config\n# Rendered by Ingot for ${hostname} (${role}) of cluster ${ctx.spec.metadata.name}.\n${yaml}`;
}

/**
 * A file's list-item id (`path` and `mode`), one string per render for each: looked up by its
 * items' and shapes' maps for each of 1,000 nodes, it is hashed once, not built and hashed again.
 */
function itemId(path: string, mode: number, cache: YamlTemplates | undefined): string {
  if (!cache) return `${path}\n${mode}`;
  let byMode = cache.ids.get(path);
  if (!byMode) {
    byMode = new Map();
    cache.ids.set(path, byMode);
  }
  let id = byMode.get(mode);
  if (id === undefined) {
    id = `${path}\n${mode}`;
    byMode.set(mode, id);
  }
  return id;
}
