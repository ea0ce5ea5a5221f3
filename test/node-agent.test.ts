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
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NODE_AGENT_PATH, NODE_AGENT_SHARE, nodeAgentFiles } from '../src/agent/node/files.ts';
import { ADMIN_KUBECONFIG_SECRET, type BootstrapReport } from '../src/core/node-agent-protocol.ts';
import type { Job } from '../src/core/job.ts';
import type { Machine } from '../src/core/machine.ts';
import type { AgentResult } from '../src/engine/agent-port.ts';
import { AgentTasksPort } from '../src/engine/agent-tasks-port.ts';
import { AGENT_POLL } from '../src/netboot/http/agent-tasks.ts';
import { hashBootToken, newBootToken } from '../src/netboot/http/tokens.ts';
import { healthMetrics } from '../src/health/metrics.ts';
import { type Harness, machine, request, startHarness } from './support/boot-http.ts';
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
    for (const a of agents) if (a.pid && a.exitCode === null) process.kill(-a.pid, 'SIGKILL');
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
    const n = await deployedNode({ env: ctd.env });
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
    const left = readdirSync(join(dir, `node${seq}`, 'run'));
    for (const f of ['result', 'bootstrap.out', 'bootstrap.sh'])
      assert.ok(!left.includes(f), `${f} does not stay on the node (${left.join(' ')})`);
    const kept = readFileSync(join(dir, `node${seq}`, 'run', 'log'), 'utf8');
    assert.match(kept, /--token <redacted-token>/, 'the log kept for a look after a failure is redacted');
    assert.ok(!kept.includes(JOIN_TOKEN));
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
});
