/**
 * A loopback stand-in for a cluster's Kubernetes API as the remediator reads it (the Node list,
 * one Node, its deletion, the pods of a node: none), recording every request, and the admin
 * kubeconfig that reaches it, stored for the cluster. Closed with `close()`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SqlStore } from '../../src/store/sql-store.ts';

export interface NodeApi {
  /** Every request, as `METHOD url`. */
  readonly requests: string[];
  close(): void;
}

export async function startNodeApi(
  store: SqlStore,
  clusterId: string,
  o: {
    /** The Nodes there are now. */
    readonly names: () => string[];
    /** One Node object. */
    readonly node: (name: string) => unknown;
    /** A DELETE of the Node. */
    readonly deleted: (name: string) => void;
  },
): Promise<NodeApi> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const names = o.names();
    if (req.method === 'GET' && url.pathname === '/api/v1/nodes')
      return json({ kind: 'NodeList', metadata: {}, items: names.map(o.node) });
    const one = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    if (one && names.includes(one[1])) {
      const body = o.node(one[1]);
      if (req.method === 'DELETE') o.deleted(one[1]);
      return json(body);
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/pods')
      return json({ kind: 'PodList', metadata: {}, items: [] });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await store.setClusterKubeconfig(
    clusterId,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`,
  );
  return {
    requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
