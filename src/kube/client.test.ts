/**
 * The Kubernetes client against a loopback HTTP server that answers as the API server does
 * (the paths, list shapes and status codes of the core/v1 API): what it reads as conditions and
 * which requests a drain sends. The real API server is the k8s test bed's (docs/cluster.md).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isIngotError } from '../core/errors.ts';
import { KubeClient } from './client.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  auth: string | undefined;
  body: unknown;
}

const node = (name: string, ready: boolean) => ({
  metadata: { name },
  status: {
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    nodeInfo: { kubeletVersion: 'v1.20.1' },
  },
});
const pod = (
  name: string,
  ns: string,
  o: { ready?: boolean; owner?: string; mirror?: boolean; phase?: string } = {},
) => ({
  metadata: {
    name,
    namespace: ns,
    ...(o.owner ? { ownerReferences: [{ kind: o.owner, name: 'x', apiVersion: 'apps/v1', uid: 'u' }] } : {}),
    ...(o.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'abc' } } : {}),
  },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
  },
});

/** Plain HTTP on loopback: the client allows it only with insecure-skip-tls-verify. */
function kubeconfig(server: string): string {
  return `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: "t0ken" } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;
}

describe('the Kubernetes client', () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  let tokenSecret: { metadata: { name: string }; data: Record<string, string> } | null = null;
  before(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let text = '';
      for await (const c of req) text += c;
      seen.push({
        method: req.method!,
        url: req.url!,
        contentType: req.headers['content-type'],
        auth: req.headers.authorization,
        body: text ? JSON.parse(text) : null,
      });
      const send = (o: unknown) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(o));
      };
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/api/v1/nodes')
        return send({
          kind: 'NodeList',
          apiVersion: 'v1',
          metadata: {},
          items: [node('cp-1', true), node('w-1', true), node('w-2', false)],
        });
      if (
        u.pathname === '/api/v1/namespaces/kube-system/pods' &&
        u.searchParams.get('labelSelector') === 'component=etcd'
      )
        return send({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: {},
          items: [
            pod('etcd-cp-1', 'kube-system'),
            pod('etcd-cp-2', 'kube-system', { ready: false }),
            pod('etcd-cp-3', 'kube-system'),
          ],
        });
      if (
        u.pathname === '/api/v1/namespaces/kube-system/pods' &&
        u.searchParams.get('labelSelector') === 'component=kube-apiserver'
      )
        return send({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: {},
          items: [
            {
              ...pod('kube-apiserver-cp-1', 'kube-system'),
              spec: {
                nodeName: 'cp-1',
                containers: [{ name: 'a', image: 'k8s.gcr.io/kube-apiserver:v1.20.2' }],
              },
            },
          ],
        });
      if (u.pathname.startsWith('/api/v1/nodes/') && req.method === 'PATCH')
        return send(node(u.pathname.split('/').at(-1)!, true));
      if (u.pathname === '/api/v1/pods')
        return send({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: {},
          items: [
            pod('web-1', 'default', { owner: 'ReplicaSet' }),
            pod('kube-proxy-x', 'kube-system', { owner: 'DaemonSet' }),
            pod('kube-apiserver-w-1', 'kube-system', { mirror: true }),
            pod('job-done', 'default', { phase: 'Succeeded' }),
          ],
        });
      // One bootstrap-token Secret, kept as the API server would (create, read, replace).
      if (u.pathname.startsWith('/api/v1/namespaces/kube-system/secrets')) {
        const name = u.pathname.split('/')[6];
        if (req.method === 'GET' && name === tokenSecret?.metadata.name) return send(tokenSecret);
        if ((req.method === 'POST' && !tokenSecret) || (req.method === 'PUT' && tokenSecret)) {
          const body = JSON.parse(text);
          const data = Object.fromEntries(
            Object.entries(body.stringData as Record<string, string>).map(([k, v]) => [
              k,
              Buffer.from(v).toString('base64'),
            ]),
          );
          tokenSecret = { ...body, stringData: undefined, data };
          res.statusCode = req.method === 'POST' ? 201 : 200;
          return send(tokenSecret);
        }
      }
      if (u.pathname.endsWith('/eviction') && req.method === 'POST') {
        res.statusCode = 201;
        return send({ kind: 'Eviction', apiVersion: 'policy/v1', metadata: {} });
      }
      res.statusCode = 404;
      send({ kind: 'Status', status: 'Failure', code: 404 });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('reads nodes Ready x/y and etcd members with quorum, with the kubeconfig’s credentials', async () => {
    const c = await new KubeClient().conditions(kubeconfig(url));
    assert.equal(c.apiReachable, true);
    assert.equal(c.apiError, null);
    assert.deepEqual(c.nodes, { ready: 2, total: 3 });
    assert.deepEqual(c.etcd, { healthy: 2, members: 3, quorum: true });
    assert.ok(seen.every((s) => s.auth === 'Bearer t0ken'));
  });

  it('reads the versions an upgrade checks: each kube-apiserver pod’s image tag by node, each kubelet’s', async () => {
    const v = await new KubeClient().versions(kubeconfig(url));
    assert.deepEqual(v.apiServers, [{ node: 'cp-1', version: 'v1.20.2' }]);
    assert.deepEqual(
      v.kubelets.map((k) => k.node),
      ['cp-1', 'w-1', 'w-2'],
    );
    assert.ok(v.kubelets.every((k) => k.version === 'v1.20.1'));
  });

  it('says the API is not reachable, and why, instead of throwing', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const c = await new KubeClient().conditions(kubeconfig(`http://127.0.0.1:${port}`));
    assert.equal(c.apiReachable, false);
    assert.match(c.apiError ?? '', /ECONNREFUSED|connect/i);
    assert.equal(c.nodes, null);
  });

  it('pod requests: an API that does not answer is a retryable INGOT_UNREACHABLE saying why', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(
      new KubeClient().requests(kubeconfig(`http://127.0.0.1:${port}`)),
      (e) =>
        isIngotError(e, 'INGOT_UNREACHABLE') &&
        e.retryable &&
        /pod requests: .*(ECONNREFUSED|connect)/i.test(e.message),
    );
  });

  it('drains as kubectl does: cordon with a merge patch, evict all but DaemonSet, mirror and finished pods', async () => {
    seen.length = 0;
    const r = await new KubeClient().drain(kubeconfig(url), ['w-1']);
    assert.deepEqual(r, { cordoned: 1, evicted: 1 });
    const patch = seen.find((s) => s.method === 'PATCH');
    assert.equal(patch?.url, '/api/v1/nodes/w-1');
    assert.equal(patch?.contentType, 'application/merge-patch+json');
    assert.deepEqual(patch?.body, { spec: { unschedulable: true } });
    const list = seen.find((s) => s.url.startsWith('/api/v1/pods'));
    assert.equal(new URL(list!.url, 'http://x').searchParams.get('fieldSelector'), 'spec.nodeName=w-1');
    const evictions = seen.filter((s) => s.url.endsWith('/eviction')).map((s) => s.url);
    assert.deepEqual(evictions, ['/api/v1/namespaces/default/pods/web-1/eviction']);
  });

  it('re-creates the join token’s bootstrap-token Secret when it is gone or expiring, and leaves a valid one alone', async () => {
    const token = { token: 'abcdef.0123456789abcdef', ttlSeconds: 7200 };
    const client = new KubeClient();
    const writes = () => seen.filter((x) => x.url.includes('/secrets') && x.method !== 'GET');
    seen.length = 0;
    assert.equal(await client.ensureBootstrapToken(kubeconfig(url), token), 'created');
    assert.equal(writes()[0].method, 'POST');
    assert.equal(writes()[0].url, '/api/v1/namespaces/kube-system/secrets');
    const body = writes()[0].body as {
      type: string;
      metadata: { name: string };
      stringData: Record<string, string>;
    };
    assert.equal(body.type, 'bootstrap.kubernetes.io/token');
    assert.equal(body.metadata.name, 'bootstrap-token-abcdef');
    assert.equal(body.stringData['token-id'], 'abcdef');
    assert.equal(body.stringData['token-secret'], '0123456789abcdef');
    assert.equal(body.stringData['auth-extra-groups'], 'system:bootstrappers:kubeadm:default-node-token');
    assert.equal(body.stringData['usage-bootstrap-authentication'], 'true');
    assert.match(body.stringData.expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const left = Date.parse(body.stringData.expiration) - Date.now();
    assert.ok(left > 7190_000 && left <= 7200_000, `${left} ms left`);
    // Valid for 2 h: nothing written.
    seen.length = 0;
    assert.equal(await client.ensureBootstrapToken(kubeconfig(url), token), 'valid');
    assert.equal(writes().length, 0);
    // Ten minutes left (below the 15 min margin): replaced with a fresh expiry.
    tokenSecret!.data.expiration = Buffer.from(new Date(Date.now() + 600_000).toISOString()).toString(
      'base64',
    );
    assert.equal(await client.ensureBootstrapToken(kubeconfig(url), token), 'created');
    assert.deepEqual(
      writes().map((x) => [x.method, x.url]),
      [['PUT', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef']],
    );
  });

  it('never puts the join token in its error when the API refuses', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = await new KubeClient()
      .ensureBootstrapToken(kubeconfig(`http://127.0.0.1:${port}`), {
        token: 'abcdef.0123456789abcdef',
        ttlSeconds: 7200,
      })
      .then(
        () => assert.fail('no error'),
        (x: Error) => x,
      );
    assert.match(e.message, /join token on the control plane: /);
    assert.doesNotMatch(e.message, /0123456789abcdef/);
  });

  it('refuses a kubeconfig that names no cluster, naming the field', async () => {
    await assert.rejects(new KubeClient().conditions('apiVersion: v1\nkind: Config\n'), /kubeconfig:/);
  });
});
