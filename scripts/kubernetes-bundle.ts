/**
 * Builds (or finds cached) the Kubernetes 1.20.2 bundle from Debian's source package
 * (docs/kubernetes.md): `node scripts/kubernetes-bundle.ts [--cache DIR]` (root; default cache
 * `/var/cache/ingot`, or INGOT_CACHE). Prints the bundle's directory on stdout, progress and
 * the elapsed seconds on stderr. `ingot bundle add DIR` takes that directory.
 */
import { parseArgs } from 'node:util';
import { buildKubernetesBundle } from '../src/bundles/build/build.ts';
import { KUBERNETES_1_20 } from '../src/bundles/build/recipe.ts';

if (import.meta.main) {
  const { values } = parseArgs({ options: { cache: { type: 'string' } } });
  const cache = values.cache ?? process.env.INGOT_CACHE ?? '/var/cache/ingot';
  const started = Date.now();
  const say = (l: string) => process.stderr.write(`kubernetes-bundle: ${l}\n`);
  try {
    const r = await buildKubernetesBundle(KUBERNETES_1_20, { cache, say });
    say(`${r.reused ? 'reused' : 'built'} ${r.dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(`${r.dir}\n`);
  } catch (e) {
    say(`failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${(e as Error).message}`);
    process.exit(1);
  }
}
