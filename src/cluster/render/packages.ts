/**
 * Where a kubeadm node gets kubeadm, kubelet and kubectl (`spec.packages.source`):
 * - `preinstalled`: the OS image has them; the bootstrap only checks the version.
 * - `bundle`: from a Kubernetes bundle its rack serves (docs/bundles.md), with no internet:
 *   `/usr/local/sbin/ingot-install-bundle` finds the rack and the machine's token in the
 *   deployed OS's cloud-init seed, fetches the bundle's install step from the rack and runs it
 *   (binaries, CNI plugins, images into containerd; every file checked against its SHA-256).
 * - `upstream`: from pkgs.k8s.io with apt (deb822 source, the project's signing key checked
 *   against its pinned fingerprint before apt trusts it), pinned to the version and held.
 * The steps run in the bootstrap after containerd (re)starts, before the version check.
 */
import { BUNDLE_HTTP_PREFIX, BUNDLE_INSTALL_SCRIPT, bundleNamePrefix } from '../../core/bundle.ts';
import type { NodeFile, RenderContext } from './context.ts';

export const BUNDLE_INSTALLER_PATH = '/usr/local/sbin/ingot-install-bundle';
export const KUBERNETES_APT_SOURCE = '/etc/apt/sources.list.d/kubernetes.sources';
const KEYRING = '/etc/apt/keyrings/kubernetes-apt-keyring.gpg';
/** The signing key of pkgs.k8s.io (isv:kubernetes OBS Project); its expiry is extended, the fingerprint stays. */
export const KUBERNETES_APT_KEY_FINGERPRINT = 'DE15B14486CD377B9E876E1A234654DA9A296436';
const SEED = '/etc/cloud/cloud.cfg.d/95-ingot-agent.cfg';

/** `https://pkgs.k8s.io/core:/stable:/v1.34/deb/`: one repository per minor. */
export function upstreamRepo(ctx: RenderContext): string {
  return `https://pkgs.k8s.io/core:/stable:/v1.${ctx.minor}/deb/`;
}

function bundleInstaller(ctx: RenderContext): string {
  const p = ctx.spec.spec.packages;
  const name = p.bundle ?? `${bundleNamePrefix(ctx.spec.spec.version)}$(dpkg --print-architecture)`;
  return `#!/bin/sh
# Rendered by Ingot: installs Kubernetes ${ctx.spec.spec.version} from the bundle the rack serves
# (no internet). The rack and this machine's token come from the deployed OS's cloud-init seed,
# INGOT_RACK_URL / INGOT_TOKEN override them. The rack renders the install step (${BUNDLE_INSTALL_SCRIPT}).
set -eu
SEED="\${INGOT_SEED:-${SEED}}"
from_seed() {
  [ -r "$SEED" ] || return 0
  sed -n "s#^ *seedfrom: *\\(http[^ ]*\\)/metadata/\\([A-Za-z0-9_-]*\\)/ *\\$#\\\\$1#p" "$SEED" | head -n 1
}
RACK="\${INGOT_RACK_URL:-$(from_seed 1)}"
TOKEN="\${INGOT_TOKEN:-$(from_seed 2)}"
[ -n "$RACK" ] && [ -n "$TOKEN" ] || { echo "ingot-install-bundle: no rack URL or token (no $SEED); set INGOT_RACK_URL and INGOT_TOKEN" >&2; exit 1; }
BUNDLE="\${1:-${name}}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(umask 077 && printf 'X-Ingot-Token: %s\\n' "$TOKEN" >"$WORK/header")
curl -fsS --retry 5 --retry-connrefused -H @"$WORK/header" -o "$WORK/install.sh" "$RACK${BUNDLE_HTTP_PREFIX}$BUNDLE/${BUNDLE_INSTALL_SCRIPT}"
INGOT_RACK_URL="$RACK" INGOT_TOKEN="$TOKEN" sh "$WORK/install.sh"
`;
}

function aptSource(ctx: RenderContext): string {
  return ['Types: deb', `URIs: ${upstreamRepo(ctx)}`, 'Suites: /', `Signed-By: ${KEYRING}`, ''].join('\n');
}

/** Files the chosen source needs on the node. */
export function packageFiles(ctx: RenderContext): NodeFile[] {
  const source = ctx.spec.spec.packages.source;
  if (ctx.spec.spec.distribution !== 'kubeadm') return [];
  if (source === 'bundle')
    return [{ path: BUNDLE_INSTALLER_PATH, content: bundleInstaller(ctx), mode: 0o755 }];
  if (source === 'upstream') return [{ path: KUBERNETES_APT_SOURCE, content: aptSource(ctx), mode: 0o644 }];
  return [];
}

/** Bootstrap lines that install kubeadm, kubelet and kubectl (none when preinstalled). */
export function packageSteps(ctx: RenderContext): string[] {
  const source = ctx.spec.spec.packages.source;
  if (source === 'bundle') return [BUNDLE_INSTALLER_PATH];
  if (source !== 'upstream') return [];
  const v = ctx.spec.spec.version.replace(/^v/, '');
  const key = '/run/ingot-kubernetes-release.key';
  return [
    'export DEBIAN_FRONTEND=noninteractive',
    'command -v gpg >/dev/null || { apt-get update && apt-get install -y --no-install-recommends gpg; }',
    `install -d -m 0755 ${KEYRING.slice(0, KEYRING.lastIndexOf('/'))}`,
    `curl -fsSL --retry 5 ${upstreamRepo(ctx)}Release.key -o ${key}`,
    // apt trusts the key only if it is the project's: checked against the pinned fingerprint.
    `test "$(gpg --show-keys --with-colons ${key} | awk -F: '$1 == "fpr" { print $10; exit }')" = ${KUBERNETES_APT_KEY_FINGERPRINT} || { echo "the key at ${upstreamRepo(ctx)}Release.key is not the Kubernetes package key ${KUBERNETES_APT_KEY_FINGERPRINT}" >&2; exit 1; }`,
    `gpg --batch --yes --dearmor -o ${KEYRING} ${key}`,
    'apt-get update',
    `apt-get install -y kubelet=${v}-* kubeadm=${v}-* kubectl=${v}-*`,
    'apt-mark hold kubelet kubeadm kubectl',
  ];
}
