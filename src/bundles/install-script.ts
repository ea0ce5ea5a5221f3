/**
 * The install step a node runs to take Kubernetes from its rack with no internet: a POSIX sh
 * script rendered from a ready bundle, with every file's SHA-256 in it. It downloads each file
 * from `<rack>/bundles/<name>/<path>` with the machine's token (OS token, else boot token),
 * verifies it, installs the binaries into /usr/local/bin and the CNI plugins into
 * /opt/cni/bin, imports the images into containerd (`ctr -n k8s.io images import`, then tags
 * the aliases), checks containerd lists every image, writes the kubelet unit and its kubeadm
 * drop-in, and leaves a marker so that running it again is a no-op. A bundle with no crictl
 * gets Ingot's (src/bundles/crictl-shim.ts) unless the node has one. Pure: no I/O here.
 *
 * Environment (for tests and operators): INGOT_RACK_URL, INGOT_TOKEN (default: the token of
 * the deployed OS's cloud-init seed, /etc/cloud/cloud.cfg.d/95-ingot-agent.cfg), INGOT_ROOT
 * (install below this directory; default /), CONTAINERD_ADDRESS (read by ctr).
 */
import { BUNDLE_HTTP_PREFIX, type Bundle, type BundleManifest } from '../core/bundle.ts';
import { CRICTL_SHIM } from './crictl-shim.ts';
import { kubeadmDropIn, kubeletUnit } from './kubelet-units.ts';

/**
 * curl config lines asking for ChaCha20-Poly1305 first: the same lines as the agent's
 * `cipher_prefs` (src/agent/guest/lib/rack.sh; a test checks they agree).
 */
export const CHACHA_FIRST = [
  'tls13-ciphers = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"',
  'ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"',
] as const;

/** `uname -m` for each bundle architecture. */
const UNAME: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64' };

/** A word for sh: single-quoted unless it is plainly safe. */
function q(s: string): string {
  return /^[A-Za-z0-9._/:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The seed's `seedfrom: http://RACK/metadata/<token>/` holds the deployed OS's token. */
const SEED = '/etc/cloud/cloud.cfg.d/95-ingot-agent.cfg';

export interface InstallScriptOptions {
  /** The rack's boot HTTP URL the node downloads from (INGOT_RACK_URL overrides it). */
  readonly rackUrl: string;
}

export function renderBundleInstall(
  bundle: Pick<Bundle, 'name' | 'sha256'> & { manifest: BundleManifest },
  o: InstallScriptOptions,
): string {
  const m = bundle.manifest;
  const name = bundle.name ?? '';
  const rack = o.rackUrl.replace(/\/+$/, '');
  const lines: string[] = [
    '#!/bin/sh',
    `# Rendered by Ingot: installs Kubernetes ${m.version} (${m.arch}) from bundle ${name}, downloaded from the`,
    "# rack with this machine's token; no internet needed. Running it again after success does nothing.",
    'set -eu',
    `RACK="\${INGOT_RACK_URL:-${rack}}"`,
    `BUNDLE=${q(name)}`,
    `ROOT="\${INGOT_ROOT:-}"`,
    `MARK="$ROOT/var/lib/ingot/bundles/${(bundle.sha256 ?? '').slice(0, 16)}"`,
    'say() { echo "ingot-bundle: $*"; }',
    'die() { echo "ingot-bundle: $*" >&2; exit 1; }',
    `[ ! -e "$MARK" ] || { say "Kubernetes ${m.version} from bundle $BUNDLE is already installed"; exit 0; }`,
    `case "$(uname -m)" in ${UNAME[m.arch] ?? m.arch}) ;; *) die "this bundle is for ${m.arch} machines; this one is $(uname -m)" ;; esac`,
    `TOKEN="\${INGOT_TOKEN:-}"`,
    `if [ -z "$TOKEN" ] && [ -r ${SEED} ]; then`,
    `  TOKEN=$(sed -n 's#^ *seedfrom: *[^ ]*/metadata/\\([A-Za-z0-9_-]*\\)/ *$#\\1#p' ${SEED} | head -n 1)`,
    'fi',
    '[ -n "$TOKEN" ] || die "no token: set INGOT_TOKEN to this machine\'s OS (or boot) token"',
    'for tool in curl sha256sum install ctr; do command -v "$tool" >/dev/null || die "$tool is missing"; done',
    `WORK=$(mktemp -d "\${TMPDIR:-/var/tmp}/ingot-bundle.XXXXXX")`,
    'trap \'rm -rf "$WORK"\' EXIT',
    '# The token goes in a header file (printf is a builtin): never on a command line.',
    '(umask 077 && printf \'X-Ingot-Token: %s\\n\' "$TOKEN" >"$WORK/header")',
    '# A CPU without AES instructions (QEMU TCG, some low-power boards) asks for ChaCha20-Poly1305',
    '# first, as the agent does (cipher_prefs in its lib/rack.sh): AES-256-GCM ran at 1.3 MB/s there.',
    ': >"$WORK/tls.curl"',
    `if ! grep -qw aes "\${INGOT_CPUINFO:-/proc/cpuinfo}" 2>/dev/null; then`,
    ...CHACHA_FIRST.map((l) => `  echo ${q(l)} >>"$WORK/tls.curl"`),
    'fi',
    '# fetch PATH SHA256 NAME: downloads to $WORK/NAME (resuming with Range on retries) and verifies it.',
    'fetch() {',
    '  rm -f "$WORK/$3"',
    '  n=0',
    `  until curl -K "$WORK/tls.curl" -fsS --connect-timeout 10 -H @"$WORK/header" -C - -o "$WORK/$3" "$RACK${BUNDLE_HTTP_PREFIX}$BUNDLE/$1"; do`,
    '    n=$((n + 1))',
    '    [ "$n" -lt 5 ] || die "cannot download $1 from $RACK"',
    '    sleep 2',
    '  done',
    '  echo "$2  $WORK/$3" | sha256sum -c --status || die "$1: checksum mismatch (expected $2); nothing was installed from it"',
    '}',
    '# fetch_all LIST: every "PATH SHA256 NAME" line of $WORK/LIST over one connection, then each verified',
    '# (a TLS handshake per small file is most of its time on a slow CPU).',
    'fetch_all() {',
    '  : >"$WORK/$1.curl"',
    '  while read -r p s f; do',
    `    printf 'url = "%s"\\noutput = "%s"\\n' "$RACK${BUNDLE_HTTP_PREFIX}$BUNDLE/$p" "$WORK/$f" >>"$WORK/$1.curl"`,
    '  done <"$WORK/$1"',
    '  curl -K "$WORK/tls.curl" -fsS --connect-timeout 10 --retry 4 --retry-delay 2 --retry-all-errors -H @"$WORK/header" -K "$WORK/$1.curl" ||',
    '    die "cannot download the bundle\'s files from $RACK"',
    '  while read -r p s f; do',
    '    echo "$s  $WORK/$f" | sha256sum -c --status || die "$p: checksum mismatch (expected $s); nothing was installed from it"',
    '  done <"$WORK/$1"',
    '}',
    'mkdir -p "$ROOT/usr/local/bin" "$ROOT/opt/cni/bin" "$ROOT/etc/systemd/system/kubelet.service.d"',
  ];
  // Binaries and CNI plugins: one download, verified, then installed.
  const small = [
    ...m.binaries.map((b, i) => ({
      path: b.path,
      sha256: b.sha256,
      file: `b${i}`,
      to: `/usr/local/bin/${b.name}`,
    })),
    ...m.cniPlugins.map((c, i) => ({
      path: c.path,
      sha256: c.sha256,
      file: `c${i}`,
      to: `/opt/cni/bin/${c.name}`,
    })),
  ];
  if (small.length)
    lines.push(
      `say "downloading ${m.binaries.map((b) => b.name).join(', ')} and ${m.cniPlugins.length} CNI plugins"`,
      `cat >"$WORK/small" <<'FILES'`,
      ...small.map((f) => `${f.path} ${f.sha256} ${f.file}`),
      'FILES',
      'fetch_all small',
      ...small.map((f) => `install -m 0755 "$WORK/${f.file}" "$ROOT${f.to}"`),
    );
  if (!m.binaries.some((b) => b.name === 'crictl'))
    lines.push(
      "# kubeadm needs a crictl; this bundle has none: the node keeps its own, else gets Ingot's.",
      'if [ ! -x "$ROOT/usr/local/bin/crictl" ] && { [ -n "$ROOT" ] || ! command -v crictl >/dev/null; }; then',
      '  say "no crictl in the bundle or on the node: installing Ingot\'s crictl for kubeadm (src/bundles/crictl-shim.ts)"',
      `  cat >"$ROOT/usr/local/bin/crictl" <<'CRICTL'`,
      CRICTL_SHIM.trimEnd(),
      'CRICTL',
      '  chmod 0755 "$ROOT/usr/local/bin/crictl"',
      'fi',
    );
  // Images: the next one downloads (in the background) while containerd imports this one.
  const archives = [...new Map(m.images.map((im) => [im.path, im])).values()];
  archives.forEach((im, i) => {
    if (i === 0) lines.push(`fetch ${q(im.path)} ${im.sha256} i0`);
    const next = archives[i + 1];
    if (next) lines.push(`fetch ${q(next.path)} ${next.sha256} i${i + 1} & NEXT=$!`);
    lines.push(
      `say "importing ${im.path} into containerd"`,
      `ctr -n k8s.io images import "$WORK/i${i}" >/dev/null || die "containerd could not import ${im.path}"`,
      `rm -f "$WORK/i${i}"`,
    );
    if (next) lines.push('wait "$NEXT" || exit 1');
  });
  for (const im of m.images)
    for (const al of im.aliases)
      lines.push(`ctr -n k8s.io images tag --force ${q(im.refs[0])} ${q(al)} >/dev/null`);
  const names = m.images.flatMap((im) => [...im.refs, ...im.aliases]);
  if (names.length)
    lines.push(
      'ctr -n k8s.io images ls -q >"$WORK/images"',
      `for ref in ${names.map(q).join(' ')}; do`,
      '  grep -qxF "$ref" "$WORK/images" || die "containerd does not list $ref after the import"',
      'done',
    );
  lines.push(
    '# kubelet as kubeadm expects it: the unit and its drop-in (kubeadm writes the flags file).',
    `cat >"$ROOT/etc/systemd/system/kubelet.service" <<'UNIT'`,
    kubeletUnit('/usr/local/bin/kubelet').trimEnd(),
    'UNIT',
    `cat >"$ROOT/etc/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'UNIT'`,
    kubeadmDropIn('/usr/local/bin/kubelet').trimEnd(),
    'UNIT',
    'if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi',
    'mkdir -p "$(dirname "$MARK")" && touch "$MARK"',
    `say "installed Kubernetes ${m.version}: ${m.binaries.map((b) => b.name).join(', ')}; ${m.images.length} images; ${m.cniPlugins.length} CNI plugins"`,
    '',
  );
  return lines.join('\n');
}
