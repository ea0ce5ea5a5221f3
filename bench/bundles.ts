/**
 * Kubernetes bundles, side by side with their floors (root: containerd). Import: the bundle
 * directory as a tar stream into the registry (unpack, read, verify every image layer with
 * skopeo, checksum, move into place) vs the floor `tar -c | tar -x` + `sha256sum` of every file.
 * Install: the rack's install step against a real containerd (download with the token, verify,
 * install, `ctr images import`, check) vs the floor of the same downloads with plain curl piped
 * to `ctr images import` and binaries copied, no checks.
 *
 *   node bench/bundles.ts [BUNDLE_DIR]   (default: a synthetic 1.20.2 bundle of ~700 MiB)
 */
import { execFile as execFileCb, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BundleRegistry } from '../src/bundles/registry.ts';
import { makeImageArchive, tinyElf, writeUpstreamTree } from '../src/bundles/testing.ts';
import { bundleFiles } from '../src/core/bundle.ts';
import { hashBootToken, newBootToken } from '../src/netboot/http/tokens.ts';
import { startContainerd } from '../test/support/containerd.ts';
import { machine, startHarness } from '../test/support/boot-http.ts';

const run = promisify(execFileCb);
const sh = (script: string, env: Record<string, string> = {}) =>
  run('sh', ['-c', script], { env: { ...process.env, ...env }, maxBuffer: 64 * 2 ** 20 });
const secs = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

const work = mkdtempSync(join(tmpdir(), 'ingot-bench-bundles-'));
// Plain HTTP, as the floor's plain curl: this compares the install step, not TLS.
const h = await startHarness({ tls: null });
try {
  let dir = process.argv[2];
  if (!dir) {
    // Sizes like the real 1.20.2 build: 483 MiB of binaries, control-plane images of their size.
    dir = join(work, 'bundle');
    writeUpstreamTree(dir, { cni: ['bridge', 'host-local', 'loopback', 'portmap'] });
    const sizes: Record<string, number> = {
      kubeadm: 38,
      kubelet: 110,
      kubectl: 39,
      'kube-apiserver': 115,
      'kube-controller-manager': 110,
      'kube-scheduler': 42,
      'kube-proxy': 38,
    };
    for (const [name, mib] of Object.entries(sizes)) {
      const f = join(dir, 'kubernetes/server/bin', name);
      writeFileSync(f, Buffer.concat([tinyElf('amd64', 'v1.20.2'), randomBytes(mib * 2 ** 20)]));
      if (name.startsWith('kube-') && name !== 'kubectl')
        makeImageArchive(join(dir, 'kubernetes/server/bin', `${name}.tar`), {
          ref: `k8s.gcr.io/${name}:v1.20.2`,
          content: randomBytes(mib * 2 ** 19).toString('base64'),
        });
    }
    mkdirSync(join(dir, 'images'), { recursive: true });
    makeImageArchive(join(dir, 'images', 'etcd.tar'), {
      ref: 'k8s.gcr.io/etcd:3.4.13-0',
      content: randomBytes(30 * 2 ** 20).toString('base64'),
    });
    makeImageArchive(join(dir, 'images', 'pause.tar'), { ref: 'k8s.gcr.io/pause:3.2' });
  }
  const { stdout: du } = await run('du', ['-sm', '--apparent-size', dir]);
  const mib = Number(du.split('\t')[0]);
  console.log(
    `bundle ${dir}: ${mib} MiB; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );

  // Import vs floor.
  const floorDir = join(work, 'floor');
  mkdirSync(floorDir);
  let t = process.hrtime.bigint();
  await sh(
    `tar -C '${dir}' --dereference -cf - . | tar -C '${floorDir}' -xf - && find '${floorDir}' -type f -print0 | xargs -0 sha256sum >/dev/null`,
  );
  const floorImport = secs(t);
  rmSync(floorDir, { recursive: true, force: true });
  const reg = new BundleRegistry(h.store, h.artifacts);
  t = process.hrtime.bigint();
  const tar = spawn('tar', ['-C', dir, '--dereference', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const b = await reg.importStream({ name: 'bench' }, tar.stdout, 'bench');
  const ingotImport = secs(t);
  console.log(
    `import  Ingot ${ingotImport.toFixed(1)} s (${(mib / ingotImport).toFixed(0)} MiB/s), floor tar+sha256sum ${floorImport.toFixed(1)} s: ${(ingotImport / floorImport).toFixed(2)}×`,
  );

  // Install vs floor, each into a fresh containerd.
  const subnet = await h.store.createSubnet(
    {
      name: 'lo',
      cidr: '127.0.0.0/24',
      gateway: null,
      dns: [],
      vlan: null,
      dhcpMode: 'off',
      autoEnlist: false,
      ranges: [],
    },
    'bench',
  );
  const m = await h.store.createMachine(machine({ state: 'deployed' }), 'bench');
  await h.store.allocateIp(subnet.id, { machineId: m.id, ip: '127.0.0.1', kind: 'static' });
  const token = newBootToken();
  await h.store.setMachineOsToken(m.id, hashBootToken(token));
  const files = bundleFiles(b.manifest!);
  for (const which of ['floor', 'ingot'] as const) {
    const ctd = await startContainerd(join(work, `containerd-${which}`));
    const root = join(work, `root-${which}`);
    try {
      t = process.hrtime.bigint();
      if (which === 'ingot') {
        await sh(
          `curl -fsS -H "X-Ingot-Token: $INGOT_TOKEN" -o '${work}/install.sh' '${h.http.url}/bundles/bench/install.sh' && sh '${work}/install.sh'`,
          { ...ctd.env, INGOT_TOKEN: token, INGOT_ROOT: root, TMPDIR: work },
        );
      } else {
        const lines = [`mkdir -p '${root}/bin'`];
        for (const f of files) {
          const url = `${h.http.url}/bundles/bench/${f.path}`;
          lines.push(
            f.path.startsWith('images/')
              ? `curl -fsS -H "X-Ingot-Token: $INGOT_TOKEN" '${url}' | ctr -n k8s.io images import - >/dev/null`
              : `curl -fsS -H "X-Ingot-Token: $INGOT_TOKEN" -o '${root}/bin/${f.path.replace(/\//g, '_')}' '${url}'`,
          );
        }
        await sh(lines.join(' && '), { ...ctd.env, INGOT_TOKEN: token });
      }
      const s = secs(t);
      console.log(`install ${which.padEnd(5)} ${s.toFixed(1)} s`);
    } finally {
      await ctd.stop();
    }
  }
} finally {
  await h.close();
  rmSync(work, { recursive: true, force: true });
}
