/**
 * The README's lab walk-through, run as a newcomer runs it (root; QEMU under TCG; minutes):
 * `ingot serve` as the quick start starts it, in a directory holding the checkout (symlinks to
 * its files), so the default data dir `./.ingot` is relative; then, in one shell in that
 * directory, the quick start's `export INGOT_TOKEN=…` and `alias ingot=…` and every command of
 * the README's lab section, read from the README itself, in order. Each `--wait` is the wait.
 * Between commands the test checks what the README promises: both VMs (BIOS and UEFI) ready
 * with their boot chain on the timeline, the deployed VM answering SSH, the disk erased after
 * the release, nothing left after `lab down`. HOME is a temporary directory (the SSH key the
 * README creates goes there) and the region listens on a free port (INGOT_URL); nothing else
 * differs from the README.
 */
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { findConsoleLog, readTail } from '../src/host/console-log.ts';
import { labNetwork, listNamespaces, removeNetwork } from '../src/lab/netns.ts';
import { skipUnless } from './support/needs.ts';
import { freePort } from './support/postgres.ts';
import { holdQemuTests } from './support/qemu-tests.ts';
import { REPO_ROOT, readmeSection, shellCommands } from './support/readme.ts';
import { type ServeProcess, startServe } from './support/serve-process.ts';
import { ShellSession } from './support/shell-session.ts';

const execFile = promisify(execFileCb);
const t0 = Date.now();
const phase = (what: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);

/** The README's lab: its own default name, so its namespaces are ingot-lab-*. */
const LAB = labNetwork('lab');
const labIsUp = () => listNamespaces().then((ns) => ns.includes(LAB.provNs) || ns.includes(LAB.rackNs));

/** How long a user waits for each kind of command (the README's --wait commands end by themselves). */
function timeoutFor(cmd: string): number {
  if (/image build os/.test(cmd)) return 40 * 60_000;
  // A 1 GiB write and the first boot under TCG: 1,050 s in deploy-e2e at CI load (2026-12-03),
  // past 15 min once with a second TCG VM beside it; deploy-e2e gives its deploy 25 min too.
  if (/machine deploy/.test(cmd)) return 25 * 60_000;
  if (/--wait/.test(cmd)) return 8 * 60_000;
  return 3 * 60_000;
}

describe('README: the lab walk-through, as written', {
  skip: skipUnless({
    root: true,
    files: {
      'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
      ovmf: '/usr/share/OVMF/OVMF_CODE_4M.fd',
      'openssh-client': '/usr/bin/ssh',
      debootstrap: '/usr/sbin/debootstrap',
    },
  }),
}, () => {
  const home = mkdtempSync(path.join(tmpdir(), 'ingot-readme-home-'));
  const dir = mkdtempSync(path.join(tmpdir(), 'ingot-readme-'));
  let serve: ServeProcess | null = null;
  let shell: ShellSession | null = null;
  let releaseQemu: () => void = () => undefined;
  const quickStart = shellCommands(readmeSection('Quick start')).filter((c) =>
    /^(export INGOT_TOKEN=|alias ingot=)/.test(c),
  );
  const lab = shellCommands(readmeSection('The lab'));

  const run = async (cmd: string) => {
    phase(cmd);
    const r = await shell!.run(cmd, timeoutFor(cmd));
    assert.equal(r.code, 0, `${cmd} exited ${r.code}:\n${r.output}`);
    return r.output;
  };
  const api = async <T>(p: string): Promise<T> => serve!.api<T>('GET', p);
  const machine = (hostname: string) =>
    api<{ items: { id: string; hostname: string; state: string }[] }>(`/api/v1/machines?q=${hostname}`).then(
      (r) => {
        const m = r.items.find((x) => x.hostname === hostname);
        assert.ok(m, `${hostname} is enrolled`);
        return m;
      },
    );

  before(async () => {
    releaseQemu = await holdQemuTests('readme-lab');
    // A user's lab named `lab` on this host would be torn down by the README's `lab down`.
    if (await labIsUp())
      throw new Error(`a lab named "lab" is up on this host (${LAB.provNs}); not touching it`);
    // The checkout, as the user's working directory: the data dir .ingot is created here.
    for (const f of readdirSync(REPO_ROOT))
      if (f !== '.ingot' && f !== '.git') symlinkSync(path.join(REPO_ROOT, f), path.join(dir, f));
    // The quick start ends in `exec bin/ingot serve "$@"`: the same, with the default data dir.
    const port = await freePort();
    serve = await startServe(undefined, [], port, dir);
    phase(`ingot serve on ${serve.url}, data in ./.ingot`);
    shell = new ShellSession(dir, {
      PATH: process.env.PATH,
      HOME: home,
      INGOT_URL: serve.url,
      LANG: 'C.UTF-8',
    });
  });

  after(async () => {
    shell?.close();
    // `lab down` is the README's last command; again here in case the test stopped before it.
    await execFile(path.join(dir, 'bin/ingot'), ['lab', 'down'], { cwd: dir }).catch(() => undefined);
    await removeNetwork(LAB).catch(() => undefined);
    await serve?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    releaseQemu();
  });

  it('is the README’s walk-through: lab up, commission, image build, deploy, SSH, release, lab down', {
    timeout: 60 * 60_000,
  }, async () => {
    assert.equal(quickStart.length, 2, `the quick start's export and alias: ${quickStart.join('; ')}`);
    const next = (pattern: RegExp) => {
      const cmd = lab.shift();
      assert.ok(cmd && pattern.test(cmd), `the README's next lab command should match ${pattern}: ${cmd}`);
      return cmd;
    };
    for (const c of quickStart) await run(c);

    await run(next(/^ingot lab up /));
    await run(next(/^ingot machine commission lab-vm1 lab-vm2 --wait$/));
    for (const hostname of ['lab-vm1', 'lab-vm2']) {
      const m = await machine(hostname);
      assert.equal(m.state, 'ready');
      await checkBootChain(m.id, hostname);
    }

    await run(next(/^ingot image build os /));
    await run(next(/ssh-keygen/));
    await run(next(/^ingot machine deploy lab-vm1 .*--wait$/));
    assert.equal((await machine('lab-vm1')).state, 'deployed');
    await run(next(/^ip=\$\(ingot machine events lab-vm1/));
    const ssh = next(/^ip netns exec ingot-lab-prov ssh /);
    // The VM has phoned home; sshd may take a moment longer. A user would try again.
    let out = '';
    for (let i = 0; i < 12 && !/^12\.\d+/m.test(out); i++) {
      if (i) await new Promise((r) => setTimeout(r, 5000));
      out = (await shell!.run(ssh, 60_000)).output;
    }
    assert.match(out, /^12\.\d+/m, `${ssh} printed Debian 12's version:\n${out}`);

    await run(next(/^ingot machine release lab-vm1 --wipe secure --wait$/));
    assert.equal((await machine('lab-vm1')).state, 'ready');
    const vm1 = await machine('lab-vm1');
    const wiped = (await timeline(vm1.id)).filter((e) => e.type === 'agent.wipe.disk').at(-1);
    assert.equal(wiped?.data.mode, 'secure', 'the agent wiped the disk, securely');
    await checkErased(path.join(dir, '.ingot/labs/lab/vm1.qcow2'));

    const events = await run(next(/^ingot machine events lab-vm1$/));
    for (const what of [
      'dhcp.ack',
      'http.script',
      'agent.hello',
      'agent.write-image',
      'agent.os-booted',
      'agent.wipe',
    ])
      assert.match(events, new RegExp(what.replace('.', '\\.')), `the timeline shows ${what}`);

    await run(next(/^ingot lab down$/));
    assert.deepEqual(lab, [], 'every README lab command ran');
    assert.equal(await labIsUp(), false, 'lab down deleted the namespaces');
    phase('done');
  });

  type Ev = { id: number; type: string; data: Record<string, unknown> };
  /** The machine's whole timeline, oldest first, page by page as the API gives it. */
  async function timeline(id: string): Promise<Ev[]> {
    const all: Ev[] = [];
    for (;;) {
      const page = await api<Ev[]>(
        `/api/v1/machines/${id}/events?limit=200${all.length ? `&after=${all.at(-1)!.id}` : ''}`,
      );
      all.push(...page);
      if (page.length < 200) return all;
    }
  }

  /** The boot chain on the machine's timeline, in order, and the phone-home marker on its console. */
  async function checkBootChain(id: string, hostname: string): Promise<void> {
    const ev = await timeline(id);
    const types = ev.map((e) => e.type);
    for (const t of [
      'dhcp.discover',
      'dhcp.offer',
      'dhcp.request',
      'dhcp.ack',
      'http.script',
      'agent.hello',
      'agent.inventory',
    ])
      assert.ok(types.includes(t), `${hostname}: ${t} missing from ${types.join(', ')}`);
    const at = (t: string, pred: (e: Ev) => boolean = () => true) =>
      ev.findIndex((e) => e.type === t && pred(e));
    const kernel = at(
      'http.artifact',
      (e) => String(e.data.path).endsWith('/vmlinuz') && e.data.complete === true,
    );
    const initrd = at(
      'http.artifact',
      (e) => String(e.data.path).endsWith('/initrd.img') && e.data.complete === true,
    );
    const script = at('http.script');
    const hello = at('agent.hello');
    assert.ok(kernel >= 0 && initrd >= 0, `${hostname}: kernel and initrd fetches missing`);
    assert.equal(ev[script].data.boot, 'ephemeral');
    assert.ok(
      script < kernel && script < initrd && kernel < hello && initrd < hello,
      `${hostname}: boot steps out of order`,
    );
    assert.equal(ev[hello].data.leaseMatch, true, `${hostname}: the agent phones home from its DHCP lease`);
    const log = findConsoleLog(path.join(dir, '.ingot'), id);
    assert.ok(log, `${hostname}: a console log`);
    const text = readTail(log, 1 << 20).text;
    assert.match(text, /INGOT-PHONEHOME-OK/);
    assert.doesNotMatch(text, /ingot\.token=/, 'the boot token must not be printed on the console');
  }

  /** After `release --wipe secure` the VM is off and its disk reads as a blank one. */
  async function checkErased(disk: string): Promise<void> {
    assert.ok(existsSync(disk), `${disk} exists`);
    const { stdout: info } = await execFile('qemu-img', ['info', '-U', '--output=json', disk]);
    const size = (JSON.parse(info) as { 'virtual-size': number })['virtual-size'];
    const blank = path.join(home, 'blank.qcow2');
    await execFile('qemu-img', ['create', '-q', '-f', 'qcow2', blank, String(size)]);
    const cmp = await execFile('qemu-img', ['compare', '-U', '-f', 'qcow2', '-F', 'qcow2', disk, blank]).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    assert.equal(cmp, 0, 'the released disk reads as zeros');
  }
});
