/**
 * Compiling Kubernetes from Debian's source package with bullseye's Go 1.15: upstream's own
 * `make WHAT=…` (it runs the code generators first), no source changes, offline
 * (GOPROXY=off: everything is in vendor/). The version the binaries report comes from a
 * version file (the tree has no .git).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrivateApt } from './apt.ts';
import type { Recipe } from './recipe.ts';
import type { Step } from './step.ts';

/** Fetches the source and Go into `work`, builds, and returns the directory of the binaries. */
export async function compileKubernetes(
  r: Recipe,
  apt: PrivateApt,
  step: Step,
  work: string,
): Promise<string> {
  const out = join(work, 'src', '_output', 'local', 'bin', 'linux', r.arch);
  const done = join(work, 'binaries.done');
  if (existsSync(done)) return out;
  const orig = await apt.source(r.source.package, r.source.version, join(work, 'dl'));
  const src = join(work, 'src');
  mkdirSync(src, { recursive: true });
  await step.run('tar', ['-xf', orig, '-C', src, '--strip-components=1']);
  const goRoot = join(work, 'go');
  await apt.extract(
    Object.fromEntries(r.go.packages.map((p) => [p, r.go.version])),
    join(work, 'dl'),
    goRoot,
  );
  const goroot = join(goRoot, r.go.root);
  const versionFile = join(work, 'version.env');
  const [major, minorK] = r.version.slice(1).split('.');
  writeFileSync(
    versionFile,
    [
      `KUBE_GIT_COMMIT='${r.git.commit}'`,
      "KUBE_GIT_TREE_STATE='archive'",
      `KUBE_GIT_VERSION='${r.version}'`,
      `KUBE_GIT_MAJOR='${major}'`,
      `KUBE_GIT_MINOR='${minorK}'`,
      '',
    ].join('\n'),
  );
  await step.run('make', [`WHAT=${r.targets.join(' ')}`, 'GOLDFLAGS=-s -w -buildid='], {
    cwd: src,
    nice: true,
    env: {
      PATH: `${join(goroot, 'bin')}:${process.env.PATH}`,
      GOROOT: goroot,
      GOPATH: join(work, 'gopath'),
      GOCACHE: join(work, 'gocache'),
      GOPROXY: 'off',
      GOSUMDB: 'off',
      GO111MODULE: 'on',
      GOFLAGS: undefined,
      KUBE_GIT_VERSION_FILE: versionFile,
      SOURCE_DATE_EPOCH: String(r.git.epoch),
      KUBE_VERBOSE: '1',
    },
  });
  for (const t of r.targets) {
    const bin = join(out, t.split('/').pop()!);
    if (!existsSync(bin)) throw new Error(`make left no ${bin}; ${step.tail()}`);
  }
  writeFileSync(done, `${new Date().toISOString()}\n`);
  return out;
}
