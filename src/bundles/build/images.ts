/**
 * The bundle's container images, built offline with Debian's OCI tools: a root filesystem
 * directory becomes a one-layer OCI image (umoci: init, new, unpack, copy, repack, config),
 * written as a docker-archive tarball by skopeo (what `docker save` writes and
 * `ctr images import` takes). Before an image is written its program runs once in its own
 * root (`chroot ROOT PROGRAM --version`), which proves every library it loads is there.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Step } from './step.ts';

export interface ImageSpec {
  /** The root filesystem to put in the image. */
  readonly root: string;
  readonly refs: readonly string[];
  readonly entrypoint: string;
  readonly arch: string;
  /** `uid:gid`, when not root. */
  readonly user?: string;
  /** Seconds since the epoch: every file's time and the image's creation time (SOURCE_DATE_EPOCH). */
  readonly epoch?: number;
  /** Commands run in the root before the image is written: prove the image's programs run. */
  readonly checks?: readonly (readonly string[])[];
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Writes `spec` as a docker-archive at `out`, named by every ref. */
export async function writeImage(step: Step, spec: ImageSpec, out: string, work: string): Promise<void> {
  for (const c of spec.checks ?? []) await step.run('chroot', [spec.root, ...c]);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const layout = join(work, 'layout');
  const bundle = join(work, 'bundle');
  const img = `${layout}:img`;
  await step.run('umoci', ['init', '--layout', layout]);
  await step.run('umoci', ['new', '--image', img]);
  await step.run('umoci', ['unpack', '--image', img, bundle]);
  cpSync(spec.root, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  if (spec.epoch !== undefined)
    await step.run('find', [
      join(bundle, 'rootfs'),
      '-exec',
      'touch',
      '-h',
      '-d',
      `@${spec.epoch}`,
      '{}',
      '+',
    ]);
  await step.run('umoci', ['repack', '--no-history', '--image', img, bundle]);
  await step.run('umoci', [
    'config',
    '--no-history',
    '--image',
    img,
    '--architecture',
    spec.arch,
    '--os',
    'linux',
    '--config.env',
    PATH_ENV,
    '--config.entrypoint',
    spec.entrypoint,
    ...(spec.epoch !== undefined ? ['--created', new Date(spec.epoch * 1000).toISOString()] : []),
    ...(spec.user ? ['--config.user', spec.user] : []),
  ]);
  rmSync(out, { force: true });
  const [first, ...more] = spec.refs;
  await step.run('skopeo', [
    'copy',
    '--quiet',
    ...more.flatMap((r) => ['--additional-tag', r]),
    `oci:${img}`,
    `docker-archive:${out}:${first}`,
  ]);
  rmSync(work, { recursive: true, force: true });
}
