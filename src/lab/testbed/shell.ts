/**
 * The bed's nodes as a NodeShell (src/kube/etcd/shell.ts): commands run inside the node's
 * namespaces (nsenter through its init, whose PID the state file keeps current across power
 * cycles), files are read and written through the init's root (`/proc/<pid>/root`), which is
 * the node's own mount namespace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { NodeShell } from '../../kube/etcd/shell.ts';
import { readState } from './bed.ts';
import { inNode } from './node.ts';

export function bedShell(root: string, bed: string): NodeShell {
  const pid = (node: string) => {
    const n = readState(root, bed)?.nodes.find((x) => x.name === node);
    if (!n) throw new Error(`test bed ${bed} has no node ${node}`);
    return n.pid;
  };
  return {
    exec: (node, argv) => inNode(pid(node), argv[0], argv.slice(1)),
    readFile: async (node, path) => readFileSync(`/proc/${pid(node)}/root${path}`),
    writeFile: async (node, path, data) =>
      writeFileSync(`/proc/${pid(node)}/root${path}`, data, { mode: 0o600 }),
  };
}
