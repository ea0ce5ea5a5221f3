/**
 * The rolling reconfigure on real Kubernetes 1.20.2 (issue 16): a 1+1 cluster created by Ingot
 * on a prepared test bed (real node agents, real rack: test/support/cluster-bed.ts), then
 * `ingot cluster reconfigure -f FILE` with a kube-apiserver flag added to the Cluster file. The
 * operation takes an etcd snapshot (the bed's shell on node1, into the artifact store), has
 * node1's node agent regenerate the kube-apiserver static pod manifest through kubeadm, waits
 * for the API, then drains (Eviction API), uncordons and waits Ready for node2. The API is
 * polled throughout; afterwards the running kube-apiserver's command line carries the flag.
 * While node1's node agent reconfigures it, the region dies (its worker halted dead: no more
 * writes, as in test/two-regions.test.ts); a real `ingot serve` on the same store (run in the
 * bed's hub namespace, which reaches the cluster's API) takes the operation's job over, records
 * node1 reconfigured and is killed -9 while it waits for the API; a third region takes the job
 * over from it and finishes the roll, node1's task asked once. On the same cluster, a certificate
 * rotation (`ingot cluster rotate-certs`) renews node1's certificates through the same rolling
 * machinery; the apiserver certificate node1 serves afterwards is the renewed one. Then a
 * same-version upgrade (`ingot cluster upgrade --to v1.20.2`): refused at node1 while the
 * kubeadm-deployed CoreDNS cannot be ready (kubeadm 1.20 would wait ~43 min for it), then, with
 * a CoreDNS stand-in Ready, rolled: node1 drained (its kubelet restarts), `kubeadm upgrade apply`,
 * uncordoned; node2 drained with a Deployment (a replica on each node) never below its PDB,
 * `kubeadm upgrade node`, uncordoned and Ready.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentTasksPort } from '../src/engine/agent-tasks-port.ts';
import { listSnapshots } from '../src/kube/etcd/snapshot.ts';
import { openStore } from '../src/store/open.ts';
import { readState } from '../src/lab/testbed/bed.ts';
import { bedShell } from '../src/lab/testbed/shell.ts';
import {
  bedClusterFile,
  type ClusterBed,
  newClusterBed,
  startClusterBed,
  stopClusterBed,
} from './support/cluster-bed.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { startServeIn } from './support/serve-process.ts';
import { startTestRegion, type TestRegion } from './support/region.ts';
import { skipUnless } from './support/needs.ts';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  BED_NEEDS,
  bedName,
  importCoreDnsStandIn,
  importHttpd,
  longestSilence,
  reapStaleBeds,
  waitFor,
} from './support/testbed.ts';
import { createHttpd, createPdb } from './support/workloads.ts';

const CLUSTER = 'opc';
const FLAG = 'max-requests-inflight';
const VALUE = '411';

interface Op {
  id: string;
  jobId: string;
  state: string;
  reason: string;
  progress: {
    snapshot: { state: string; id?: string };
    nodes: { hostname: string; state: string; step: string | null }[];
  };
}

/**
 * Stops (SIGSTOP) or continues (SIGCONT) NODE's node agent — its script and its heartbeat
 * subshell, found by command line in the node's network namespace; how many were signalled.
 * Stopped, it takes no task: a roll waits at that node for as long as the test holds it.
 */
async function signalNodeAgent(
  shell: ReturnType<typeof bedShell>,
  node: string,
  sig: 'STOP' | 'CONT',
): Promise<number> {
  const out = await shell.exec(node, [
    'sh',
    '-c',
    `me=$(readlink /proc/self/ns/net); a=ingot-node; n=0; for d in /proc/[0-9]*; do p=\${d#/proc/}; [ "$p" = "$$" ] && continue; [ "$(readlink $d/ns/net 2>/dev/null)" = "$me" ] || continue; c=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null); case "$c" in "/bin/sh /usr/local/sbin/$a-agent"*) kill -${sig} "$p" && n=$((n+1)) ;; esac; done; echo $n`,
  ]);
  return Number(out.trim());
}

/**
 * A real `ingot serve` (bin/ingot, in the bed's hub namespace, on the store in DATADIR) takes
 * the roll's job over from the dead region (whose lease runs out first); node1's node agent,
 * held until then, is let go (`release`) and answers its task to it; the child records node1
 * reconfigured and gets SIGKILL right away, in the middle of the roll.
 */
async function killedMidRoll(
  cb: ClusterBed,
  dataDir: string,
  op: { id: string; jobId: string },
  dead: string,
  release: () => Promise<void>,
): Promise<void> {
  const watch = await openStore({ dataDir });
  const log = join(cb.root, 'serve.log');
  let serve: ChildProcess | undefined;
  const poll = async (ok: () => Promise<boolean>, ms: number, what: string) => {
    for (const end = Date.now() + ms; !(await ok()); await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() > end)
        throw new Error(
          `timed out after ${ms / 1000} s waiting for ${what}\n--- ingot serve's log ---\n${readFileSync(log, 'utf8').slice(-4000)}`,
        );
  };
  try {
    serve = await startServeIn(cb.bed!.hubNs, dataDir, log, [
      '--lease',
      '5000',
      '--cluster-poll',
      '1000',
      '--health-poll',
      '0',
      '--power-sample',
      '0',
    ]);
    await poll(
      async () => {
        const owner = (await watch.getJob(op.jobId)).leaseOwner;
        return owner !== null && owner !== dead;
      },
      3 * 60_000,
      'the child region to take the job over',
    );
    await release();
    await poll(
      async () => {
        const o = await watch.getOperation(op.id);
        return o.progress.nodes[0].step !== null || o.state !== 'running';
      },
      5 * 60_000,
      'the child region to record node1 reconfigured',
    );
    const exited = once(serve, 'exit');
    serve.kill('SIGKILL');
    const [, signal] = await exited;
    assert.equal(signal, 'SIGKILL');
    const o = await watch.getOperation(op.id);
    assert.equal(o.state, 'running', o.reason);
    assert.notEqual(o.progress.nodes[1].state, 'done', 'killed in the middle of the roll');
  } finally {
    if (serve && serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
    await watch.close();
  }
}

describe('rolling reconfigure on the test bed: a kube-apiserver flag rolled through kubeadm on a real 1+1 cluster', {
  skip: skipUnless(BED_NEEDS),
  timeout: 20 * 60_000,
}, () => {
  const cb: ClusterBed = newClusterBed(bedName('op'));

  before(async () => {
    await reapStaleBeds('op');
    await startClusterBed(cb, { extra: (c) => ({ nodeShell: bedShell(c.root, c.name) }) });
    const file = join(cb.root, 'cluster.yaml');
    writeFileSync(file, bedClusterFile(CLUSTER, cb.bed!));
    const run = await runIngot(
      ['cluster', 'create', '-f', file, '--image', NODE_IMAGE.name, '--wait', '--timeout', '1200'],
      { env: cb.r!.cliEnv },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
  });
  after(async () => stopClusterBed(cb));

  it('rolls it: snapshot, node1 reconfigured with the API answering again, node2 drained and Ready, across a region crash; the flag in the running kube-apiserver', async () => {
    const r0 = cb.r!;
    const cluster = (await r0.api<{ cluster: { id: string } }>('GET', `/api/v1/clusters/${CLUSTER}`)).body
      .cluster;
    const kubeconfig = (await r0.region.store.clusterKubeconfig(cluster.id))!;
    // Poll the API through the roll: every answer and every gap.
    const polls: { at: number; ok: boolean }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const c = await cb.kube!.conditions(kubeconfig);
        polls.push({ at: Date.now(), ok: c.apiReachable });
        await new Promise((res) => setTimeout(res, 1000));
      }
    })();
    const file = join(cb.root, 'cluster-reconfigured.yaml');
    writeFileSync(
      file,
      `${bedClusterFile(CLUSTER, cb.bed!)}  apiServer:\n    extraArgs:\n      ${FLAG}: "${VALUE}"\n`,
    );
    // node1's node agent held: the roll waits at node1 (its task asked, not taken) for the crash.
    const shell0 = bedShell(cb.root, cb.name);
    assert.ok((await signalNodeAgent(shell0, 'node1', 'STOP')) >= 1, "node1's node agent stopped");
    let held = true;
    const release = async () => {
      if (held) assert.ok((await signalNodeAgent(shell0, 'node1', 'CONT')) >= 1);
      held = false;
    };
    const t0 = Date.now();
    const start = await runIngot(['cluster', 'reconfigure', CLUSTER, '-f', file], { env: r0.cliEnv });
    assert.equal(start.code, 0, start.err);
    assert.match(start.out, new RegExp(`reconfigure running: .*--${FLAG}=${VALUE}`));
    let op: Op | undefined;
    try {
      await waitFor(
        async () => {
          [op] = (await r0.api<Op[]>('GET', `/api/v1/clusters/${CLUSTER}/operations`)).body;
          return op.progress.nodes[0].state === 'running' && op.progress.nodes[0].step === null;
        },
        5 * 60_000,
        'node1 reconfiguring',
      );
      // The region dies mid-roll (its worker halted dead: no more writes). A real `ingot serve`
      // on the same store — in the bed's hub, which reaches the cluster's API — takes the job
      // over once the dead one's lease runs out, records node1's manifest regenerated, and is
      // killed -9 while it waits for the API; a third region takes the job over from it.
      await r0.region.engine.worker.halt();
      await r0.stop();
      await killedMidRoll(cb, r0.dataDir, { id: op!.id, jobId: op!.jobId }, r0.region.engine.owner, release);
      let r2: TestRegion | undefined;
      r2 = await startTestRegion({
        dataDir: r0.dataDir,
        agent: { task: (...a) => new AgentTasksPort(() => r2!.region.store).task(...a) },
        kube: cb.kube,
        clusterLimits: { pollMs: 1000 },
        nodeShell: bedShell(cb.root, cb.name),
      });
      cb.r = r2;
      await waitFor(
        async () => {
          [op] = (await r2!.api<Op[]>('GET', `/api/v1/clusters/${CLUSTER}/operations`)).body;
          return op.state !== 'running';
        },
        10 * 60_000,
        'the reconfigure to end',
      );
    } finally {
      await release().catch(() => undefined);
      polling = false;
      await poller;
    }
    const r = cb.r!;
    const took = (Date.now() - t0) / 1000;
    assert.equal(op!.state, 'succeeded', op!.reason);
    assert.deepEqual(
      op!.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [
        ['node1', 'done', 'healthy'],
        ['node2', 'done', 'ready'],
      ],
    );
    // The snapshot was taken first and is in the artifact store, checksummed.
    assert.equal(op!.progress.snapshot.state, 'done');
    const snaps = listSnapshots(join(r.dataDir, 'artifacts'), CLUSTER);
    assert.ok(snaps.some((s) => s.id === op!.progress.snapshot.id && /^[0-9a-f]{64}$/.test(s.sha256)));
    // The API answered before, during and after the roll; with one control plane it is down
    // while its kube-apiserver restarts (the longest gap is printed).
    const during = polls.filter((p) => p.at > t0);
    assert.ok(during.filter((p) => p.ok).length >= 3, JSON.stringify(polls));
    assert.equal(polls.at(-1)?.ok, true, 'the API answers at the end');
    const gap = longestSilence(polls);
    // The running kube-apiserver (in node1's network namespace) has the flag; the manifest too.
    const shell = bedShell(cb.root, cb.name);
    const manifest = (
      await shell.readFile('node1', '/etc/kubernetes/manifests/kube-apiserver.yaml')
    ).toString();
    assert.match(manifest, new RegExp(`- --${FLAG}=${VALUE}`));
    const cmdline = await shell.exec('node1', [
      'sh',
      '-c',
      'me=$(readlink /proc/self/ns/net); for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = kube-apiserver ] && [ "$(readlink $d/ns/net)" = "$me" ] && tr "\\0" " " <$d/cmdline && exit 0; done; exit 1',
    ]);
    assert.match(cmdline, new RegExp(`--${FLAG}=${VALUE}( |$)`));
    // Per-node events on the cluster timeline, in the roll's order.
    const ev = (
      await r.api<{ type: string; message: string }[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`)
    ).body
      .filter((e) => e.type.startsWith('cluster.operation'))
      .map((e) => e.message);
    const at = (re: RegExp) => ev.findIndex((m) => re.test(m));
    assert.ok(at(/^node1: etcd snapshot etcd-/) >= 0, ev.join('\n'));
    assert.ok(at(/^node1: etcd snapshot/) < at(/^node1: kube-apiserver manifest regenerated/));
    assert.ok(at(/^node1: done: the API answers/) < at(/^node2: cordoning/));
    assert.ok(at(/^node2: drained: /) < at(/^node2: done: Ready/));
    assert.equal(
      (await r.api<{ cluster: { state: string } }>('GET', `/api/v1/clusters/${CLUSTER}`)).body.cluster.state,
      'running',
    );
    // The killed `ingot serve` and then the last region took the job over; node1's task was not
    // asked for again.
    const all = (
      await r.api<{ type: string; message: string }[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`)
    ).body;
    assert.equal(
      all.filter(
        (e) => e.type === 'job.resumed' && /cluster-operation resumed at step operation/.test(e.message),
      ).length,
      2,
      'taken over twice: by the child region, then after its kill -9',
    );
    assert.equal(ev.filter((m) => /^node1: reconfigure started/.test(m)).length, 1);
    assert.equal(ev.filter((m) => /^node1: kube-apiserver manifest regenerated/.test(m)).length, 1);
    process.stderr.write(
      `reconfigure rolled in ${took.toFixed(1)} s; API polls ${polls.length}, answered ${polls.filter((p) => p.ok).length}, longest gap ${(gap / 1000).toFixed(1)} s\n`,
    );
  });

  it('rotates the certificates: kubeadm certs renew all on node1, its static pods restarted; the served apiserver certificate moves forward and the API answers', async () => {
    const r = cb.r!;
    const shell = bedShell(cb.root, cb.name);
    const notAfter = (pem: string | Buffer) => Date.parse(new X509Certificate(pem).validTo);
    const fileExpiry = async () =>
      notAfter(await shell.readFile('node1', '/etc/kubernetes/pki/apiserver.crt'));
    // What node1's kube-apiserver serves, read inside node1 from its advertised address.
    const servedExpiry = async () =>
      notAfter(
        await shell.exec('node1', [
          'sh',
          '-c',
          'm=/etc/kubernetes/manifests/kube-apiserver.yaml; a=$(sed -n "s/.*--advertise-address=//p" $m); p=$(sed -n "s/.*--secure-port=//p" $m); [ -n "$p" ] || p=6443; echo | openssl s_client -connect "$a:$p" 2>/dev/null | openssl x509',
        ]),
      );
    const before = { file: await fileExpiry(), served: await servedExpiry() };
    assert.equal(before.served, before.file);
    // The new notAfter is counted from now in whole seconds: wait past the second the old one was.
    await new Promise((res) => setTimeout(res, 1500));
    const t0 = Date.now();
    const start = await runIngot(['cluster', 'rotate-certs', CLUSTER], { env: r.cliEnv });
    assert.equal(start.code, 0, start.err);
    let op: Op | undefined;
    await waitFor(
      async () => {
        [op] = (await r.api<Op[]>('GET', `/api/v1/clusters/${CLUSTER}/operations`)).body;
        return op.state !== 'running';
      },
      10 * 60_000,
      'the rotation to end',
    );
    const took = (Date.now() - t0) / 1000;
    assert.equal(op!.state, 'succeeded', op!.reason);
    assert.deepEqual(
      op!.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [['node1', 'done', 'healthy']],
    );
    assert.equal(op!.progress.snapshot.state, 'done');
    const after = { file: await fileExpiry(), served: await servedExpiry() };
    assert.ok(
      after.file > before.file,
      `the file's notAfter moved forward: ${JSON.stringify({ before, after })}`,
    );
    assert.equal(after.served, after.file, 'the restarted kube-apiserver serves the renewed certificate');
    const cluster = (
      await r.api<{ cluster: { id: string; state: string } }>('GET', `/api/v1/clusters/${CLUSTER}`)
    ).body.cluster;
    assert.equal(cluster.state, 'running');
    const c = await cb.kube!.conditions((await r.region.store.clusterKubeconfig(cluster.id))!);
    assert.equal(c.apiReachable, true, c.apiError ?? '');
    assert.equal(c.nodes?.ready, 2);
    process.stderr.write(
      `certificates rotated in ${took.toFixed(1)} s; apiserver notAfter ${new Date(before.served).toISOString()} → ${new Date(after.served).toISOString()}\n`,
    );
  });

  it('upgrades to the same version (v1.20.2): refused at node1 while CoreDNS cannot be ready; then node1 drained, kubeadm upgrade apply, uncordoned; node2 drained with a Deployment never below its PDB, upgrade node, uncordoned and Ready', async () => {
    const r = cb.r!;
    const cluster = (
      await r.api<{ cluster: { id: string; version: string } }>('GET', `/api/v1/clusters/${CLUSTER}`)
    ).body.cluster;
    const kc = new KubeConfig();
    kc.loadFromString(cb.kube!.rewrite((await r.region.store.clusterKubeconfig(cluster.id))!));
    const apps = kc.makeApiClient(AppsV1Api);
    const ops = async () => (await r.api<Op[]>('GET', `/api/v1/clusters/${CLUSTER}/operations`)).body;
    const ended = async (what: string) => {
      let op: Op | undefined;
      await waitFor(
        async () => {
          [op] = await ops();
          return op.state !== 'running';
        },
        15 * 60_000,
        what,
      );
      return op!;
    };
    // The nodes' PIDs as they are now (a deploy power-cycled them since the bed came up).
    const state = readState(cb.root, cb.name)!;
    await importHttpd(state, ['node1', 'node2']);
    // kubeadm's init deployed CoreDNS, whose image the bundle lacks: its pods never ran. kubeadm
    // 1.20's upgrade apply, after the control plane, waits ~43 min for a ready CoreDNS replica
    // (docs/day2.md): node1's script refuses up front, before kubeadm changes anything.
    const dns = async () => apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' });
    assert.equal((await dns()).status?.readyReplicas ?? 0, 0);
    const refused = await runIngot(['cluster', 'upgrade', CLUSTER, '--to', 'v1.20.2'], { env: r.cliEnv });
    assert.equal(refused.code, 0, refused.err);
    const halted = await ended('the refused upgrade to halt');
    assert.equal(halted.state, 'failed', halted.reason);
    assert.match(
      halted.reason,
      /node1: .*kube-system\/coredns has no ready replica.*\(uncordoned; a retry drains it again\)$/,
    );
    const core = kc.makeApiClient(CoreV1Api);
    assert.equal(
      (await core.readNode({ name: 'node1' })).spec?.unschedulable ?? false,
      false,
      'the refused upgrade gave node1 back schedulable',
    );
    // A stand-in under CoreDNS's image name on both nodes (it answers the Deployment's probes),
    // and its pods restarted so no image-pull back-off holds them: CoreDNS is Ready.
    const dnsImage = (await dns()).spec!.template.spec!.containers[0].image!;
    await importCoreDnsStandIn(state, ['node1', 'node2'], dnsImage);
    await core.deleteCollectionNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    await waitFor(
      async () => ((await dns()).status?.readyReplicas ?? 0) >= 1,
      180_000,
      'a CoreDNS replica ready',
    );
    await createHttpd(apps, {
      name: 'web',
      replicas: 2,
      onControlPlanes: true,
      // One replica on each node to start with: node1's kubelet restart would take its replica
      // unready behind the PDB's back (a 1.20 kubelet re-probes every container after a restart)
      // while node2's drain evicts the other — unless node1 is drained first, as the roll does.
      // Preferred, not required: an evicted replica must still find the other node.
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchLabels: { app: 'web' } },
              },
            },
          ],
        },
      },
      // A loaded host (load average 20-50 on 2 cores) stalls probes for seconds: the default 1 s
      // timeout and 3 failures flapped the pod unready in a run (2026-12-03).
      readinessProbe: {
        tcpSocket: { port: 8080 },
        periodSeconds: 1,
        timeoutSeconds: 5,
        failureThreshold: 10,
      },
    });
    await createPdb(kc, { name: 'web', minAvailable: 1 });
    // Available as the PDB counts it: web pods Ready and not being deleted (the Deployment's
    // status lags the pods: it read 0 for ~1 s while a PDB-allowed eviction went on, 2026-12-03).
    const available = async () =>
      (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items.filter(
        (p) =>
          !p.metadata?.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
    await waitFor(async () => (await available()) === 2, 120_000, 'both web replicas available');
    const webNodes = async () =>
      (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items
        .map((p) => p.spec?.nodeName)
        .sort();
    assert.deepEqual(await webNodes(), ['node1', 'node2'], 'a web replica on each node before the roll');
    // Availability polled through the upgrade: never below the PDB's minAvailable (1).
    const seen: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        seen.push(await available().catch(() => -1));
        await new Promise((res) => setTimeout(res, 500));
      }
    })();
    const t0 = Date.now();
    let op: Op | undefined;
    try {
      const start = await runIngot(['cluster', 'upgrade', CLUSTER, '--to', 'v1.20.2'], { env: r.cliEnv });
      assert.equal(start.code, 0, start.err);
      op = await ended('the upgrade to end');
    } finally {
      polling = false;
      await poller;
    }
    const took = (Date.now() - t0) / 1000;
    assert.equal(op!.state, 'succeeded', op!.reason);
    assert.deepEqual(
      op!.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [
        ['node1', 'done', 'healthy'],
        ['node2', 'done', 'ready'],
      ],
    );
    const answered = seen.filter((n) => n >= 0);
    assert.ok(answered.length >= 5, JSON.stringify(seen));
    assert.ok(
      answered.every((n) => n >= 1),
      `availability never below the PDB's minAvailable 1: ${JSON.stringify(seen)}`,
    );
    const ev = (
      await r.api<{ type: string; message: string }[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`)
    ).body.map((e) => e.message);
    const at = (re: RegExp) => ev.findLastIndex((m) => re.test(m));
    assert.ok(at(/^node1: kubeadm upgrade apply done/) >= 0, ev.slice(-30).join('\n'));
    // node1 drained (its web replica evicted) before its kubelet restarted, uncordoned after.
    assert.ok(at(/^node1: drained: [1-9]\d* pods evicted/) >= 0, ev.slice(-30).join('\n'));
    assert.ok(at(/^node1: drained: /) < at(/^node1: kubeadm upgrade apply done/));
    assert.ok(at(/^node1: done: the API answers, uncordoned/) > at(/^node1: kubeadm upgrade apply done/));
    assert.ok(at(/^node2: drained: /) > at(/^node1: done: the API answers/), 'web pods evicted from node2');
    assert.ok(at(/^node2: upgraded to v1\.20\.2/) > at(/^node2: drained/));
    assert.ok(at(/^node2: uncordoned/) > at(/^node2: upgraded to/));
    // Neither node left cordoned.
    assert.equal((await core.readNode({ name: 'node1' })).spec?.unschedulable ?? false, false);
    assert.equal((await core.readNode({ name: 'node2' })).spec?.unschedulable ?? false, false);
    process.stderr.write(
      `upgrade (same version) rolled in ${took.toFixed(1)} s; web availability polled ${seen.length} times, min ${Math.min(...answered)}\n`,
    );
  });
});
