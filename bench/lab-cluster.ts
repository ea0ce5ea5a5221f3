/**
 * Ready lab machine → all nodes Ready, split by phase, beside the floor, in one run on the same
 * lab VM (issue 15; docs/bench-cluster.md "In the lab"):
 *
 * - floor: `ingot machine deploy` of the same kubernetes-node image with a user-data that does
 *   by hand what a cluster node does (the rack's bundle install.sh, the bridge CNI file,
 *   `kubeadm init` with the same 10 min control-plane wait and ImagePull ignored, the node
 *   untainted, then wait for Ready); each phase is timed when its marker reaches the VM's
 *   console;
 * - Ingot: after a quick-wipe release, `POST /api/v1/clusters` with examples/lab-cluster.yaml
 *   until `running`, split by the machine's timeline (deployed, then the node agent's phases).
 *
 * One VM (2 vCPUs, 3 GiB) under QEMU TCG, as test/lab-cluster.test.ts.
 *   node bench/lab-cluster.ts     (root; the 1.20.2 bundle and the kubernetes-node image are built or cached)
 */
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { defaultCacheDir } from '../src/agent/image/build.ts';
import type { IngotEvent } from '../src/core/event.ts';
import { labNetwork, removeNetwork } from '../src/lab/netns.ts';
import { labDirFor, readState } from '../src/lab/state.ts';
import { bedBundle } from '../src/lab/testbed/bed.ts';
import { forwardedKube, LAB_ENDPOINT, type LabApi, startLabApi } from '../test/support/lab-cluster.ts';
import { compressedOsImage, registerImage } from '../test/support/os-image.ts';
import { startTestRegion, type TestRegion } from '../test/support/region.ts';

const execFile = promisify(execFileCb);
const INGOT = new URL('../bin/ingot', import.meta.url).pathname;
const CLUSTER_FILE = new URL('../examples/lab-cluster.yaml', import.meta.url).pathname;
const say = (l: string) => process.stdout.write(`${l}\n`);
const secs = (ms: number) => (ms / 1000).toFixed(1);

/** The floor's user-data: a cluster node's bootstrap, by hand, with a console marker per phase. */
const FLOOR_USER_DATA = `#cloud-config
write_files:
  - path: /etc/cni/net.d/10-bridge.conflist
    content: |
      {"cniVersion": "0.4.0", "name": "floor", "plugins": [{"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true,
       "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}, {"type": "portmap", "capabilities": {"portMappings": true}}]}
  - path: /root/kubeadm.yaml
    content: |
      apiVersion: kubeadm.k8s.io/v1beta2
      kind: InitConfiguration
      nodeRegistration: { taints: [], ignorePreflightErrors: [ImagePull] }
      localAPIEndpoint: { advertiseAddress: ADVERTISE }
      ---
      apiVersion: kubeadm.k8s.io/v1beta2
      kind: ClusterConfiguration
      kubernetesVersion: v1.20.2
      networking: { podSubnet: 10.244.0.0/16 }
      apiServer: { timeoutForControlPlane: 10m0s }
  - path: /root/floor.sh
    permissions: '0755'
    content: |
      #!/bin/bash
      set -euo pipefail
      m() { echo "INGOT-FLOOR $1" >/dev/ttyS0; }
      m start
      swapoff -a; modprobe overlay; modprobe br_netfilter
      sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
      systemctl restart containerd
      seed=$(sed -n 's#^ *seedfrom: *\\(http[^ ]*\\)/metadata/\\([A-Za-z0-9_-]*\\)/ *$#\\1 \\2#p' /etc/cloud/cloud.cfg.d/95-ingot-agent.cfg | head -n 1)
      rack=\${seed% *}; token=\${seed#* }
      curl -fsS --retry 5 -H "X-Ingot-Token: $token" -o /root/install.sh "$rack/bundles/kubernetes-v1.20.2-amd64/install.sh"
      INGOT_RACK_URL=$rack INGOT_TOKEN=$token sh /root/install.sh
      m bundle-installed
      systemctl enable kubelet
      # The lab's lease has no default route: kubeadm needs the address to advertise (the cluster's
      # render gives it the planned one).
      sed -i "s/ADVERTISE/$(hostname -I | awk '{print $1}')/" /root/kubeadm.yaml
      kubeadm init --config /root/kubeadm.yaml
      m kubeadm-init-done
      export KUBECONFIG=/etc/kubernetes/admin.conf
      until [ "$(kubectl get node "$(hostname)" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do sleep 2; done
      m node-ready
runcmd:
  - [bash, -c, '/root/floor.sh >/dev/ttyS0 2>&1 || echo "INGOT-FLOOR failed $?" >/dev/ttyS0']
`;

async function main(): Promise<void> {
  const name = `lb${(process.pid % 100000).toString(36)}`;
  const net = labNetwork(name);
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-bench-lab-'));
  const work = mkdtempSync(join(tmpdir(), 'ingot-bench-lab-work-'));
  let r: TestRegion | null = null;
  let api: LabApi | null = null;
  const cli = async (args: string[]) =>
    (await execFile(INGOT, args, { env: { ...process.env, ...r!.cliEnv }, maxBuffer: 2 ** 26 })).stdout;
  try {
    const os = await compressedOsImage(defaultCacheDir(), () => undefined);
    r = await startTestRegion({
      dataDir,
      kube: forwardedKube(() => api?.fromHost ?? `https://${LAB_ENDPOINT}:6443`),
      clusterLimits: { pollMs: 2000 },
    });
    await registerImage(r.region.store, dataDir, 'kubernetes-node', os.file, {
      sha256: os.sha256,
      compression: 'zst',
      virtualSize: os.rawSize,
    });
    await cli(['bundle', 'add', bedBundle()]);
    const labArgs = ['--name', name, '--data', dataDir];
    await cli(['lab', 'up', '--machines', '1', '--cpus', '2', '--memory', '3072', ...labArgs]);
    api = await startLabApi(net, work);
    const vm = readState(labDirFor(dataDir, name))!.machines[0];
    await cli(['machine', 'commission', vm.machineId, '--wait']);
    say(
      `# lab VM ${vm.hostname} ready; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );

    // Floor: the same deploy, then the node's bootstrap by hand.
    const ud = join(work, 'floor.yaml');
    writeFileSync(ud, FLOOR_USER_DATA);
    // `deploy --wait` returns once cloud-init is done, i.e. after the whole floor script: each
    // phase is timed while it runs, when its marker first reaches the console.
    const f0 = Date.now();
    const deploy = cli([
      'machine',
      'deploy',
      vm.machineId,
      '--image',
      'kubernetes-node',
      '--user-data',
      ud,
      '--wait',
      '--timeout',
      '1800',
    ]);
    let deployError: unknown = null;
    deploy.catch((e) => {
      deployError = e;
    });
    const floor: Record<string, number> = {};
    const consoleSince = existsSync(vm.consoleLog) ? readFileSync(vm.consoleLog, 'utf8').length : 0;
    for (const p of ['start', 'bundle-installed', 'kubeadm-init-done', 'node-ready']) {
      for (;;) {
        const all = existsSync(vm.consoleLog) ? readFileSync(vm.consoleLog, 'utf8') : '';
        const text = all.length >= consoleSince ? all.slice(consoleSince) : all;
        const failed = /INGOT-FLOOR failed (\d+)/.exec(text);
        if (failed || deployError) {
          // The lab's data directory goes with the run: keep the console for the reader.
          const kept = join(tmpdir(), `ingot-bench-lab-console-${name}.log`);
          writeFileSync(kept, all);
          throw new Error(
            `the floor's bootstrap failed (${failed ? failed[1] : String(deployError)}): the VM's console is kept in ${kept}`,
          );
        }
        if (text.includes(`INGOT-FLOOR ${p}`)) break;
        if (Date.now() - f0 > 60 * 60_000) throw new Error(`the floor did not reach ${p} within 1 h`);
        await sleep(500);
      }
      floor[p] = Date.now() - f0;
    }
    await deploy;
    // The floor's OS is up when its user-data starts (its node agent reports os-booted only after
    // cloud-init's final stage, i.e. after the whole script).
    floor.deployed = floor.start;
    await cli(['machine', 'release', vm.machineId, '--wipe', 'quick', '--wait']);

    // Ingot: cluster create on the same machine.
    const i0 = Date.now();
    const since = new Date(i0).toISOString();
    await cli(['cluster', 'create', '-f', CLUSTER_FILE, '--image', 'kubernetes-node', '--wait']);
    const total = Date.now() - i0;
    const ev: IngotEvent[] = (
      await r.region.store.listEvents({ machineId: vm.machineId, limit: 5000 })
    ).filter((e) => e.at >= since);
    const at = (pred: (e: IngotEvent) => boolean) => {
      const e = ev.find(pred);
      return e ? Date.parse(e.at) - i0 : Number.NaN;
    };
    const progress = (p: string) =>
      at((e) => e.type === 'agent.bootstrap.progress' && e.message.includes(`phase ${p}`));
    const ingot: Record<string, number> = {
      deployed: at((e) => e.type === 'agent.os-booted'),
      'bundle-installed': progress('packages-installed'),
      'kubeadm-init-done': progress('kubeadm-init-done'),
      'node-ready': progress('node-ready'),
    };
    say('');
    say('| phase (from a ready machine) | floor: deploy + kubeadm by hand | ingot cluster create |');
    say('| --- | --- | --- |');
    let prevF = 0;
    let prevI = 0;
    for (const p of ['deployed', 'bundle-installed', 'kubeadm-init-done', 'node-ready']) {
      say(
        `| ${p} | +${secs(floor[p] - prevF)} s (${secs(floor[p])} s) | +${secs(ingot[p] - prevI)} s (${secs(ingot[p])} s) |`,
      );
      prevF = floor[p];
      prevI = ingot[p];
    }
    say(`| running (create --wait returned) | | ${secs(total)} s |`);
    say(
      `# ratio ${(total / floor['node-ready']).toFixed(2)}; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    await cli(['cluster', 'delete', 'lab', '--wipe', 'quick', '--wait']);
  } finally {
    await api?.close();
    if (r)
      await execFile(INGOT, ['lab', 'down', '--name', name, '--data', dataDir], {
        env: { ...process.env, ...r.cliEnv },
      }).catch(() => undefined);
    await removeNetwork(net).catch(() => undefined);
    await r?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
