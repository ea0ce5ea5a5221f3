/**
 * The node agent of a deployed machine against real peers: the real script
 * (src/agent/node/ingot-node-agent, run by Debian's sh with curl, sed, timeout, base64) polling a
 * real rack boot HTTP server on loopback with the machine's OS token from its cloud-init seed,
 * the engine's store-backed AgentPort asking for `bootstrap`, and a SQLite store. The bootstrap
 * scripts print `ingot-phase:` lines like the cluster's rendered ones; a real containerd
 * (Debian's, test/support/containerd.ts) answers the node facts of the first node.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NODE_AGENT_PATH, NODE_AGENT_SHARE, nodeAgentFiles } from '../src/agent/node/files.ts';
import {
  ADMIN_KUBECONFIG_SECRET,
  BOOTSTRAP_PHASE_PREFIX,
  type BootstrapReport,
} from '../src/core/node-agent-protocol.ts';
import { BOOTSTRAP_OUTPUT } from '../src/cluster/render/bootstrap.ts';
import type { Job } from '../src/core/job.ts';
import type { Machine } from '../src/core/machine.ts';
import type { AgentResult } from '../src/engine/agent-port.ts';
import { AgentTasksPort } from '../src/engine/agent-tasks-port.ts';
import { AGENT_POLL } from '../src/netboot/http/agent-tasks.ts';
import { checkEtcdSnapshotResult, execStdout } from '../src/core/etcd-backup-protocol.ts';
import { runNodeTask } from '../src/engine/cluster/agent-shell.ts';
import { hashBootToken, newBootToken } from '../src/netboot/http/tokens.ts';
import { healthMetrics } from '../src/health/metrics.ts';
import { type Harness, machine, request, startHarness } from './support/boot-http.ts';
import { createHash } from 'node:crypto';
import { startContainerd, type TestContainerd } from './support/containerd.ts';
import { eventually } from './support/region.ts';

/** A bootstrap token as kubeadm prints it in its join command: must never leave the node. */
const JOIN_TOKEN = 'abcdef.0123456789abcdef';
const KUBECONFIG = `apiVersion: v1\nkind: Config\nusers:\n- name: kubernetes-admin\n  user:\n    client-key-data: S3CR3T-KEY-${process.pid}\n`;
const B64 = Buffer.from(KUBECONFIG).toString('base64');

const script = (...body: string[]) => ['#!/bin/sh', 'set -eu', ...body, ''].join('\n');

interface Node {
  m: Machine;
  job: Job;
  token: string;
  ip: string;
  agent: ChildProcess;
  out: () => string;
}

describe('the node agent on a deployed machine', () => {
  let h: Harness;
  let port: AgentTasksPort;
  let dir: string;
  const agents: ChildProcess[] = [];
  let subnetId = '';
  let ctd: TestContainerd | undefined;
  let seq = 0;

  before(async () => {
    AGENT_POLL.ms = 20;
    h = await startHarness();
    port = new AgentTasksPort(() => h.store);
    dir = mkdtempSync(join(tmpdir(), 'ingot-node-agent-'));
    const subnet = await h.store.createSubnet(
      {
        name: `lo-${process.pid}`,
        cidr: '127.0.0.0/24',
        gateway: null,
        dns: [],
        vlan: null,
        dhcpMode: 'off',
        autoEnlist: false,
        ranges: [],
      },
      'test',
    );
    subnetId = subnet.id;
  });
  after(async () => {
    // Each agent's whole process group; one already gone (ESRCH) must not stop the cleanup, or
    // the rest keep long-polling the rack and the test process never exits.
    for (const a of agents) {
      if (!a.pid) continue;
      try {
        process.kill(-a.pid, 'SIGKILL');
      } catch {
        // its group is gone already
      }
    }
    await ctd?.stop();
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A deployed machine holding 127.0.0.N, with an OS token and a running job, and its node agent
   * installed under a temp root (files as the kubernetes-node image lays them out) and started.
   */
  async function deployedNode(
    o: {
      env?: Record<string, string>;
      adminConf?: boolean;
      setup?: (root: string, bin: string) => void;
    } = {},
  ): Promise<Node> {
    seq++;
    const ip = `127.0.0.${10 + seq}`;
    const m = await h.store.createMachine(machine({ state: 'deployed' }), 'test');
    await h.store.allocateIp(subnetId, { machineId: m.id, ip, kind: 'static' });
    const token = newBootToken();
    await h.store.setMachineOsToken(m.id, hashBootToken(token));
    const job = await h.store.enqueueJob(m.id, { kind: 'deploy', steps: ['wait-agent'] }, 'test');
    const root = join(dir, `node${seq}`);
    for (const [path, f] of Object.entries(nodeAgentFiles())) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), f.content, { mode: f.mode });
    }
    const seed = join(root, 'etc/cloud/cloud.cfg.d/95-ingot-agent.cfg');
    mkdirSync(dirname(seed), { recursive: true });
    // As write-image writes it (src/agent/guest/tasks/write-image.sh).
    writeFileSync(
      seed,
      `datasource_list: [ NoCloud, None ]\ndatasource:\n  NoCloud:\n    seedfrom: ${h.http.secureUrl}/metadata/${token}/\nphone_home:\n  url: ${h.http.secureUrl}/agent/v1/os-booted/${token}\n  post: [ instance_id, hostname, fqdn ]\n  tries: 20\n`,
      { mode: 0o600 },
    );
    if (o.adminConf !== false) {
      mkdirSync(join(root, 'etc/kubernetes'), { recursive: true });
      writeFileSync(join(root, 'etc/kubernetes/admin.conf'), KUBECONFIG, { mode: 0o600 });
    }
    // curl's source address: the machine's own (the rack checks the OS token's lease).
    const bin = join(root, 'bin');
    mkdirSync(bin);
    // The rack's certificate in the deployed OS's trust store, as write-image puts it there
    // (trust_rack); the wrapper's curl reads that store instead of the host's.
    const ca = join(root, 'usr/local/share/ca-certificates/ingot-rack.crt');
    mkdirSync(dirname(ca), { recursive: true });
    writeFileSync(ca, h.certPem ?? '', { mode: 0o644 });
    writeFileSync(
      join(bin, 'curl'),
      `#!/bin/sh\nexec /usr/bin/curl --cacert ${ca} --interface ${ip} "$@"\n`,
      {
        mode: 0o755,
      },
    );
    writeFileSync(join(root, 'kmsg'), '');
    o.setup?.(root, bin);
    let out = '';
    const agent = spawn('sh', [join(root, NODE_AGENT_PATH)], {
      detached: true,
      env: {
        PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
        INGOT_AGENT_SHARE: join(root, NODE_AGENT_SHARE),
        INGOT_RUN: join(root, 'run'),
        INGOT_SEED: seed,
        INGOT_ROOT: root,
        // The node's kernel log (its serial console), never the host's /dev/kmsg.
        INGOT_KMSG: join(root, 'kmsg'),
        ...o.env,
      },
    });
    agent.stdout?.on('data', (d) => {
      out += d;
    });
    agent.stderr?.on('data', (d) => {
      out += d;
    });
    agents.push(agent);
    return { m, job, token, ip, agent, out: () => out };
  }

  /** Asks the port until the task ends (the engine's step does the same, once per tick). */
  async function untilEnded(n: Node, params: Record<string, unknown>): Promise<AgentResult> {
    const end = Date.now() + 60_000;
    for (;;) {
      const r = await port.task(n.m, n.job.id, 'bootstrap', params);
      if (r.status !== 'pending') return r;
      assert.ok(Date.now() < end, `bootstrap still pending after 60 s; agent said:\n${n.out()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  it('bootstraps an init node: phases in order, the admin kubeconfig returned, sealed at rest, never logged', async () => {
    // A real containerd (Debian's) for the node facts; the others run without one.
    ctd = await startContainerd(join(dir, 'containerd'));
    // Each call's run directory as curl starts: what was left on the node when a report went out.
    const calls = join(dir, 'curl-calls');
    const n = await deployedNode({
      env: ctd.env,
      setup: (root, bin) => {
        const wrapper = readFileSync(join(bin, 'curl'), 'utf8');
        writeFileSync(
          join(bin, 'curl'),
          wrapper.replace(
            'exec ',
            `printf '%s | %s\\n' "$*" "$(ls ${join(root, 'run')} | tr '\\n' ' ')" >>${calls}\nexec `,
          ),
        );
      },
    });
    const r = await untilEnded(n, {
      role: 'init',
      script: script(
        'echo "ingot-phase: packages"',
        'echo "installing kubeadm"',
        // Output with backslashes (ctr's quoted errors): the report must stay valid JSON.
        String.raw`printf '%s\n' 'level=info msg="trying next host" error="Head \"https://k8s.gcr.io/v2/\": dial tcp"'`,
        'echo "ingot-phase: kubeadm-init"',
        `echo "kubeadm join 10.0.0.1:6443 --token ${JOIN_TOKEN} --discovery-token-ca-cert-hash sha256:00"`,
        'echo "ingot-phase: addons"',
        'sleep 3',
        'id -u',
      ),
    });
    assert.equal(r.status, 'done', JSON.stringify(r));
    const res = (r.status === 'done' ? r.result : null) as BootstrapReport;
    assert.deepEqual(res.phases, ['packages', 'kubeadm-init', 'addons']);
    // The agent sends admin.conf as base64; the rack decodes it; the engine reads the kubeconfig.
    assert.equal(res.adminKubeconfig, KUBECONFIG, 'the engine gets the cluster’s admin kubeconfig');
    assert.equal(res.node?.containerdRunning, true, 'node facts come along: containerd answers');
    assert.match(String(res.node?.containerd), /^containerd .* 1\.6\./);

    // At rest the task row holds the sealed secret's id only, and no file of the store has it.
    const row = await h.store.findAgentTask(n.job.id, 'bootstrap');
    const stored = row?.result as Record<string, unknown>;
    assert.equal(stored.adminKubeconfig, undefined);
    assert.match(String(stored[ADMIN_KUBECONFIG_SECRET]), /^sec/);
    const data = join(h.dir, 'data');
    for (const f of readdirSync(data).filter((x) => x.includes('.db') || x.includes('sqlite'))) {
      const bytes = readFileSync(join(data, f), 'latin1');
      assert.ok(!bytes.includes(B64) && !bytes.includes('S3CR3T-KEY'), `${f} holds no plaintext kubeconfig`);
    }

    // The timeline: each phase as a progress line, the end with the (redacted) log.
    const ev = await h.store.listEvents({ machineId: n.m.id, limit: 200 });
    const progress = ev.filter((e) => e.type === 'agent.bootstrap.progress').map((e) => e.message);
    for (const p of ['packages', 'kubeadm-init', 'addons'])
      assert.ok(progress.includes(`phase ${p}`), `phase ${p} on the timeline: ${progress.join(' | ')}`);
    const hello = ev.find((e) => e.type === 'agent.node-hello');
    assert.equal(hello?.data.agent, 'ingot-node-agent/1', 'the node agent checked in on the timeline');
    assert.equal(hello?.data.containerdRunning, true);
    assert.match(String(hello?.data.cgroup), /^v[12]$/);
    const done = ev.find((e) => e.type === 'agent.bootstrap');
    assert.match(String(done?.data.log), /installing kubeadm/);
    assert.ok(String(done?.data.log).includes(String.raw`error="Head \"https://k8s.gcr.io/v2/\": dial tcp"`));
    assert.match(String(done?.data.log), /--token <redacted-token>/);
    const everything = `${JSON.stringify(ev)}\n${n.out()}`;
    for (const secret of [B64, 'S3CR3T-KEY', JOIN_TOKEN])
      assert.ok(
        !everything.includes(secret),
        `${secret.slice(0, 12)}… appears in no event and no agent output`,
      );
    // Gone before the report leaves: once the rack has it, the task is over for everyone watching.
    const reports = readFileSync(calls, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`/agent/v1/tasks/`));
    const atReport = (reports.at(-1) ?? '').split(' | ')[1]?.split(' ') ?? [];
    assert.ok(reports.length > 0 && atReport.includes('log'), `the done report seen: ${reports.at(-1)}`);
    for (const f of ['result', 'bootstrap.out', 'bootstrap.sh'])
      assert.ok(!atReport.includes(f), `${f} is off the node before the report goes (${atReport.join(' ')})`);
    const kept = readFileSync(join(dir, `node${seq}`, 'run', 'log'), 'utf8');
    assert.match(kept, /--token <redacted-token>/, 'the log kept for a look after a failure is redacted');
    assert.ok(!kept.includes(JOIN_TOKEN));
  });

  it('puts every phase on the timeline once, in order, when a tee’d script says several at once and ends', async () => {
    // The rendered scripts' output goes through tee (BOOTSTRAP_OUTPUT); the last phases come in a
    // burst just before the script ends, while the agent's watcher may be in the middle of a
    // report: each must still reach the timeline, none twice (CI, 2026-12-03, lost one).
    const n = await deployedNode();
    const names = ['packages', 'api', 'join', 'registered', 'ready', 'bootstrapped'];
    const r = await untilEnded(n, {
      role: 'worker',
      script: [
        '#!/bin/bash',
        'set -euo pipefail',
        ...BOOTSTRAP_OUTPUT(join(dir, `tee-${process.pid}.log`)),
        `echo "${BOOTSTRAP_PHASE_PREFIX}${names[0]}"`,
        'sleep 2.5',
        'for i in $(seq 1 300); do echo "kubeadm output line $i"; done',
        ...names.slice(1).map((p) => `echo "${BOOTSTRAP_PHASE_PREFIX}${p}"`),
        '',
      ].join('\n'),
    });
    assert.equal(r.status, 'done', JSON.stringify(r));
    assert.deepEqual((r.status === 'done' ? (r.result as BootstrapReport) : null)?.phases, names);
    const ev = await h.store.listEvents({ machineId: n.m.id, limit: 200 });
    const phases = ev
      .filter((e) => e.type === 'agent.bootstrap.progress' && e.message.startsWith('phase '))
      .sort((a, b) => a.id - b.id)
      .map((e) => e.message.slice('phase '.length));
    assert.deepEqual(phases, names, 'each phase once, in order, on the timeline');
  });

  it('reports a failure with the phase it stopped in and the last lines of output', async () => {
    const n = await deployedNode();
    const r = await untilEnded(n, {
      role: 'worker',
      script: script(
        'echo "ingot-phase: packages"',
        'echo "ingot-phase: kubeadm-join"',
        'echo "error execution phase preflight: unable to fetch the kubeadm-config ConfigMap" >&2',
        'exit 3',
      ),
    });
    assert.equal(r.status, 'failed');
    const hello = (await h.store.listEvents({ machineId: n.m.id, limit: 50 })).find(
      (e) => e.type === 'agent.node-hello',
    );
    assert.equal(hello?.data.containerdRunning, false, 'no containerd on this node');
    const reason = r.status === 'failed' ? r.reason : '';
    assert.match(reason, /worker bootstrap script exited with status 3 in phase kubeadm-join/);
    assert.match(reason, /unable to fetch the kubeadm-config ConfigMap/);
    const ev = await h.store.listEvents({ machineId: n.m.id, limit: 200 });
    assert.equal(ev.find((e) => e.type === 'agent.bootstrap.failed')?.level, 'error');
  });

  it('journals each heartbeat on the node; a failed one with its error on the console, and the gap on the timeline once it gets through', async () => {
    // The rack unreachable for the heartbeats while the file `cut` exists (curl's own timeout
    // error, as a starved guest or a broken path gives it); progress reports still get through.
    let root = '';
    const n = await deployedNode({
      env: { INGOT_BEAT_S: '0.3', INGOT_BEAT_TIMEOUT_S: '7' },
      setup: (r, bin) => {
        root = r;
        // No --cacert from the wrapper: the agent must trust the rack through the certificate
        // write-image left (it reads only that one, not the whole trust store).
        const wrapper = readFileSync(join(bin, 'curl'), 'utf8')
          .replace(/--cacert \S+ /, '')
          .split('\n');
        wrapper.splice(
          1,
          0,
          `case "$*" in *"-w http="*) [ -e ${r}/cut ] && { echo "curl: (28) Operation timed out after 7000 milliseconds" >&2; exit 28; } ;; esac`,
        );
        writeFileSync(join(bin, 'curl'), wrapper.join('\n'));
      },
    });
    const r = await untilEnded(n, {
      role: 'worker',
      script: script(
        'echo "ingot-phase: kubeadm-join"',
        'sleep 1.5',
        `touch ${root}/cut`,
        'sleep 2',
        `rm ${root}/cut`,
        'sleep 1.5',
        'echo "ingot-phase: kubeadm-join-done"',
      ),
    });
    assert.equal(r.status, 'done', n.out());
    // Written on the tmpfs, copied to the disk in the background: the copy ends with the task.
    const onDisk = join(root, 'var/lib/ingot-node-agent/heartbeats.log');
    const beats = await eventually(
      async () => {
        const t = existsSync(onDisk) ? readFileSync(onDisk, 'utf8') : '';
        return / ended \(status 0\)\n$/.test(t) ? t : null;
      },
      10_000,
      'the journal’s copy on disk',
    );
    assert.match(beats, /Z task bootstrap \S+ started\n/);
    assert.match(
      beats,
      /Z beat ok http=200 connect=[\d.]+s tls=[\d.]+s total=[\d.]+s load=[\d.]+\/[\d.]+ mem-avail=\d+MiB/,
    );
    assert.match(beats, /Z beat FAILED curl=28 http=\S* .*error: curl: \(28\) Operation timed out/);
    assert.match(beats, /Z task bootstrap \S+ ended \(status 0\)\n/);
    const kmsg = readFileSync(join(root, 'kmsg'), 'utf8');
    assert.match(kmsg, /^<3>ingot-node-agent: heartbeat of task bootstrap FAILED: curl=28 /m);
    assert.match(
      kmsg,
      /^<3>ingot-node-agent: heartbeats of task bootstrap got through again after \d+ failed$/m,
    );
    const ev = await h.store.listEvents({ machineId: n.m.id, limit: 200 });
    const gap = ev.filter((e) => e.type === 'agent.heartbeat-gap');
    assert.equal(gap.length, 1, 'one gap, told once');
    assert.equal(gap[0].level, 'warning');
    assert.match(
      gap[0].message,
      /^\d+ heartbeats failed from [\d:]+Z to [\d:]+Z \(node time\); last: curl=28 /,
    );
    const done = ev.find((e) => e.type === 'agent.bootstrap');
    assert.match(
      String(done?.data.log),
      /heartbeat journal: \S+ beat FAILED curl=28/,
      'the task’s log carries its failed beats',
    );
    assert.match(
      String(done?.data.log),
      /heartbeat journal: \d+ beats, [1-9]\d* failed; slowest \([\d.]+s\): \S+ beat ok http=200 /,
      'and how many beats it had, with the slowest one',
    );
    // Restarted (the journal is on disk), the agent's check-in carries its last failed beat.
    process.kill(-(n.agent.pid ?? 0), 'SIGKILL');
    const again = spawn('sh', [join(root, NODE_AGENT_PATH)], {
      detached: true,
      env: {
        PATH: `${join(root, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
        INGOT_AGENT_SHARE: join(root, NODE_AGENT_SHARE),
        INGOT_RUN: join(root, 'run'),
        INGOT_SEED: join(root, 'etc/cloud/cloud.cfg.d/95-ingot-agent.cfg'),
        INGOT_ROOT: root,
        INGOT_KMSG: join(root, 'kmsg'),
      },
    });
    agents.push(again);
    const hellos = await eventually(
      async () => {
        const x = (await h.store.listEvents({ machineId: n.m.id, limit: 500 })).filter(
          (e) => e.type === 'agent.node-hello',
        );
        return x.length >= 2 ? x : null;
      },
      30_000,
      'the restarted agent to check in',
    );
    assert.equal(hellos[0].data.lastBeatFailed, undefined, 'no failed beat before the first check-in');
    assert.match(String(hellos.at(-1)?.data.lastBeatFailed), /Z beat FAILED curl=28 .*load=/);
  });

  it('stops a script that runs past its timeout and says so', async () => {
    const n = await deployedNode({ env: { INGOT_BOOTSTRAP_TIMEOUT: '2' } });
    const r = await untilEnded(n, {
      role: 'control-plane',
      script: script('echo "ingot-phase: kubeadm-join"', 'sleep 120'),
    });
    assert.equal(r.status, 'failed');
    assert.match(r.status === 'failed' ? r.reason : '', /timed out after 2 s in phase kubeadm-join/);
  });

  it('fails an init whose admin.conf is missing, and refuses a malformed result naming the field', async () => {
    const n = await deployedNode({ adminConf: false });
    const r = await untilEnded(n, { role: 'init', script: script('echo "ingot-phase: kubeadm-init"') });
    assert.equal(r.status, 'failed');
    assert.match(r.status === 'failed' ? r.reason : '', /admin\.conf is missing/);

    // A result that is not the protocol's (a worker sending a kubeconfig) is never stored.
    const m = await h.store.createMachine(machine({ state: 'deployed' }), 'test');
    await h.store.allocateIp(subnetId, { machineId: m.id, ip: '127.0.0.99', kind: 'static' });
    const token = newBootToken();
    await h.store.setMachineOsToken(m.id, hashBootToken(token));
    const job = await h.store.enqueueJob(m.id, { kind: 'deploy', steps: ['wait-agent'] }, 'test');
    await port.task(m, job.id, 'bootstrap', { role: 'worker', script: 'true' });
    const auth = { authorization: `Bearer ${token}` };
    const t = await request(`${h.http.secureUrl}/agent/v1/task?wait=2`, {
      headers: auth,
      from: '127.0.0.99',
    });
    const id = /T_ID='([^']+)'/.exec(t.body.toString())?.[1];
    assert.ok(id, t.body.toString());
    await request(`${h.http.secureUrl}/agent/v1/tasks/${id}`, {
      method: 'POST',
      from: '127.0.0.99',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'done', result: { phases: ['a'], adminKubeconfig: B64 } }),
    });
    const bad = await port.task(m, job.id, 'bootstrap');
    assert.equal(bad.status, 'failed');
    assert.match(bad.status === 'failed' ? bad.reason : '', /adminKubeconfig: only an init node sends it/);
    assert.ok(!(bad.status === 'failed' && bad.reason.includes(B64)));
  });

  it('restarts the kube-apiserver: stops the running one, waits for /readyz of the new one; fails naming a node without one', async () => {
    // A process of a name only this test uses stands in for the static pod's kube-apiserver
    // (the task signals every process of that name: never the real ones of a test bed).
    const comm = `kapi-${process.pid}`.slice(0, 15);
    const bin = join(dir, comm);
    copyFileSync('/bin/sleep', bin);
    chmodSync(bin, 0o755);
    let ready = false;
    const readyz = createServer((_req, res) => res.end(ready ? 'ok' : 'starting'));
    await new Promise<void>((r) => readyz.listen(0, '127.0.0.1', r));
    const env = {
      INGOT_APISERVER_COMM: comm,
      INGOT_APISERVER_READYZ: `http://127.0.0.1:${(readyz.address() as AddressInfo).port}/readyz`,
      INGOT_APISERVER_WAIT: '30',
    };
    const apiserver = spawn(bin, ['600'], { stdio: 'ignore' });
    try {
      const exited = new Promise((r) => apiserver.on('exit', (_code, signal) => r(signal)));
      const n = await deployedNode({ env });
      const ask = () => port.task(n.m, n.job.id, 'restart-apiserver', {});
      await ask();
      assert.equal(await exited, 'SIGTERM', 'the running kube-apiserver was stopped');
      // Until the new one answers /readyz, the task waits.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await ask()).status, 'pending');
      ready = true;
      const end = Date.now() + 30_000;
      let r = await ask();
      while (r.status === 'pending' && Date.now() < end) {
        await new Promise((res) => setTimeout(res, 200));
        r = await ask();
      }
      assert.equal(r.status, 'done', `${JSON.stringify(r)}\n${n.out()}`);
      assert.equal(
        typeof (r.status === 'done' && (r.result as { readyAfterSeconds: unknown }).readyAfterSeconds),
        'number',
      );

      const none = await deployedNode({ env });
      let f = await port.task(none.m, none.job.id, 'restart-apiserver', {});
      while (f.status === 'pending' && Date.now() < end + 30_000) {
        await new Promise((res) => setTimeout(res, 200));
        f = await port.task(none.m, none.job.id, 'restart-apiserver', {});
      }
      assert.equal(f.status, 'failed');
      assert.match(f.status === 'failed' ? f.reason : '', new RegExp(`no ${comm} runs on this node`));
    } finally {
      if (apiserver.exitCode === null && apiserver.signalCode === null) apiserver.kill('SIGKILL');
      await new Promise<void>((r) => readyz.close(() => r()));
    }
  });

  it('hands a bootstrap only to the deployed OS, from its own address, and nothing else to it', async () => {
    const m = await h.store.createMachine(machine({ state: 'deployed' }), 'test');
    await h.store.allocateIp(subnetId, { machineId: m.id, ip: '127.0.0.98', kind: 'static' });
    const os = newBootToken();
    await h.store.setMachineOsToken(m.id, hashBootToken(os));
    const boot = newBootToken();
    await h.store.setMachineBootToken(m.id, hashBootToken(boot), Date.now() + 3600_000);
    const job = await h.store.enqueueJob(m.id, { kind: 'deploy', steps: ['wait-agent'] }, 'test');
    const poll = (token: string, from = '127.0.0.98') =>
      request(`${h.http.secureUrl}/agent/v1/task?wait=0`, {
        headers: { authorization: `Bearer ${token}` },
        from,
      });

    await port.task(m, job.id, 'inventory', {});
    assert.equal((await poll(os)).status, 204, 'the node agent never gets an ephemeral task');
    const inv = await poll(boot);
    assert.match(inv.body.toString(), /T_NAME='inventory'/);
    const invId = /T_ID='([^']+)'/.exec(inv.body.toString())?.[1];
    await request(`${h.http.secureUrl}/agent/v1/tasks/${invId}`, {
      method: 'POST',
      from: '127.0.0.98',
      headers: { authorization: `Bearer ${boot}`, 'content-type': 'application/json' },
      body: '{"status":"failed","reason":"done with it"}',
    });

    assert.equal((await port.task(m, job.id, 'bootstrap', { role: 'wizard', script: 'x' })).status, 'failed');
    const job2 = await h.store.enqueueJob(m.id, { kind: 'deploy', steps: ['wait-agent'] }, 'test');
    await port.task(m, job2.id, 'bootstrap', { role: 'worker', script: 'true' });
    assert.equal((await poll(boot)).status, 204, 'the ephemeral agent never gets a bootstrap');
    assert.equal((await poll(os, '127.0.0.97')).status, 403, 'an OS token from another address is refused');
    const denied = await eventually(async () =>
      (await h.store.listEvents({ machineId: m.id, limit: 50 })).find((e) => e.type === 'node-agent.denied'),
    );
    assert.equal(denied.level, 'error', 'on the machine’s timeline as a security event');
    const hello = (token: string) =>
      request(`${h.http.secureUrl}/agent/v1/node-hello`, {
        method: 'POST',
        from: '127.0.0.98',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"agent":"x"}',
      });
    assert.equal((await hello(boot)).status, 403, 'the node hello is the deployed OS’s');
    assert.equal((await hello(os)).status, 200);
    const t = await poll(os);
    assert.equal(t.status, 200);
    assert.match(t.body.toString(), /T_NAME='bootstrap'/);
    assert.match(t.body.toString(), /T_ROLE='worker'/);
  });

  it('reports its disks’ SMART every interval: kept per serial as node-agent reports, exported as metrics, a disk at risk on the timeline once', async () => {
    // The test host's disks have no SMART to give: smartctl answers with the fixtures' JSON
    // (real smartmontools 7.3 output), the NVMe drive with failing counters.
    const fx = (f: string) =>
      JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/smartctl', f), 'utf8')) as Record<
        string,
        unknown
      >;
    const ata = { ...fx('ata-seagate-st3500418as.json'), serial_number: 'ATA-SMART-1' };
    const nvme = fx('nvme-samsung-970-evo-plus.json');
    nvme.serial_number = 'NVME-SMART-1';
    nvme.nvme_smart_health_information_log = {
      ...(nvme.nvme_smart_health_information_log as object),
      media_errors: 3,
    };
    const n = await deployedNode({
      env: { INGOT_SMART_INTERVAL_S: '1' },
      setup: (root, bin) => {
        for (const [d, removable] of [
          ['sda', 0],
          ['sdb', 1],
          ['sdc', 0],
          ['nvme0n1', 0],
          ['loop0', 0],
        ] as const) {
          mkdirSync(join(root, 'sys/block', d), { recursive: true });
          writeFileSync(join(root, 'sys/block', d, 'size'), '1953525168\n');
          writeFileSync(join(root, 'sys/block', d, 'removable'), `${removable}\n`);
        }
        writeFileSync(join(root, 'ata.json'), JSON.stringify(ata));
        writeFileSync(join(root, 'nvme.json'), JSON.stringify(nvme));
        // smartctl's exit status is a bit mask: the NVMe drive's says its error log has entries.
        writeFileSync(
          join(bin, 'smartctl'),
          script(
            'for a; do dev=$a; done',
            'case "$dev" in',
            `  /dev/sda) cat ${join(root, 'ata.json')} ;;`,
            `  /dev/nvme0n1) cat ${join(root, 'nvme.json')}; exit 64 ;;`,
            '  *) echo "Smartctl open device: $dev failed: No such device"; exit 2 ;;',
            'esac',
          ),
          { mode: 0o755 },
        );
      },
    });
    // Two reports or more (one a second): each disk kept by serial, sdb (removable), sdc (no
    // SMART) and loop0 left out.
    const rows = await eventually(async () => {
      const r = await h.store.diskHealthHistory(n.m.id, 0);
      return r.length >= 4 ? r : undefined;
    }, 30_000);
    assert.deepEqual(
      [...new Set(rows.map((r) => r.serial))].sort(),
      ['ATA-SMART-1', 'NVME-SMART-1'],
      n.out(),
    );
    assert.ok(rows.every((r) => r.source === 'node-agent'));
    const newest = (serial: string) => rows.filter((r) => r.serial === serial).sort((a, b) => b.at - a.at)[0];
    assert.equal(newest('NVME-SMART-1').mediaErrors, 3);
    assert.equal(newest('NVME-SMART-1').device, '/dev/nvme0');
    assert.equal(newest('ATA-SMART-1').reallocatedSectors, 1);
    // The region's metrics carry the deployed machine's disks.
    const text = await healthMetrics(h.store, { reuseMs: 0 }).exposition();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('ingot_disk_media_errors{') && l.includes(`machine="${n.m.id}"`));
    assert.ok(line?.includes('serial="NVME-SMART-1"') && line.endsWith(' 3'), String(line));
    // One event per disk turning at risk (the NVMe's media errors, the Seagate's reallocated
    // sector), not one per report.
    const ev = (await h.store.listEvents({ machineId: n.m.id, limit: 200 })).filter(
      (e) => e.type === 'health.disk-at-risk',
    );
    assert.deepEqual(
      ev.map((e) => e.data.serial).sort(),
      ['ATA-SMART-1', 'NVME-SMART-1'],
      ev.map((e) => e.message).join(' | '),
    );
    assert.match(ev.find((e) => e.data.serial === 'NVME-SMART-1')?.message ?? '', /3 media errors/);
    assert.match(n.out(), /SMART of 3 disk\(s\) reported/);

    // A malformed report is refused naming the field and stores nothing; a boot token is refused.
    const post = (body: string, token = n.token) =>
      request(`${h.http.secureUrl}/agent/v1/node-smart`, {
        method: 'POST',
        from: n.ip,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
    n.agent.pid && process.kill(-n.agent.pid, 'SIGKILL');
    const count = (await h.store.diskHealthHistory(n.m.id, 0)).length;
    const bad = await post('{"disks":5}');
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /disks/);
    assert.equal((await h.store.diskHealthHistory(n.m.id, 0)).length, count, 'nothing stored');
    const noSerial = await post(JSON.stringify({ disks: [{ ...ata, serial_number: undefined }] }));
    assert.equal(noSerial.status, 200);
    assert.match(
      noSerial.body.toString(),
      /serial_number/,
      'a disk without a serial is skipped with its reason',
    );
  });

  it('takes an etcd snapshot with etcdctl and uploads it to the rack: stored with the checksum the node measured', async () => {
    const n = await deployedNode();
    // etcdctl as the node's own: `snapshot save` writes a file, `snapshot status` describes it.
    const bin = join(dir, `node${seq}`, 'bin');
    writeFileSync(
      join(bin, 'etcdctl'),
      script(
        'for a in "$@"; do last=$a; done',
        'case "$*" in',
        '  *"snapshot save"*) head -c 300000 /dev/urandom >"$last" ;;',
        '  *"snapshot status"*) echo \'{"hash":3141,"revision":77,"totalKey":912,"totalSize":300000}\' ;;',
        'esac',
      ),
      { mode: 0o755 },
    );
    const artifact = `etcd-snapshots/c1/bk-${seq}.db`;
    const r = checkEtcdSnapshotResult(
      await runNodeTask(
        h.store,
        {
          machineId: n.m.id,
          jobId: `bk-test-${seq}`,
          name: 'etcd-snapshot',
          params: { artifact, maxBytes: 10 ** 6 },
          what: 'snapshot',
        },
        { pollMs: 50, pickupMs: 30_000 },
      ),
    );
    const stored = readFileSync(join(h.artifacts, artifact));
    assert.equal(stored.length, 300_000);
    assert.deepEqual(r, {
      sha256: createHash('sha256').update(stored).digest('hex'),
      bytes: 300_000,
      revision: 77,
      totalKeys: 912,
      hash: 3141,
    });
    assert.deepEqual(
      readdirSync(join(dir, `node${seq}`, 'var/lib')).filter((f) => f.startsWith('ingot-etcd-snapshot-')),
      [],
      'the node keeps no copy',
    );
    // A snapshot over the region's limit is refused on the node, before any upload.
    await assert.rejects(
      runNodeTask(
        h.store,
        {
          machineId: n.m.id,
          jobId: `bk-test-big-${seq}`,
          name: 'etcd-snapshot',
          params: { artifact: `etcd-snapshots/c1/big-${seq}.db`, maxBytes: 1000 },
          what: 'snapshot',
        },
        { pollMs: 50, pickupMs: 30_000 },
      ),
      /the snapshot is 300000 bytes, over the region's limit of 1000/,
    );
    // The rack's artifacts route never serves a snapshot, however the path is spelt.
    for (const p of [artifact, artifact.replace('etcd-', 'etcd%2D'), `./${artifact}`])
      assert.equal((await request(`${h.http.secureUrl}/artifacts/${p}`)).status, 404, p);
  });

  /** The engine's `node-exec` (runNodeTask) on `n`'s node agent, as its `i`-th task. */
  const nodeExec = (n: { m: Machine }, i: number, params: Record<string, unknown>) =>
    runNodeTask(
      h.store,
      { machineId: n.m.id, jobId: `rs-test-${seq}.${i}`, name: 'node-exec', params, what: 'exec' },
      { pollMs: 50, pickupMs: 30_000 },
    );

  it('runs a node-exec with a file fetched from the rack first, returns its stdout, and says why one failed', async () => {
    const n = await deployedNode();
    const artifact = `etcd-snapshots/.staging/x-${seq}`;
    mkdirSync(join(h.artifacts, 'etcd-snapshots/.staging'), { recursive: true });
    writeFileSync(join(h.artifacts, artifact), 'restored bytes\n');
    const target = join(dir, `node${seq}`, 'restore.db');
    const out = execStdout(
      await nodeExec(n, 1, {
        script: `sha256sum ${target} | cut -c1-64; cat ${target}`,
        fetch: target,
        artifact,
      }),
    );
    assert.equal(out, `${createHash('sha256').update('restored bytes\n').digest('hex')}\nrestored bytes\n`);
    await assert.rejects(
      nodeExec(n, 2, { script: 'echo half; echo "no such member" >&2; exit 3' }),
      /exec: exited with status 3: no such member/,
    );
  });

  it('keeps a credential a node command printed off the timeline and out of its failure, the engine still getting its stdout', async () => {
    const n = await deployedNode();
    const key = `${'c0ffee'.repeat(10)}abcd`;
    const out = execStdout(
      await nodeExec(n, 1, {
        script: `echo "kubeadm join x --token ${JOIN_TOKEN}"; echo "certificateKey: ${key}" >&2`,
      }),
    );
    assert.equal(out, `kubeadm join x --token ${JOIN_TOKEN}\n`);
    const failed = await nodeExec(n, 2, {
      script: `echo "refused --certificate-key ${key} with ${JOIN_TOKEN}" >&2; exit 1`,
    }).then(
      () => assert.fail('the command failed'),
      (e: Error) => e.message,
    );
    assert.match(
      failed,
      /exec: exited with status 1: refused --certificate-key <redacted> with <redacted-token>/,
    );
    const ev = JSON.stringify(await h.store.listEvents({ machineId: n.m.id, limit: 200 }));
    assert.match(ev, /agent\.node-exec\.failed/);
    assert.match(ev, /certificateKey: <redacted>/, 'the first command’s stderr is on the timeline');
    for (const secret of [key, JOIN_TOKEN]) assert.ok(!ev.includes(secret), `${secret} on the timeline`);
  });

  it('takes a task file upload only from the task’s machine while it runs, bounded, and only with a matching checksum', async () => {
    const n = await deployedNode({ env: { INGOT_RETRY_S: '3600' } });
    // The agent is polling; a task it never sees (another machine's job name) stands for one it runs.
    const row = await h.store.ensureAgentTask({
      machineId: n.m.id,
      jobId: `bk-manual-${seq}`,
      name: 'etcd-snapshot',
      params: { artifact: `etcd-snapshots/c1/manual-${seq}.db`, maxBytes: 10 },
    });
    n.agent.kill('SIGKILL');
    const ip = `127.0.0.${10 + seq}`;
    const url = `${h.http.secureUrl}/agent/v1/tasks/${row.id}/file`;
    const put = (body: string, sum: string, token = n.token) =>
      request(url, {
        method: 'PUT',
        from: ip,
        body,
        headers: { authorization: `Bearer ${token}`, 'x-ingot-sha256': sum },
      });
    const sum = (s: string) => createHash('sha256').update(s).digest('hex');
    assert.equal((await put('snapshot', sum('snapshot'))).status, 404, 'a pending task takes no file');
    await h.store.updateAgentTask(row.id, { status: 'running' }, []);
    assert.equal((await put('snapshot', sum('other'))).status, 409, 'a checksum that does not match');
    assert.equal((await put('0123456789ab', sum('0123456789ab'))).status, 413, 'over maxBytes');
    assert.equal((await put('snapshot', 'nope')).status, 400);
    assert.equal((await put('snapshot', sum('snapshot'), newBootToken())).status, 403, 'an unknown token');
    assert.deepEqual(
      readdirSync(join(h.artifacts, 'etcd-snapshots/c1')).filter((f) => f.startsWith(`manual-${seq}`)),
      [],
    );
    const ok = await put('snapshot', sum('snapshot'));
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(readFileSync(join(h.artifacts, `etcd-snapshots/c1/manual-${seq}.db`), 'utf8'), 'snapshot');
  });
  it('makes a join token on a control plane: kubeadm token create --ttl 1h, the token sealed at rest, never logged', async () => {
    const n = await deployedNode();
    const root = join(dir, `node${seq}`);
    // kubeadm as the agent calls it: the admin.conf of the node, a one-hour token, the join command printed.
    writeFileSync(
      join(root, 'bin', 'kubeadm'),
      script(
        `[ "$*" = "token create --kubeconfig ${root}/etc/kubernetes/admin.conf --ttl 1h --print-join-command" ] || { echo "unexpected: $*" >&2; exit 2; }`,
        `echo "kubeadm join 10.0.0.1:6443 --token ${JOIN_TOKEN} --discovery-token-ca-cert-hash sha256:00 "`,
      ),
      { mode: 0o755 },
    );
    const end = Date.now() + 60_000;
    let r: AgentResult;
    for (;;) {
      r = await port.task(n.m, n.job.id, 'join-token');
      if (r.status !== 'pending') break;
      assert.ok(Date.now() < end, `join-token still pending after 60 s; agent said:\n${n.out()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(r.status, 'done', JSON.stringify(r));
    assert.deepEqual(
      r.status === 'done' ? r.result : null,
      { token: JOIN_TOKEN },
      'the engine gets the token',
    );
    const row = await h.store.findAgentTask(n.job.id, 'join-token');
    assert.match(
      String((row?.result as Record<string, unknown> | undefined)?.tokenSecret),
      /^sec/,
      'the row holds the sealed id',
    );
    assert.ok(!JSON.stringify(row).includes(JOIN_TOKEN));
    const ev = await h.store.listEvents({ machineId: n.m.id, limit: 200 });
    assert.ok(ev.some((e) => e.type === 'agent.join-token'));
    assert.ok(!`${JSON.stringify(ev)}\n${n.out()}`.includes(JOIN_TOKEN), 'in no event and no agent output');

    // A node without admin.conf is no control plane: the task fails saying so.
    const w = await deployedNode({ adminConf: false });
    const end2 = Date.now() + 60_000;
    for (;;) {
      r = await port.task(w.m, w.job.id, 'join-token');
      if (r.status !== 'pending') break;
      assert.ok(Date.now() < end2, `join-token still pending after 60 s; agent said:\n${w.out()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(r.status, 'failed');
    assert.match(
      r.status === 'failed' ? r.reason : '',
      /admin\.conf is missing: this node is not a control plane/,
    );
  });
});
