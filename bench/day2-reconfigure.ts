/**
 * Time to roll a reconfigure (a kube-apiserver flag) over 3 control planes + 2 workers on the HA
 * test bed (real Kubernetes 1.20.2, stacked etcd, haproxy in front), two ways on the same bed:
 *
 * - **Ingot**: a region holding the bed as a cluster it created (test/support/bed-region.ts)
 *   rolls `POST /clusters/{name}/reconfigure` — the etcd snapshot, each control plane's
 *   reconfigure script run in the node (the lab's shell agent stands in for the node agent's
 *   transport) and the API answering before the next, each worker drained through the Eviction
 *   API, uncordoned and every node Ready before the next — at the region's poll interval
 *   (`--poll-ms`, default 5000 as `ingot serve` runs);
 * - **the floor**: the same per-node work by hand, in sequence, no region: `etcdctl snapshot
 *   save` on node1 (the same takeSnapshot), then per control plane the same rendered script
 *   (src/cluster/render/reconfigure.ts: write the kubeadm config, `kubeadm init phase
 *   upload-config kubeadm` on the first, `kubeadm init phase control-plane apiserver`, wait for
 *   the node's kube-apiserver with the new flag and /healthz) and `kubectl get nodes` through
 *   haproxy until it answers; per worker `kubectl drain --ignore-daemonsets`, `kubectl
 *   uncordon`, `kubectl wait --for=condition=Ready node --all`.
 *
 * Each roll sets the flag to a new value (so every kube-apiserver restarts each time); a
 * two-replica Deployment runs one pod on each worker so each drain evicts one. Ingot and the
 * floor alternate `--rounds` times. The API is polled every second through haproxy during each
 * roll (failed polls are printed). Results go to docs/bench-day2.md by hand.
 *
 * Run as root, one HA bed at a time: `flock /tmp/ha-bed.lock node bench/day2-reconfigure.ts
 * [--rounds 1] [--poll-ms 5000]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPlan } from '../src/cluster/plan/plan.ts';
import { readPkiDir } from '../src/cluster/pki/dir.ts';
import { reconfigureScript } from '../src/cluster/render/reconfigure.ts';
import { parseClusterFile } from '../src/cluster/spec/parse.ts';
import { takeSnapshot } from '../src/kube/etcd/snapshot.ts';
import { bedPkiDir } from '../src/lab/testbed/bed.ts';
import { bedInventory } from '../src/lab/testbed/render.ts';
import { bedShell } from '../src/lab/testbed/shell.ts';
import { saveSysctls } from '../src/lab/testbed/sysctls.ts';
import { bedLayout } from '../src/lab/testbed/topology.ts';
import {
  type ApiPoll,
  bedRecordFile,
  pollEverySecond,
  reconfigureBed,
  runningApiServer,
  startBedRegion,
} from '../test/support/bed-region.ts';
import { bedName, reapStaleBeds, spread, startBed, stopBed } from '../test/support/testbed.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    'poll-ms': { type: 'string', default: '5000' },
  },
});
const rounds = Number(values.rounds);
const pollMs = Number(values['poll-ms']);
const FLAG = 'max-requests-inflight';
const CPS = ['node1', 'node2', 'node3'];
const WORKERS = ['node4', 'node5'];

const say = (l: string) => process.stdout.write(`${l}\n`);
const s = (ms: number) => (ms / 1000).toFixed(1);
const pollText = (p: ApiPoll[]) =>
  `API polls ${p.length}, failed ${p.filter((x) => !x.ok).length}${p.some((x) => !x.ok) ? ` ${JSON.stringify(p.filter((x) => !x.ok))}` : ''}, slowest ${s(Math.max(...p.map((x) => x.ms)))} s`;

const name = bedName('qrc');
const root = mkdtempSync(join(tmpdir(), 'ingot-bench-reconfigure-'));
const sysctls = saveSysctls();
await reapStaleBeds('qrc');
const { bed, api, core, apps } = await startBed(name, 'ha', root);
const shell = bedShell(root, name);
const kubectl = (...args: string[]) =>
  shell.exec('node1', ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args]);
const until = async (fn: () => Promise<unknown>, ms: number, what: string) => {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw new Error(`${what}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
};
const flagEverywhere = async (value: string) => {
  for (const cp of CPS)
    if (!new RegExp(`--${FLAG}=${value}( |$)`).test(await runningApiServer(shell, cp)))
      throw new Error(`${cp}'s kube-apiserver runs without --${FLAG}=${value}`);
};

/** The floor: the same per-node steps by hand, in sequence. */
async function floor(value: string): Promise<{ total: number; parts: string[] }> {
  const layout = bedLayout(bed.name, bed.topology);
  const spec = parseClusterFile(bedRecordFile(bed, { [FLAG]: value }), 'Cluster file');
  const plan = buildPlan(spec, bedInventory(layout));
  const pki = readPkiDir(bedPkiDir(root, name))!;
  const parts: string[] = [];
  const t0 = Date.now();
  let mark = t0;
  const lap = (what: string) => {
    const now = Date.now();
    parts.push(`${what} ${s(now - mark)} s`);
    mark = now;
  };
  const artifacts = mkdtempSync(join(tmpdir(), 'ingot-bench-floor-snap-'));
  try {
    await takeSnapshot(shell, { artifacts, cluster: 'floor', node: 'node1' });
  } finally {
    rmSync(artifacts, { recursive: true, force: true });
  }
  lap('snapshot');
  for (const [i, cp] of CPS.entries()) {
    const node = plan.nodes.find((n) => n.hostname === cp)!;
    const script = await reconfigureScript({
      spec,
      plan,
      pki,
      node,
      first: i === 0,
      expect: { [FLAG]: value },
      absent: [],
    });
    await shell.exec(cp, ['sh', '-c', script]);
    await until(() => kubectl('get', 'nodes'), 300_000, 'the API after the control plane');
    lap(cp);
  }
  for (const w of WORKERS) {
    await kubectl('drain', w, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=300s');
    await kubectl('uncordon', w);
    await kubectl('wait', '--for=condition=Ready', 'node', '--all', '--timeout=600s');
    lap(w);
  }
  return { total: Date.now() - t0, parts };
}

try {
  await spread(bed, core, apps, WORKERS);
  const br = await startBedRegion({ root, bed, api, clusterLimits: { pollMs } });
  try {
    let value = 400;
    for (let round = 1; round <= rounds; round++) {
      // Ingot
      value++;
      let poller = pollEverySecond(() => core.listNamespace());
      const r = await reconfigureBed(br, bedRecordFile(bed, { [FLAG]: String(value) }));
      let polls = await poller.stop();
      if (r.op.state !== 'succeeded') throw new Error(`the reconfigure ${r.op.state}: ${r.op.reason}`);
      await flagEverywhere(String(value));
      const nodes = r.op.progress.nodes.map(
        (n) => `${n.hostname} ${s(Date.parse(n.endedAt!) - Date.parse(n.startedAt!))} s`,
      );
      const scripts = br.agent
        .runs()
        .slice(-3)
        .map((x) => s((x.endedAt ?? Date.now()) - x.startedAt));
      say(
        `round ${round}, Ingot (poll ${pollMs} ms), --${FLAG}=${value}: ${r.seconds.toFixed(1)} s from the request to succeeded; request → node1 started (the snapshot) ${s(Date.parse(r.op.progress.nodes[0].startedAt!) - r.requestedAt)} s; ${nodes.join(', ')}; control-plane scripts ${scripts.join(', ')} s; ${pollText(polls)}`,
      );
      // The floor
      value++;
      poller = pollEverySecond(() => core.listNamespace());
      const f = await floor(String(value));
      polls = await poller.stop();
      await flagEverywhere(String(value));
      say(
        `round ${round}, floor, --${FLAG}=${value}: ${s(f.total)} s; ${f.parts.join(', ')}; ${pollText(polls)}`,
      );
      say(`round ${round}: Ingot / floor = ${(r.seconds / (f.total / 1000)).toFixed(2)}`);
    }
  } finally {
    await br.r.stop();
    rmSync(br.r.dataDir, { recursive: true, force: true });
  }
} finally {
  await stopBed(name, root, bed, api, sysctls);
}
