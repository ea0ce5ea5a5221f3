/**
 * The rack's default metadata source: a machine being deployed (or deployed) gets the
 * cloud-init user-data (`params.userData`, or sealed: `params.userDataSecret`) and SSH public keys (`params.sshKeys`, meta-data
 * `public-keys`) of its latest deploy; any other
 * machine gets the empty default. The deployed OS reaches it through the NoCloud seed the agent
 * wrote (`seedfrom: <rack>/metadata/<token>/`).
 */
import { type Machine, osTokenHonoured } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';
import type { MetadataSource } from '../metadata/documents.ts';

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
    async vendorData() {
      return null;
    },
    async publicKeys(machine) {
      const keys = (await deployParams(machine))?.sshKeys;
      return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
    },
  };
}
