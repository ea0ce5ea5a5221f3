/**
 * The bundle's image archives as a node's containerd needs them: imported into `k8s.io` and
 * tagged with the names kubeadm 1.20 looks for (without the `-amd64` suffix). The bed imports
 * them at `up`, so a prepared node has them before any bootstrap.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseImageRef, withoutArchSuffix } from '../../core/bundle.ts';
import { inNode } from './node.ts';

const execFileP = promisify(execFile);

export type BundleImages = Awaited<ReturnType<typeof bundleImages>>;

/** Image archives of the bundle with the names containerd must know them by. */
export async function bundleImages(
  bundle: string,
): Promise<{ file: string; refs: string[]; aliases: string[] }[]> {
  const files = [
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((c) =>
      join(bundle, 'kubernetes', 'server', 'bin', `${c}.tar`),
    ),
    join(bundle, 'images', 'pause.tar'),
    join(bundle, 'images', 'etcd.tar'),
  ];
  const out = [];
  for (const file of files) {
    const { stdout } = await execFileP('tar', ['-xOf', file, 'manifest.json'], { maxBuffer: 2 ** 20 });
    const refs = (JSON.parse(stdout) as { RepoTags: string[] }[]).flatMap((m) => m.RepoTags);
    const aliases = refs.flatMap((r) => {
      const p = parseImageRef(r);
      const a = p ? withoutArchSuffix(p, 'amd64') : null;
      return a ? [a] : [];
    });
    out.push({ file, refs, aliases });
  }
  return out;
}

export async function importImages(pid: number, images: BundleImages, worker: boolean) {
  const ctr = (...a: string[]) =>
    inNode(pid, 'ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', ...a]);
  for (const im of images) {
    const name = im.file.split('/').pop()!;
    if (worker && !['kube-proxy.tar', 'pause.tar'].includes(name)) continue;
    await ctr('images', 'import', im.file);
    for (const [i, a] of im.aliases.entries())
      await ctr('images', 'tag', '--force', im.refs[i] ?? im.refs[0], a);
  }
}
