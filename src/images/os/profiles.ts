/** The recipe for a distro and profile (`ingot image build os --distro D --profile P`). */
import { kubernetesNodeRecipe } from './kubernetes-node.ts';
import { DEBIAN_12, type OsProfile, type OsRecipe } from './recipe.ts';

export function recipeFor(distro: string, profile: OsProfile = 'standard'): OsRecipe {
  if (distro !== 'debian-12') throw new Error(`unknown distro ${distro}`);
  return profile === 'kubernetes-node' ? kubernetesNodeRecipe(DEBIAN_12) : DEBIAN_12;
}
