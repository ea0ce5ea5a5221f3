// schedule: no other test file beside this one (test/support/schedule.ts SOLO_MARK)
/**
 * Clusters from metal, in the lab, on real Kubernetes (issue 15), as root under QEMU TCG:
 * `ingot lab up` one VM sized for a control plane (2 vCPUs, 3 GiB), commission, `ingot bundle
 * add` the 1.20.2 bundle, `ingot cluster create -f examples/lab-cluster.yaml --wait`: the region
 * deploys the kubernetes-node image with the node's user-data and network-config, the node
 * agent runs the bootstrap (the bundle installed from the rack, `kubeadm init`, Ready); then
 * with `ingot cluster kubeconfig`, `kubectl get nodes` lists the node Ready and a Deployment's
 * pod answers through a NodePort Service; `ingot cluster delete --wipe quick` drains, releases
 * and wipes the machine. The deploy under the create is also CI's deploy of the kubernetes-node
 * image (user-data from the metadata service, the node agent's check-in); test/deploy-e2e.test.ts
 * keeps the commission and the failing deploys (and the lease renewed during a write). One untainted control plane, no worker: a second TCG VM does not fit
 * this 2-core machine in the CI budget; the join is proven on the test bed
 * (test/cluster-testbed.test.ts). Phase times go to stdout (docs/cluster.md, bench/lab-cluster.ts).
 *
 * The cluster's API endpoint (10.77.0.10, after the lab subnet's reserved .1-.9) is a TCP
 * forwarder in the lab's rack-side namespace: the external load balancer of `mode: external`.
 * The region reaches it from the host through a Unix-socket forward (test/support/lab-cluster.ts).
 */
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { defaultCacheDir } from '../src/agent/image/build.ts';
import type { IngotEvent } from '../src/core/event.ts';
import { readTail } from '../src/host/console-log.ts';
import { labNetwork, removeNetwork } from '../src/lab/netns.ts';
import { labDirFor, readState } from '../src/lab/state.ts';
import { bedBundle } from '../src/lab/testbed/bed.ts';
import { skipUnless } from './support/needs.ts';
import { compressedOsImage, registerImage } from './support/os-image.ts';
import { forwardedKube, LAB_ENDPOINT, LAB_NODE_IP, type LabApi, startLabApi } from './support/lab-cluster.ts';
import { holdQemuTests } from './support/qemu-tests.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

const execFile = promisify(execFileCb);
const INGOT = new URL('../bin/ingot', import.meta.url).pathname;
const CLUSTER_FILE = new URL('../examples/lab-cluster.yaml', import.meta.url).pathname;
const NODE_PORT = 30379;
const t0 = Date.now();
const phase = (what: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);

describe('lab: ingot cluster create on a QEMU VM, real Kubernetes 1.20.2', {
  skip: skipUnless({
    root: true,
    files: {
      'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
      zstd: '/usr/bin/zstd',
      debootstrap: '/usr/sbin/debootstrap',
      'the Kubernetes 1.20.2 bundle (node scripts/kubernetes-bundle.ts)': join(
        bedBundle(),
        'ingot-build.json',
      ),
    },
  }),
}, () => {
  const name = `lc${(process.pid % 100000).toString(36)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-lab-cluster-'));
  const work = mkdtempSync(join(tmpdir(), 'ingot-lab-cluster-work-'));
  const kubectlBin = join(bedBundle(), 'kubernetes', 'server', 'bin', 'kubectl');
  const net = labNetwork(name);
  let region: TestRegion | null = null;
  let machineId = '';
  let api: LabApi | null = null;
  let releaseQemu: () => void = () => undefined;

  /** A failed command's error: what failed first (CI shows a failure's first lines), its output after. */
  class CliError extends Error {
    readonly headline: string;
    readonly output: string;
    constructor(headline: string, output: string) {
      super(`${headline}\nconsole (last lines):\n${consoleTail()}\n--- output:\n${output}`);
      this.headline = headline;
      this.output = output;
    }
  }
  const cli = (args: string[], timeoutMs: number) =>
    execFile(INGOT, args, { env: { ...process.env, ...region!.cliEnv }, timeout: timeoutMs }).catch(
      (e: { code: number; stderr: string; stdout: string; killed?: boolean }) => {
        const output = `${e.stderr}${e.stdout}`;
        const last = output.trim().split('\n').slice(-2).join('\n');
        throw new CliError(
          `ingot ${args.join(' ')} ${e.killed ? `did not end within ${timeoutMs / 1000} s` : `exited ${e.code}`}: ${last}`,
          output,
        );
      },
    );
  const lab = (...args: string[]) =>
    cli(['lab', ...args, '--name', name, '--data', dataDir], 240_000).then((r) => r.stdout);
  const inProv = (cmd: string, args: string[], timeoutMs = 60_000) =>
    execFile('ip', ['netns', 'exec', net.provNs, cmd, ...args], { timeout: timeoutMs });
  const kubectl = (kubeconfig: string, ...args: string[]) =>
    inProv(kubectlBin, ['--kubeconfig', kubeconfig, ...args]).then((r) => r.stdout);
  const consoleTail = () => {
    const log = readState(labDirFor(dataDir, name))?.machines[0]?.consoleLog;
    return log && existsSync(log)
      ? readTail(log, 4000).text.split('\n').slice(-40).join('\n')
      : '(no console)';
  };
  const store = () => region!.region.store;
  const events = async (type?: string): Promise<IngotEvent[]> =>
    (await store().listEvents({ machineId, limit: 5000 })).filter((e) => !type || e.type === type);

  before(async () => {
    const cache = defaultCacheDir();
    const os = await compressedOsImage(cache, phase);
    phase('OS image ready');
    // The region's Kubernetes client reaches the endpoint through the lab API's host forward.
    const kube = forwardedKube(() => api?.fromHost ?? `https://${LAB_ENDPOINT}:6443`);
    region = await startTestRegion({ dataDir, kube, clusterLimits: { pollMs: 2000 } });
    await registerImage(store(), dataDir, 'kubernetes-node', os.file, {
      sha256: os.sha256,
      compression: 'zst',
      virtualSize: os.rawSize,
    });
    await cli(['bundle', 'add', bedBundle()], 600_000);
    phase('bundle added');
    // The image and the bundle need no VM: the QEMU suites' turn is taken only now.
    releaseQemu = await holdQemuTests('lab-cluster');
    phase('QEMU turn taken');
  });

  after(async () => {
    await api?.close();
    await lab('down').catch(() => undefined);
    await removeNetwork(net).catch(() => undefined);
    await region?.stop();
    if (process.env.INGOT_KEEP_E2E) console.log(`# kept ${dataDir} and ${work}`);
    else {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
    releaseQemu();
  });

  it('ingot lab up: one VM with 2 vCPUs and 3 GiB, commissioned ready', { timeout: 420_000 }, async () => {
    await lab(
      'up',
      '--machines',
      '1',
      '--firmware',
      'bios',
      '--cpus',
      '2',
      '--memory',
      '3072',
      '--disk',
      '8',
    );
    machineId = readState(labDirFor(dataDir, name))!.machines[0].machineId;
    // The API's load balancer on the lab network, and its forward to the host.
    api = await startLabApi(net, work);
    phase('lab up');
    const r = await region!.api('POST', `/api/v1/machines/${machineId}/actions/commission`, {
      params: { tests: ['cpu'], cpuSeconds: 1 },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const m = await eventually(
      async () => {
        const x = await store().getMachine(machineId);
        if (x.state === 'failed_commissioning') throw new Error(`commission failed: ${x.stateReason}`);
        return x.state === 'ready' ? x : null;
      },
      360_000,
      'the VM to be commissioned ready',
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nconsole:\n${consoleTail()}`);
    });
    assert.equal(m.cpu?.cores, 2, 'cores = --cpus 2');
    assert.equal(m.memoryBytes, 3072 * 2 ** 20, 'memory = --memory 3072');
    phase('commissioned: ready');
  });

  it('ingot cluster create --wait: deploys, installs the bundle from the rack, kubeadm init, Ready', {
    timeout: 75 * 60_000,
  }, async () => {
    assert.ok(machineId, 'the lab is up');
    const start = Date.now();
    const out = await cli(
      ['cluster', 'create', '-f', CLUSTER_FILE, '--image', 'kubernetes-node', '--wait'],
      70 * 60_000,
    ).catch(async (e: Error) => {
      if (!(e instanceof CliError)) throw e;
      // A silence: the node's side comes with its next word (agent.heartbeat-gap, agent.silence,
      // the failed beats on the console): wait for it a little, then show the agent's last words
      // and the console's last lines first, the create's own output last.
      if (/went silent/.test(e.headline)) await new Promise((r) => setTimeout(r, 120_000));
      const said = (await events())
        .filter((x) => x.type.startsWith('agent.') && Date.parse(x.at) >= start)
        .slice(-25)
        .map((x) => `${x.at} ${x.type} ${x.level}: ${x.message}`);
      throw new Error(
        `${e.headline}\nthe agent's last words:\n${said.join('\n')}\nconsole (last lines):\n${consoleTail()}\n--- the create's output:\n${e.output}`,
      );
    });
    phase(`cluster create --wait done (${((Date.now() - start) / 1000).toFixed(0)} s)`);
    const got = await region!.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/lab');
    assert.equal(got.body.cluster.state, 'running', `${out.stdout}\n${JSON.stringify(got.body)}`);
    // Phases from the machine's timeline, from the create's start.
    const ev = await events();
    const at = (pred: (e: IngotEvent) => boolean) => ev.find((e) => Date.parse(e.at) >= start && pred(e));
    const rows: [string, IngotEvent | undefined][] = [
      ['image written', at((e) => e.type === 'agent.write-image')],
      ['OS booted (deployed)', at((e) => e.type === 'agent.os-booted')],
      ['node agent hello', at((e) => e.type === 'agent.node-hello')],
      ...[
        'packages-installed',
        'kubeadm-init-done',
        'kubelet-registered',
        'manifests-applied',
        'node-ready',
      ].map((p): [string, IngotEvent | undefined] => [
        p,
        at((e) => e.type === 'agent.bootstrap.progress' && String(e.message).includes(p)),
      ]),
    ];
    for (const [what, e] of rows)
      console.log(`# create +${e ? ((Date.parse(e.at) - start) / 1000).toFixed(1) : '?'} s ${what}`);
    for (const [what, e] of rows) assert.ok(e, `${what} on the machine's timeline`);
    const fetched = (await events('http.artifact')).map((e) => String(e.data.path));
    assert.ok(
      fetched.some((p) => p.includes('/bundles/kubernetes-v1.20.2-amd64/')),
      `the node fetched the bundle from the rack: ${fetched.join(', ')}`,
    );
    // The deploy under the create (test/deploy-e2e.test.ts's Debian deploy was these checks):
    // cloud-init fetched the rendered user-data from the metadata service, and the node agent
    // checked in from the
    // planned address with containerd running on cgroup v1. The phone-home (`agent.os-booted`,
    // above) answers only the OS token, and its URL is the seed's: the seed holds the OS token.
    const metadata = (await events('metadata.fetch')).map((e) => String(e.data.path));
    assert.ok(
      metadata.some((p) => p.endsWith('user-data')),
      `cloud-init fetched user-data: ${metadata.join(', ')}`,
    );
    const hello = (await events('agent.node-hello')).at(-1);
    assert.ok(hello, 'the node agent checked in');
    assert.equal(hello.data.ip, LAB_NODE_IP, 'from the planned address');
    assert.equal(hello.data.containerdRunning, true, JSON.stringify(hello.data));
    assert.equal(hello.data.cgroup, 'v1');
    assert.match(String(hello.data.containerd), /containerd .*1\.6\./);
  });

  it('kubectl with `ingot cluster kubeconfig`: the node Ready, a Deployment answers through a Service', {
    timeout: 15 * 60_000,
  }, async () => {
    const kc = join(work, 'admin.conf');
    await cli(['cluster', 'kubeconfig', 'lab', '-o', kc], 30_000);
    const nodes = JSON.parse(await kubectl(kc, 'get', 'nodes', '-o', 'json')) as {
      items: {
        metadata: { name: string };
        status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string } };
      }[];
    };
    assert.deepEqual(
      nodes.items.map((n) => [
        n.status.nodeInfo.kubeletVersion,
        n.status.conditions.find((c) => c.type === 'Ready')?.status,
      ]),
      [['v1.20.2', 'True']],
    );
    // etcd from the bundle's own image (nothing to pull offline), serving HTTP on 2379.
    const manifest = join(work, 'echo.yaml');
    writeFileSync(
      manifest,
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: echo, namespace: kube-system }
spec:
  replicas: 1
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      containers:
        - name: etcd
          image: k8s.gcr.io/etcd:3.4.13-0
          imagePullPolicy: Never
          command: [etcd, --data-dir=/tmp/echo, --listen-client-urls=http://0.0.0.0:2379, --advertise-client-urls=http://127.0.0.1:2379, --listen-peer-urls=http://127.0.0.1:2380]
          ports: [{ containerPort: 2379 }]
          readinessProbe: { httpGet: { path: /version, port: 2379 } }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: kube-system }
spec:
  type: NodePort
  selector: { app: echo }
  ports: [{ port: 2379, targetPort: 2379, nodePort: ${NODE_PORT} }]
`,
    );
    await kubectl(kc, 'apply', '-f', manifest);
    // kubectl waits up to 600 s itself: its process gets 660 s (inProv's default 60 s cut the
    // first run that got this far, 2026-12-03 16:38, after 60 s).
    await inProv(
      kubectlBin,
      ['--kubeconfig', kc, '-n', 'kube-system', 'rollout', 'status', 'deployment/echo', '--timeout=600s'],
      660_000,
    ).catch(async (e: Error) => {
      const pods = await kubectl(kc, '-n', 'kube-system', 'describe', 'pods', '-l', 'app=echo').catch(
        (x: Error) => x.message,
      );
      throw new Error(`the echo pod did not become Ready: ${e.message}\n${pods}`);
    });
    phase('echo pod Ready');
    const answer = await eventually(
      async () =>
        (
          await inProv('curl', [
            '-sf',
            '--max-time',
            '5',
            `http://${LAB_NODE_IP}:${NODE_PORT}/version`,
          ]).catch(() => null)
        )?.stdout ?? null,
      120_000,
      `the Service to answer on ${LAB_NODE_IP}:${NODE_PORT}`,
    );
    assert.match(answer, /"etcdserver":"3\.4\./, 'the pod answered through the Service');
    phase('Service answered');
  });

  it('ingot cluster delete --wipe quick: drains, releases and wipes the machine', {
    timeout: 15 * 60_000,
  }, async () => {
    const since = new Date().toISOString();
    await cli(['cluster', 'delete', 'lab', '--wipe', 'quick', '--wait'], 14 * 60_000);
    const c = await region!.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/lab');
    assert.equal(c.body.cluster.state, 'deleted');
    const m = await store().getMachine(machineId);
    assert.equal(m.state, 'ready');
    const wiped = (await events('agent.wipe')).filter((e) => e.at >= since);
    assert.ok(wiped.length > 0, 'the agent wiped the disk on release');
    phase('deleted, machine ready');
  });
});
