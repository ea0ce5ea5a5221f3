/**
 * A stacked etcd behind a fake NodeShell (src/kube/etcd/shell.ts) for unit and simulated-cluster
 * tests of the control-plane replacement: each member answers on its node while the node is
 * `up`; `etcdctl member list|remove` and `endpoint health`, `kubeadm init phase upload-certs`
 * and `kubeadm token create --print-join-command` answer as on a real control plane. The real
 * peer: test/testbed.test.ts's HA suite.
 */
import { caCertHash } from '../../src/cluster/pki/generate.ts';
import { PKI_FILES, type PkiMaterial } from '../../src/cluster/pki/types.ts';
import type { NodeShell } from '../../src/kube/etcd/shell.ts';
import type { Store } from '../../src/store/store.ts';
import type { FakeKube } from '../../src/kube/fake.ts';

export const FAKE_JOIN_TOKEN = 'abcdef.0123456789abcdef';
export const FAKE_CA_HASH = `sha256:${'1'.repeat(64)}`;

export function fakeEtcd(names: readonly string[]) {
  const members = names.map((n, i) => ({ id: `a${i}`, name: n, started: true }));
  /** Nodes whose shell (and local etcd member) answers. */
  const up = new Set(names);
  /** Every command run, as `node: argv` without flags. */
  const ran: string[] = [];
  const shell: NodeShell = {
    async exec(node, argv) {
      if (!up.has(node)) throw new Error(`${node}: no such process`);
      const cmd = argv.filter((a) => !a.startsWith('--') && a !== 'env' && a !== 'ETCDCTL_API=3');
      ran.push(`${node}: ${cmd.join(' ')}`);
      if (cmd[0] === 'etcdctl' && cmd[1] === 'endpoint') {
        if (!members.some((m) => m.name === node && m.started)) throw new Error('unhealthy');
        return '127.0.0.1:2379 is healthy';
      }
      if (cmd[0] === 'etcdctl' && cmd[1] === 'member' && cmd[2] === 'list')
        return members
          .map(
            (m) =>
              `${m.id}, ${m.started ? 'started' : 'unstarted'}, ${m.name}, https://x:2380, https://x:2379, false`,
          )
          .join('\n');
      if (cmd[0] === 'etcdctl' && cmd[2] === 'remove') {
        members.splice(
          members.findIndex((m) => m.id === cmd[3]),
          1,
        );
        return `Member ${cmd[3]} removed`;
      }
      if (cmd[0] === 'kubeadm' && cmd[1] === 'token')
        return `kubeadm join 10.0.0.100:6443 --token ${FAKE_JOIN_TOKEN}     --discovery-token-ca-cert-hash ${FAKE_CA_HASH} \n`;
      if (cmd[0] === 'kubeadm') return '';
      throw new Error(`unexpected ${cmd.join(' ')}`);
    },
    readFile: async () => Buffer.alloc(0),
    writeFile: async () => {},
  };
  return { members, up, ran, shell };
}

/**
 * A simulated region whose node commands go to `shell` (a fake stacked etcd): fast polls, short
 * leases (a takeover within a second), the simulated Kubernetes `kube` shared by every region
 * of the test.
 */
export function shellRegionOptions(dataDir: string, kube: FakeKube, shell: NodeShell) {
  return {
    dataDir,
    clusterLimits: { pollMs: 20 },
    leaseMs: 800,
    simulatedAgentDelayMs: 100,
    simulatedKube: kube,
    nodeShell: shell,
    restore: { shell: () => shell },
  };
}

/**
 * Where a dead region's hung node command waits (`buried`) until the test ends it (`bury`), so
 * that region's engine can stop; and whether a node is registered in the simulated Kubernetes.
 */
export function deadRegionHang(kube: FakeKube) {
  let bury: () => void = () => {};
  const buried = new Promise<void>((_, reject) => {
    bury = () => reject(new Error('the dead region buried'));
  });
  buried.catch(() => undefined);
  const registered = (node: string) => [...kube.nodes.values()].some((m) => m.has(node));
  return { bury, buried, registered };
}

/** The `sha256:` hash of the CA of the cluster the region created (what the join command prints). */
export async function createdCaHash(store: Store): Promise<string> {
  const job = (await store.listJobs({}, 200)).find((j) => typeof j.params.pkiSecret === 'string')!;
  const pki = JSON.parse(await store.getSecret(String(job.params.pkiSecret))) as PkiMaterial;
  return caCertHash(pki.files[PKI_FILES.ca]);
}
