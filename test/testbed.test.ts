/**
 * The multi-node test bed (src/lab/testbed, docs/kubernetes.md) against real Kubernetes 1.20.2
 * built from Debian's source: a control plane and a worker as namespaces on this host, brought
 * up with Ingot's rendered kubeadm config; the API is used through @kubernetes/client-node.
 * In CI the bundle must be there (.ci/run builds it): a missing one fails this suite.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type ApiAccess, apiAccess } from '../src/lab/testbed/api.ts';
import { type BedState, bedBundle, down, up } from '../src/lab/testbed/bed.ts';
import { cgroupPids, inNode, killNode } from '../src/lab/testbed/node.ts';
import { bedBmc } from '../src/lab/testbed/power.ts';
import '../src/bmc/index.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { startTestRegion } from './support/region.ts';
import { KUBELET_SYSCTLS, saveSysctls } from '../src/lab/testbed/sysctls.ts';
import { listNamespaces } from '../src/lab/netns.ts';
import { skipUnless } from './support/needs.ts';

const NEEDS = {
  root: true,
  programs: ['containerd', 'runc', 'ctr', 'haproxy', 'umoci', 'skopeo', 'nsenter', 'curl'],
  files: {
    'the Kubernetes 1.20.2 bundle (node scripts/kubernetes-bundle.ts)': join(bedBundle(), 'ingot-build.json'),
    'busybox-static': '/bin/busybox',
  },
};
const IMAGE = 'ingot.test/httpd:1';

/** Polls `fn` every second until it returns true; throws naming `what` after `ms`. */
async function waitFor(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(1000);
  }
}

/** Calls `fn` until it resolves, for up to a minute; then throws its last error. */
async function eventually<T>(fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(1000);
    }
  }
}

/** Brings a bed up in ROOT for one suite, with its API reached from the host and clients for it. */
async function startBed(
  name: string,
  topology: '1+1' | 'ha',
  root: string,
): Promise<{ bed: BedState; api: ApiAccess; core: CoreV1Api; apps: AppsV1Api }> {
  const t = Date.now();
  const bed = await up({ name, topology, root, say: (l) => process.stderr.write(`testbed: ${l}\n`) });
  process.stderr.write(
    `testbed ${topology} up in ${((Date.now() - t) / 1000).toFixed(1)} s: ${JSON.stringify(bed.timings)}\n`,
  );
  const api = await apiAccess(bed, root);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'tb', server: api.server, caData: api.caData }],
    users: [{ name: 'admin', certData: api.certData, keyData: api.keyData }],
    contexts: [{ name: 'tb', cluster: 'tb', user: 'admin' }],
    currentContext: 'tb',
  });
  return { bed, api, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

/**
 * Takes a suite's bed down and checks nothing is left: no namespace, no cgroup, the kubelet's
 * host sysctls as they were. A bed that did not come up leaves its nodes' logs
 * (<root>/<name>-logs) for a look.
 */
async function stopBed(
  name: string,
  root: string,
  bed: BedState | undefined,
  api: ApiAccess | undefined,
  sysctlsBefore: ReturnType<typeof saveSysctls>,
): Promise<void> {
  await api?.close();
  if (!root) return;
  await down({ name, root });
  assert.deepEqual(
    (await listNamespaces()).filter((n) => n.startsWith(`itb-${name}-`)),
    [],
  );
  assert.equal(existsSync(`/sys/fs/cgroup/pids/itb-${name}-node1`), false);
  assert.deepEqual(saveSysctls(), sysctlsBefore, `sysctls ${KUBELET_SYSCTLS.join(', ')} restored`);
  if (bed) rmSync(root, { recursive: true, force: true });
}

/** A one-layer image with busybox's httpd (umoci + skopeo), as a docker archive. */
function httpdImage(dir: string): string {
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'bundle');
  const run = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:t`]);
  run('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
  mkdirSync(join(bundle, 'rootfs', 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(bundle, 'rootfs', 'bin', 'busybox'));
  symlinkSync('busybox', join(bundle, 'rootfs', 'bin', 'sh'));
  run('umoci', ['repack', '--image', `${layout}:t`, bundle]);
  run('umoci', ['config', '--image', `${layout}:t`, '--architecture', 'amd64', '--os', 'linux']);
  const out = join(dir, 'httpd.tar');
  run('skopeo', ['copy', '--quiet', `oci:${layout}:t`, `docker-archive:${out}:${IMAGE}`]);
  return out;
}

/**
 * Runs a Deployment with one busybox httpd pod on each of the nodes `on` (node affinity + pod
 * anti-affinity) and a ClusterIP Service in front; checks one pod Ready on each node. Returns
 * the Service's IP and the pods' names.
 */
async function spread(
  bed: BedState,
  core: CoreV1Api,
  apps: AppsV1Api,
  on: readonly string[],
): Promise<{ clusterIp: string; pods: string[] }> {
  const work = mkdtempSync(join(tmpdir(), 'ingot-httpd-'));
  try {
    const tar = httpdImage(work);
    for (const n of bed.nodes.filter((x) => on.includes(x.name)))
      await inNode(n.pid, 'ctr', [
        '--address',
        '/run/containerd/containerd.sock',
        '-n',
        'k8s.io',
        'images',
        'import',
        tar,
      ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const labels = { app: 'echo' };
  await apps.createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'echo' },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            tolerations: [
              { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
              { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' },
            ],
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...on] }],
                    },
                  ],
                },
              },
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
                ],
              },
            },
            containers: [
              {
                name: 'httpd',
                image: IMAGE,
                imagePullPolicy: 'Never',
                command: [
                  '/bin/busybox',
                  'sh',
                  '-c',
                  'mkdir -p /www && echo "$HOSTNAME" > /www/index.html && exec /bin/busybox httpd -f -p 8080 -h /www',
                ],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
  });
  const svc = await core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name: 'echo' },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    },
  });
  const clusterIp = svc.spec?.clusterIP;
  assert.ok(clusterIp, 'the Service has a cluster IP');

  let pods: { name: string; node: string }[] = [];
  for (let i = 0; i < 120; i++) {
    const list = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=echo' })).items;
    pods = list
      .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((p) => ({ name: p.metadata!.name!, node: p.spec!.nodeName! }));
    if (pods.length === on.length) break;
    await sleep(1000);
  }
  assert.equal(pods.length, on.length, 'every replica Ready');
  assert.deepEqual(pods.map((p) => p.node).sort(), [...on].sort(), 'one pod on each node');

  return { clusterIp, pods: pods.map((p) => p.name) };
}

/** From a worker's network namespace, where the Service IP exists only as kube-proxy's rules, every pod answers through it. */
async function serve(bed: BedState, s: { clusterIp: string; pods: string[] }): Promise<void> {
  const { clusterIp } = s;
  const worker = bed.nodes.find((n) => n.role === 'worker')!;
  const seen = new Set<string>();
  // kube-proxy's rules follow the endpoints a moment after the pods are Ready: keep asking.
  const end = Date.now() + 90_000;
  while (seen.size < s.pods.length && Date.now() < end) {
    const body = await inNode(worker.pid, 'curl', ['-sS', '--max-time', '3', `http://${clusterIp}/`]).catch(
      () => '',
    );
    if (body.trim()) seen.add(body.trim());
    await sleep(200);
  }
  assert.deepEqual([...seen].sort(), [...s.pods].sort(), 'every pod answers through the Service');
}

describe('the test bed, 1 control plane + 1 worker', {
  skip: skipUnless(NEEDS),
  timeout: 15 * 60_000,
}, () => {
  const name = 'tbt';
  let root = '';
  let bed: BedState;
  let api: ApiAccess;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const sysctlsBefore = saveSysctls();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ingot-testbed-'));
    ({ bed, api, core, apps } = await startBed(name, '1+1', root));
  });

  after(() => stopBed(name, root, bed, api, sysctlsBefore));

  it('has both nodes Ready, running Kubernetes v1.20.2', async () => {
    const nodes = (await core.listNode()).items;
    assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), ['node1', 'node2']);
    for (const n of nodes) {
      assert.equal(n.status?.nodeInfo?.kubeletVersion, 'v1.20.2');
      assert.ok(
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        `${n.metadata?.name} is not Ready`,
      );
    }
  });

  it('spreads a 2-replica Deployment over both nodes and answers through a ClusterIP Service via kube-proxy', async () => {
    await serve(bed, await spread(bed, core, apps, ['node1', 'node2']));
  });

  it('enrols the nodes in a region behind the virtual Redfish BMC: a power-off kills the node, a power-on brings it back Ready', async () => {
    const creds = { username: 'admin', password: 'bed-bmc-pass' };
    const bmc = await bedBmc(bed, root, creds);
    const region = await startTestRegion({ agent: new FakeAgent() });
    try {
      const ids = new Map<string, string>();
      for (const m of bmc.machines) {
        const res = await region.api<{ id: string }>('POST', '/api/v1/machines', {
          hostname: m.node,
          bmc: { address: m.address, ...creds },
          nics: [{ mac: m.mac }],
        });
        assert.equal(res.status, 201);
        ids.set(m.node, res.body.id);
      }
      const worker = bed.nodes.find((n) => n.role === 'worker')!;
      const ready = async () =>
        (await core.readNode({ name: worker.name })).status?.conditions?.find((c) => c.type === 'Ready')
          ?.status;
      assert.equal(await ready(), 'True');

      const off = await region.api('POST', `/api/v1/machines/${ids.get(worker.name)}/actions/power-off`, {});
      assert.equal(off.status, 202);
      await waitFor(
        async () => cgroupPids(worker.ns).length === 0,
        30_000,
        `${worker.name}'s processes gone`,
      );
      assert.equal(existsSync(`/proc/${worker.pid}`), false, 'the node init is gone');
      // The node controller marks a silent node after its grace period (40 s by default).
      await waitFor(async () => (await ready()) !== 'True', 120_000, `${worker.name} NotReady`);
      await waitFor(
        async () =>
          (await region.api<{ powerState: string }>('GET', `/api/v1/machines/${ids.get(worker.name)}`)).body
            .powerState === 'off',
        30_000,
        'the region sees the machine off',
      );

      const on = await region.api('POST', `/api/v1/machines/${ids.get(worker.name)}/actions/power-on`, {});
      assert.equal(on.status, 202);
      await waitFor(async () => (await ready()) === 'True', 120_000, `${worker.name} Ready again`);
      const pids = cgroupPids(worker.ns);
      assert.ok(pids.length > 0);
      const cmds = pids.map((p) => {
        try {
          return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
        } catch {
          return '';
        }
      });
      for (const c of ['containerd', 'kubelet']) assert.ok(cmds.includes(c), `${c} runs again: ${cmds}`);
      // The control plane was never powered off.
      assert.equal(bmc.targets.get(worker.name)?.boots.length, 1);
      assert.equal(bmc.targets.get('node1')?.boots.length, 0);
    } finally {
      await region.stop();
      await bmc.emulator.close();
    }
  });
});

describe('the test bed, HA: 3 control planes with stacked etcd behind haproxy + 2 workers', {
  skip: skipUnless(NEEDS),
  timeout: 20 * 60_000,
}, () => {
  const name = 'tbha';
  let root = '';
  let bed: BedState;
  let api: ApiAccess;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const sysctlsBefore = saveSysctls();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ingot-testbed-'));
    ({ bed, api, core, apps } = await startBed(name, 'ha', root));
  });

  after(() => stopBed(name, root, bed, api, sysctlsBefore));

  it('has 3 control planes and 2 workers Ready, and an etcd cluster of the 3 control planes', async () => {
    const nodes = (await core.listNode()).items;
    assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), [
      'node1',
      'node2',
      'node3',
      'node4',
      'node5',
    ]);
    for (const n of nodes)
      assert.ok(
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        n.metadata?.name,
      );
    // etcd's own member list (its gRPC gateway, with kubeadm's health-check client certificate).
    const first = bed.nodes[0];
    const pki = '/etc/kubernetes/pki/etcd';
    const out = await inNode(first.pid, 'curl', [
      '-sS',
      '--cacert',
      `${pki}/ca.crt`,
      '--cert',
      `${pki}/healthcheck-client.crt`,
      '--key',
      `${pki}/healthcheck-client.key`,
      '-X',
      'POST',
      '-d',
      '{}',
      'https://127.0.0.1:2379/v3/cluster/member/list',
    ]);
    const members = (JSON.parse(out) as { members: { name: string }[] }).members.map((m) => m.name).sort();
    assert.deepEqual(members, ['node1', 'node2', 'node3']);
  });

  let service: { clusterIp: string; pods: string[] } | null = null;
  it('spreads a Deployment over both workers, one pod each, behind a ClusterIP Service', async () => {
    const workers = bed.nodes.filter((n) => n.role === 'worker').map((n) => n.name);
    assert.deepEqual(workers, ['node4', 'node5']);
    service = await spread(bed, core, apps, workers);
  });

  it('answers through the ClusterIP Service via kube-proxy', {
    todo: 'kube-proxy watches stall in the HA bed (docs/kubernetes.md): passes in some runs only',
  }, async () => {
    assert.ok(service, 'the Deployment and Service are up');
    await serve(bed, service);
  });

  it('keeps answering and writing (etcd quorum) with the first control plane killed', async () => {
    const first = bed.nodes.find((n) => n.role === 'control-plane')!;
    await killNode(first.ns);
    // haproxy checks every second and drops a server after 2 failures; until then a request
    // may still reach the dead one, so each call is retried for up to a minute.
    await eventually(() =>
      core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'after-kill' }, data: { killed: first.name } },
      }),
    );
    const cm = await eventually(() =>
      core.readNamespacedConfigMap({ namespace: 'default', name: 'after-kill' }),
    );
    // A write needs an etcd quorum: two of the three members are left.
    assert.equal(cm.data?.killed, 'node1');
  });
});
