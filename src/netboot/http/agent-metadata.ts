/**
 * The rack's default metadata source: a machine being deployed (or deployed) gets the
 * cloud-init user-data (`params.userData`, or sealed: `params.userDataSecret`) and SSH public keys (`params.sshKeys`, meta-data
 * `public-keys`) of its latest deploy, and Ingot's vendor-data (DEPLOY_VENDOR_DATA); any other
 * machine gets the empty default. The deployed OS reaches it through the NoCloud seed the agent
 * wrote (`seedfrom: <rack>/metadata/<token>/`).
 */
import { type Machine, osTokenHonoured } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';
import type { MetadataSource } from '../metadata/documents.ts';

/**
 * A deployed machine's vendor-data (its deploy's user-data overrides any key of it): SSH host
 * keys of two types only, ed25519 and ECDSA, which every OpenSSH since 6.5 (2014) offers first.
 * cloud-init's default adds RSA 3072, whose generation took 35 s of a lab VM's first boot under
 * QEMU TCG (2 vCPUs, 2026-12-03), and DSA, which OpenSSH refuses since 7.0.
 */
export const DEPLOY_VENDOR_DATA = [
  '#cloud-config',
  "# Ingot's defaults for a deployed machine; the deploy's user-data overrides any of them.",
  'ssh_genkeytypes: [ed25519, ecdsa]',
  '',
].join('\n');

export function deployMetadataSource(store: Store): MetadataSource {
  /** The params of the machine's latest deploy, while it is (being) deployed. */
  const deployParams = async (machine: Machine): Promise<Record<string, unknown> | null> => {
    if (!osTokenHonoured(machine)) return null;
    const jobs = await store.listJobs({ machineId: machine.id }, 20);
    return jobs.find((j) => j.kind === 'deploy')?.params ?? null;
  };
  return {
    async userData(machine) {
      const params = await deployParams(machine);
      // A cluster node's user-data holds keys: the job keeps it sealed (src/engine/actions.ts).
      if (typeof params?.userDataSecret === 'string')
        return store.getSecret(params.userDataSecret).catch(() => null);
      const ud = params?.userData;
      return typeof ud === 'string' ? ud : null;
    },
    async vendorData(machine) {
      return (await deployParams(machine)) ? DEPLOY_VENDOR_DATA : null;
    },
    async publicKeys(machine) {
      const keys = (await deployParams(machine))?.sshKeys;
      return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
    },
  };
}
