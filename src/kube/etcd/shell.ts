/**
 * How the region runs a command on one of a cluster's nodes and moves files to and from it:
 * what an etcd snapshot and restore need on a control plane. On a deployed machine this is the
 * node agent's job (not wired yet: docs/day2.md); the test bed implements it by entering the
 * node's namespaces (src/lab/testbed/shell.ts).
 */
export interface NodeShell {
  /** Runs argv on the node; resolves with its stdout, rejects with its stderr when it fails. */
  exec(node: string, argv: readonly string[]): Promise<string>;
  readFile(node: string, path: string): Promise<Buffer>;
  writeFile(node: string, path: string, data: Buffer): Promise<void>;
}
