/**
 * Test helpers (never imported by production code): small but real bundles. Images are made
 * with Debian's umoci (an OCI layout with one layer) and written as docker or OCI archives by
 * skopeo, exactly as `skopeo copy` writes them; binaries are tiny ELF files that carry a
 * version string the way Kubernetes' linker flags embed it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const MACHINE: Record<string, number> = { amd64: 62, arm64: 183, s390x: 22 };

/** A 64-bit little-endian ELF header for `arch`, then `text` (e.g. a gitVersion) and padding. */
export function tinyElf(arch: string, text = ''): Buffer {
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0x7f454c46, 0);
  h[4] = 2; // ELFCLASS64
  h[5] = 1; // little-endian
  h[6] = 1; // EV_CURRENT
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(MACHINE[arch] ?? 0, 18);
  h.writeUInt32LE(1, 20);
  return Buffer.concat([h, Buffer.from(`\0gitVersion\0${text}\0`), Buffer.alloc(256, 0x90)]);
}

export interface ImageSpec {
  readonly ref: string;
  readonly arch?: string;
  readonly format?: 'docker-archive' | 'oci-archive';
  /** A file put into the image, so each image has its own layer. */
  readonly content?: string;
}

/** Writes an image archive to `out` with umoci + skopeo. */
export function makeImageArchive(out: string, spec: ImageSpec): void {
  const work = mkdtempSync(join(tmpdir(), 'ingot-img-'));
  try {
    const layout = join(work, 'layout');
    const bundle = join(work, 'bundle');
    const run = (cmd: string, args: string[]) =>
      execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    run('umoci', ['init', '--layout', layout]);
    run('umoci', ['new', '--image', `${layout}:t`]);
    run('umoci', ['unpack', '--rootless', '--image', `${layout}:t`, bundle]);
    mkdirSync(join(bundle, 'rootfs', 'etc'), { recursive: true });
    writeFileSync(join(bundle, 'rootfs', 'etc', 'image'), `${spec.content ?? spec.ref}\n`);
    run('umoci', ['repack', '--image', `${layout}:t`, bundle]);
    run('umoci', [
      'config',
      '--image',
      `${layout}:t`,
      '--architecture',
      spec.arch ?? 'amd64',
      '--os',
      'linux',
    ]);
    mkdirSync(dirname(out), { recursive: true });
    rmSync(out, { force: true });
    run('skopeo', [
      'copy',
      '--quiet',
      `oci:${layout}:t`,
      `${spec.format ?? 'docker-archive'}:${out}:${spec.ref}`,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface UpstreamTreeOptions {
  readonly version?: string;
  readonly arch?: string;
  /** Overrides per binary name: another arch, another version string, or omitted. */
  readonly binaries?: Record<string, { arch?: string; version?: string } | null>;
  /** Registry of the control-plane images (upstream: k8s.gcr.io for 1.20). */
  readonly registry?: string;
  /** Extra images beside the release tree (pause, etcd), in `images/`. */
  readonly extras?: readonly (ImageSpec & { file: string })[];
  /** CNI plugin names to put in `cni/bin/`. */
  readonly cni?: readonly string[];
  readonly imageArch?: string;
}

/**
 * Writes the official release layout under `root`: kubernetes/server/bin/<binary>, and for
 * kube-apiserver, -controller-manager, -scheduler and -proxy a docker-archive `<name>.tar`
 * and `<name>.docker_tag` (as build/lib/release.sh does), plus extras beside it.
 */
export function writeUpstreamTree(root: string, o: UpstreamTreeOptions = {}): void {
  const version = o.version ?? 'v1.20.2';
  const arch = o.arch ?? 'amd64';
  const bin = join(root, 'kubernetes', 'server', 'bin');
  mkdirSync(bin, { recursive: true });
  const names = [
    'kubeadm',
    'kubelet',
    'kubectl',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kube-proxy',
  ];
  for (const n of names) {
    const over = o.binaries?.[n];
    if (over === null) continue;
    writeFileSync(join(bin, n), tinyElf(over?.arch ?? arch, over?.version ?? version), { mode: 0o755 });
  }
  for (const n of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
    makeImageArchive(join(bin, `${n}.tar`), {
      ref: `${o.registry ?? 'k8s.gcr.io'}/${n}:${version.replace(/\+/g, '_')}`,
      arch: o.imageArch ?? arch,
    });
    writeFileSync(join(bin, `${n}.docker_tag`), `${version.replace(/\+/g, '_')}\n`);
  }
  for (const e of o.extras ?? [])
    makeImageArchive(join(root, 'images', e.file), { arch: o.imageArch ?? arch, ...e });
  for (const c of o.cni ?? []) {
    mkdirSync(join(root, 'cni', 'bin'), { recursive: true });
    writeFileSync(join(root, 'cni', 'bin', c), tinyElf(arch, c), { mode: 0o755 });
  }
  mkdirSync(join(root, 'kubernetes', 'addons'), { recursive: true });
  writeFileSync(join(root, 'kubernetes', 'LICENSES'), 'Apache-2.0\n');
}

/** `tar -czf out -C root .`: a bundle tarball as an operator would make one. */
export function tarGz(root: string, out: string, members = ['.']): void {
  execFileSync('tar', ['-czf', out, '-C', root, ...members]);
}
