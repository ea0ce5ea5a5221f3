/**
 * The target bundle of a bundle cluster's upgrade (docs/day2.md "Upgrade"): its nodes install
 * it from their rack before kubeadm runs (render/upgrade.ts, by its default name
 * `kubernetes-<target>-<arch>`, as their bootstrap did for the cluster's version).
 */
import { bundleNamePrefix } from '../../core/bundle.ts';
import { invalid } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';

/** Refuses (400 naming `version`) unless this region has a ready bundle of `target` the nodes can fetch. */
export async function checkTargetBundle(store: Pick<Store, 'listBundles'>, target: string): Promise<void> {
  const prefix = bundleNamePrefix(target);
  const ready = (await store.listBundles()).some(
    (b) => b.status === 'ready' && b.version === target && b.name?.startsWith(prefix),
  );
  if (!ready)
    throw invalid(
      'version',
      `no ready Kubernetes ${target} bundle on this region (the nodes install ${prefix}<arch> from their rack): add it first with \`ingot bundle add DIR\`, then upgrade`,
    );
}
