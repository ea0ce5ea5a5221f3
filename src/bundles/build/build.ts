/**
 * Builds the Kubernetes bundle of a recipe into the per-machine cache
 * `<cache>/bundles/kubernetes/<version>-<recipe hash>/`, in the official release layout that
 * `ingot bundle add` accepts (docs/bundles.md), plus Debian-built pause and etcd images and
 * Debian's CNI plugins:
 *
 *   kubernetes/server/bin/{kubeadm,kubelet,kubectl,kube-apiserver,…}
 *   kubernetes/server/bin/{kube-apiserver,…,kube-proxy}.tar + .docker_tag
 *   kubernetes/version
 *   images/pause.tar, images/etcd.tar
 *   cni/bin/<plugin>
 *   ingot-build.json       the recipe, Debian versions used, every file's size and SHA-256
 *
 * Idempotent: a complete directory (every file of ingot-build.json there, with its size) is
 * reused at once; anything else is built in a staging directory and renamed into place, so a
 * directory under the final name is always complete. One build per recipe at a time (a lock
 * directory holding the builder's PID). The compile's work directory survives a failed build,
 * so a retry does not compile again.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { copyFile, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerTagOf } from '../../core/bundle.ts';
import { PrivateApt } from './apt.ts';
import { compileKubernetes } from './compile.ts';
import { writeImage } from './images.ts';
import { bundleDirName, compileHash, type Recipe, recipeHash } from './recipe.ts';
import { Step } from './step.ts';

export const BUILD_FILE = 'ingot-build.json';

export interface BuildRecord {
  readonly recipe: Recipe;
  readonly hash: string;
  readonly debianVersions: Record<string, string>;
  readonly seconds: number;
  readonly builtAt: string;
  readonly files: readonly { path: string; size: number; sha256: string }[];
}

export interface BuildResult {
  readonly dir: string;
  readonly reused: boolean;
  readonly record: BuildRecord;
}

const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

/** The bundles' directory under a cache root. */
export function kubernetesCacheDir(cache: string): string {
  return join(cache, 'bundles', 'kubernetes');
}

/** The build record of a complete bundle directory, or null when it is missing or partial. */
export function completeBundle(dir: string): BuildRecord | null {
  let record: BuildRecord;
  try {
    record = JSON.parse(readFileSync(join(dir, BUILD_FILE), 'utf8')) as BuildRecord;
  } catch {
    return null;
  }
  if (!Array.isArray(record.files) || record.files.length === 0) return null;
  for (const f of record.files) {
    try {
      if (statSync(join(dir, f.path)).size !== f.size) return null;
    } catch {
      return null;
    }
  }
  return record;
}

export async function buildKubernetesBundle(
  r: Recipe,
  o: { cache: string; say?: (line: string) => void; produce?: Produce },
): Promise<BuildResult> {
  const say = o.say ?? (() => {});
  const base = kubernetesCacheDir(o.cache);
  const name = bundleDirName(r);
  const final = join(base, name);
  const found = completeBundle(final);
  if (found) return { dir: final, reused: true, record: found };
  mkdirSync(base, { recursive: true });
  const unlock = lock(join(base, `.lock-${name}`));
  try {
    const again = completeBundle(final);
    if (again) return { dir: final, reused: true, record: again };
    if (existsSync(final)) {
      say(`${final} is partial: building it again`);
      rmSync(final, { recursive: true, force: true });
    }
    const started = Date.now();
    const step = new Step(join(base, `${name}.log`));
    step.note(`# build of ${name} started ${new Date().toISOString()}`);
    const stage = join(base, `.stage-${name}`);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    const debianVersions = await (o.produce ?? produceKubernetes)(r, {
      base,
      cache: o.cache,
      stage,
      step,
      say,
    });
    const record: BuildRecord = {
      recipe: r,
      hash: recipeHash(r),
      debianVersions,
      seconds: Math.round((Date.now() - started) / 1000),
      builtAt: new Date().toISOString(),
      files: await listFiles(stage),
    };
    writeFileSync(join(stage, BUILD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    renameSync(stage, final);
    step.note(`# done in ${record.seconds} s`);
    return { dir: final, reused: false, record };
  } finally {
    unlock();
  }
}

/** Where a build writes: the bundle's staging directory, the log, progress lines. */
export interface ProduceContext {
  readonly base: string;
  readonly cache: string;
  readonly stage: string;
  readonly step: Step;
  readonly say: (line: string) => void;
}

/** Writes the bundle's files into `c.stage`; returns the Debian package versions used. */
export type Produce = (r: Recipe, c: ProduceContext) => Promise<Record<string, string>>;

/** The real build: packages, compile, images, CNI plugins (see the file's comment). */
export const produceKubernetes: Produce = async (r, c) => {
  const { base, stage, step, say } = c;
  const apt = new PrivateApt(join(c.cache, 'apt'), step);
  say('apt: updating the private lists');
  await apt.update([r.source.suite, r.go.suite, r.debs.suite]);
  const work = join(base, `.work-${compileHash(r)}`);
  mkdirSync(work, { recursive: true });
  say(`compiling ${r.version} (niced; the log is ${step.log})`);
  const bins = await compileKubernetes(r, apt, step, work);
  const serverBin = join(stage, 'kubernetes', 'server', 'bin');
  mkdirSync(serverBin, { recursive: true });
  for (const t of r.targets) {
    const b = t.split('/').pop()!;
    await copyFile(join(bins, b), join(serverBin, b));
  }
  writeFileSync(join(stage, 'kubernetes', 'version'), `${r.version}\n`);

  say('images: pause, control plane, kube-proxy, etcd');
  const roots = join(work, 'roots');
  rmSync(roots, { recursive: true, force: true });
  const debs = join(work, 'debs');
  const deb = await apt.candidates([...new Set([...r.debs.etcd, ...r.debs.kubeProxy, ...r.debs.cni])]);
  const pick = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, deb[n]]));
  const tag = dockerTagOf(r.version);
  const reg = r.images.registry;
  const umociWork = join(work, 'umoci');

  const pauseRoot = join(roots, 'pause');
  mkdirSync(pauseRoot, { recursive: true });
  await step.run('gcc', [
    '-Os',
    '-Wall',
    '-Werror',
    '-static',
    `-DVERSION=v${r.images.pauseTag}-ingot`,
    '-o',
    join(pauseRoot, 'pause'),
    join(work, 'src', 'build', 'pause', 'linux', 'pause.c'),
  ]);
  await step.run('strip', [join(pauseRoot, 'pause')]);
  mkdirSync(join(stage, 'images'), { recursive: true });
  await writeImage(
    step,
    {
      root: pauseRoot,
      refs: [`${reg}/pause:${r.images.pauseTag}`],
      entrypoint: '/pause',
      user: '65535:65535',
      arch: r.arch,
      epoch: r.git.epoch,
      checks: [['/pause', '-v']],
    },
    join(stage, 'images', 'pause.tar'),
    umociWork,
  );

  for (const c of CONTROL_PLANE) {
    const root = join(roots, c);
    mkdirSync(join(root, 'usr', 'local', 'bin'), { recursive: true });
    await copyFile(join(bins, c), join(root, 'usr', 'local', 'bin', c));
    await writeImage(
      step,
      {
        root,
        refs: [`${reg}/${c}-${r.arch}:${tag}`],
        entrypoint: `/usr/local/bin/${c}`,
        arch: r.arch,
        epoch: r.git.epoch,
        checks: [[`/usr/local/bin/${c}`, '--version']],
      },
      join(serverBin, `${c}.tar`),
      umociWork,
    );
    writeFileSync(join(serverBin, `${c}.docker_tag`), `${tag}\n`);
  }

  const proxyRoot = join(roots, 'kube-proxy');
  await apt.extract(pick(r.debs.kubeProxy), debs, proxyRoot);
  // Debian picks iptables' backend with update-alternatives; the image takes nft, as Debian 12 does.
  for (const t of [
    'iptables',
    'iptables-save',
    'iptables-restore',
    'ip6tables',
    'ip6tables-save',
    'ip6tables-restore',
  ]) {
    rmSync(join(proxyRoot, 'usr', 'sbin', t), { force: true });
    await symlink('xtables-nft-multi', join(proxyRoot, 'usr', 'sbin', t));
  }
  mkdirSync(join(proxyRoot, 'usr', 'local', 'bin'), { recursive: true });
  await copyFile(join(bins, 'kube-proxy'), join(proxyRoot, 'usr', 'local', 'bin', 'kube-proxy'));
  trimDocs(proxyRoot);
  await writeImage(
    step,
    {
      root: proxyRoot,
      refs: [`${reg}/kube-proxy-${r.arch}:${tag}`],
      entrypoint: '/usr/local/bin/kube-proxy',
      arch: r.arch,
      epoch: r.git.epoch,
      checks: [
        ['/usr/local/bin/kube-proxy', '--version'],
        ['/usr/sbin/iptables', '--version'],
        ['/usr/sbin/ip6tables-restore', '--version'],
        ['/usr/sbin/conntrack', '--version'],
      ],
    },
    join(serverBin, 'kube-proxy.tar'),
    umociWork,
  );
  writeFileSync(join(serverBin, 'kube-proxy.docker_tag'), `${tag}\n`);

  const etcdRoot = join(roots, 'etcd');
  await apt.extract(pick(r.debs.etcd), debs, etcdRoot);
  trimDocs(etcdRoot);
  await writeImage(
    step,
    {
      root: etcdRoot,
      refs: r.images.etcdTags.map((t) => `${reg}/etcd:${t}`),
      entrypoint: '/usr/bin/etcd',
      arch: r.arch,
      epoch: r.git.epoch,
      checks: [['/usr/bin/etcd', '--version']],
    },
    join(stage, 'images', 'etcd.tar'),
    umociWork,
  );

  say('CNI plugins');
  const cniRoot = join(roots, 'cni');
  await apt.extract(pick(r.debs.cni), debs, cniRoot);
  mkdirSync(join(stage, 'cni', 'bin'), { recursive: true });
  for (const p of await readdir(join(cniRoot, 'usr', 'lib', 'cni')))
    await copyFile(join(cniRoot, 'usr', 'lib', 'cni', p), join(stage, 'cni', 'bin', p));

  rmSync(work, { recursive: true, force: true });
  return { [r.source.package]: r.source.version, ...pick(r.go.packages), ...deb };
};

/** Documentation and manual pages have no place in an image. */
function trimDocs(root: string): void {
  for (const d of ['usr/share/doc', 'usr/share/man', 'usr/share/lintian', 'usr/share/locale'])
    rmSync(join(root, d), { recursive: true, force: true });
}

async function listFiles(root: string, rel = ''): Promise<{ path: string; size: number; sha256: string }[]> {
  const out: { path: string; size: number; sha256: string }[] = [];
  for (const e of (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (e.isFile())
      out.push({ path: p, size: statSync(join(root, p)).size, sha256: await sha256(join(root, p)) });
  }
  return out;
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Takes `dir` as a lock (mkdir is atomic); a lock whose PID is gone is taken over. */
function lock(dir: string): () => void {
  for (let i = 0; i < 2; i++) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = 0;
      try {
        pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
      } catch {
        // taken by a builder that died before writing its PID
      }
      if (pid && pid !== process.pid && existsSync(`/proc/${pid}`))
        throw new Error(`another build (PID ${pid}) holds ${dir}: wait for it`);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`could not take ${dir}`);
}
