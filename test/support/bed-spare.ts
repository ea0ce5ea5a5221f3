/**
 * A spare control plane on the HA test bed, for the control-plane replacement
 * (src/engine/cluster/replace-control-plane.ts): the bed has no sixth namespace, so the lost
 * node's machine comes back as a new one — powered off, its disks' Kubernetes state wiped
 * (/etc/kubernetes but Ingot's API server files, /var/lib/etcd, /var/lib/kubelet; containerd's
 * images kept, as a machine deployed from the bundle's image has them), booted again under a new hostname at the same
 * address (the one haproxy sends the API to). Also the bed's `join` port: the node's rendered
 * JoinConfiguration with the fresh credentials, run with `kubeadm join --config`.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { KUBEADM_DIR } from '../../src/cluster/render/security.ts';
import type { ControlPlaneJoin } from '../../src/kube/etcd/members.ts';
import type { NodeShell } from '../../src/kube/etcd/shell.ts';
import { readState } from '../../src/lab/testbed/bed.ts';
import { waitContainerd } from '../../src/lab/testbed/node.ts';
import { TestbedPowerTarget } from '../../src/lab/testbed/power.ts';

const CONFIG = `${KUBEADM_DIR}/kubeadm.yaml`;

export interface BedSpare {
  /** The bed's shell, the spare's hostname routed to its machine. */
  readonly shell: NodeShell;
  /** Wipes the (powered-off) lost node's disks and boots it as `spare`. */
  boot(): Promise<void>;
  /** The replacement's join port: `kubeadm join --control-plane` on the spare. */
  join(spare: string, j: ControlPlaneJoin): Promise<void>;
}

export async function bedSpare(
  root: string,
  bed: string,
  shell: NodeShell,
  lost: string,
  spare: string,
): Promise<BedSpare> {
  const at = (n: string) => (n === spare ? lost : n);
  const routed: NodeShell = {
    exec: (n, argv) => shell.exec(at(n), argv),
    readFile: (n, p) => shell.readFile(at(n), p),
    writeFile: (n, p, d) => shell.writeFile(at(n), p, d),
  };
  // The join config the bed rendered for the lost node (its address, kubelet args): read while it runs.
  const rendered = (await shell.readFile(lost, CONFIG)).toString();
  const dir = join(root, bed, lost);
  return {
    shell: routed,
    async boot() {
      const power = new TestbedPowerTarget({ root, bed, node: lost });
      if (await power.isOn()) throw new Error(`${lost} is still on: power it off first`);
      // What kubeadm and the lost node's membership left goes (certificates, kubeconfigs,
      // manifests, the join config); Ingot's own API server files stay, as the spare's deploy
      // writes them (admission, audit policy, the encryption config every API server shares).
      const etcK = join(dir, 'etc-up', 'kubernetes');
      for (const e of existsSync(etcK) ? readdirSync(etcK) : [])
        if (e !== 'ingot') rmSync(join(etcK, e), { recursive: true, force: true });
      for (const f of ['kubeadm.yaml', 'discovery.conf']) rmSync(join(etcK, 'ingot', f), { force: true });
      rmSync(join(dir, 'var-up', 'lib', 'etcd'), { recursive: true, force: true });
      const kubelet = join(dir, 'kubelet');
      if (existsSync(kubelet))
        for (const e of readdirSync(kubelet)) rmSync(join(kubelet, e), { recursive: true, force: true });
      const init = join(dir, 'init.sh');
      writeFileSync(init, readFileSync(init, 'utf8').replace(`hostname ${lost}\n`, `hostname ${spare}\n`));
      writeFileSync(join(dir, 'etc-up', 'hostname'), `${spare}\n`);
      const ip = (parse(rendered.split(/^---$/m).find((d) => /JoinConfiguration/.test(d)) ?? '') as Cfg)
        .controlPlane?.localAPIEndpoint?.advertiseAddress;
      const hosts = join(dir, 'etc-up', 'hosts');
      if (ip) writeFileSync(hosts, `${readFileSync(hosts, 'utf8').trimEnd()}\n${ip} ${spare}\n`);
      await power.powerOn({ target: 'None', mode: 'UEFI', mediaImage: null });
      const pid = readState(root, bed)?.nodes.find((n) => n.name === lost)?.pid;
      if (!pid) throw new Error(`${lost}: no init after power-on`);
      await waitContainerd(pid);
    },
    async join(name, j) {
      const docs = rendered
        .split(/^---$/m)
        .filter((d) => d.trim())
        .map((d) => parse(d) as Cfg);
      const cfg = docs.find((d) => d.kind === 'JoinConfiguration');
      if (!cfg?.discovery || !cfg.nodeRegistration || !cfg.controlPlane)
        throw new Error(`${CONFIG} of ${lost} is no control-plane JoinConfiguration`);
      // Token discovery with the fresh token and the CA's hash (the bed's own joins read a file).
      cfg.discovery = {
        bootstrapToken: { apiServerEndpoint: j.endpoint, token: j.token, caCertHashes: [j.caCertHash] },
        ...(cfg.discovery.timeout ? { timeout: cfg.discovery.timeout } : {}),
      };
      cfg.nodeRegistration.name = name;
      cfg.controlPlane.certificateKey = j.certificateKey;
      await routed.exec(name, ['mkdir', '-p', KUBEADM_DIR]);
      await routed.writeFile(name, CONFIG, Buffer.from(docs.map((d) => stringify(d)).join('---\n')));
      await routed.exec(name, ['kubeadm', 'join', '--config', CONFIG, '--skip-phases=preflight', '-v=1']);
    },
  };
}

interface Cfg {
  kind?: string;
  discovery?: { bootstrapToken?: Record<string, unknown>; timeout?: string; [k: string]: unknown };
  nodeRegistration?: { name?: string };
  controlPlane?: { localAPIEndpoint?: { advertiseAddress?: string }; certificateKey?: string };
}
