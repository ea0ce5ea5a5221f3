import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BUILD_FILE, buildKubernetesBundle, completeBundle, kubernetesCacheDir } from './build.ts';
import { bundleDirName, compileHash, KUBERNETES_1_20, recipeHash } from './recipe.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ingot-kbuild-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function fakeBundle(dir: string, files: Record<string, string>, sizes: Record<string, number> = {}): void {
  mkdirSync(dir, { recursive: true });
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  const record = {
    recipe: KUBERNETES_1_20,
    hash: recipeHash(KUBERNETES_1_20),
    debianVersions: {},
    seconds: 1,
    builtAt: new Date(0).toISOString(),
    files: Object.entries(files).map(([path, body]) => ({
      path,
      size: sizes[path] ?? body.length,
      sha256: '0'.repeat(64),
    })),
  };
  writeFileSync(join(dir, BUILD_FILE), JSON.stringify(record));
}

describe('the Kubernetes bundle build', () => {
  it('names its cache directory by the version and the hash of every input', () => {
    assert.match(bundleDirName(KUBERNETES_1_20), /^v1\.20\.2-[0-9a-f]{12}$/);
    const changed = { ...KUBERNETES_1_20, images: { ...KUBERNETES_1_20.images, pauseTag: '3.3' } };
    assert.notEqual(recipeHash(changed), recipeHash(KUBERNETES_1_20));
    // The compile's work directory depends only on what the compile takes.
    assert.equal(compileHash(changed), compileHash(KUBERNETES_1_20));
    const newGo = { ...KUBERNETES_1_20, go: { ...KUBERNETES_1_20.go, version: '1.15.15-1~deb11u5' } };
    assert.notEqual(compileHash(newGo), compileHash(KUBERNETES_1_20));
  });

  it('takes a directory as complete only when every recorded file is there with its size', () => {
    const dir = join(tmp, 'check');
    fakeBundle(dir, { 'kubernetes/server/bin/kubelet': 'elf', 'images/pause.tar': 'tar' });
    assert.ok(completeBundle(dir));
    writeFileSync(join(dir, 'images/pause.tar'), 'truncated?');
    assert.equal(completeBundle(dir), null);
    rmSync(join(dir, 'images/pause.tar'));
    assert.equal(completeBundle(dir), null);
    rmSync(join(dir, BUILD_FILE));
    assert.equal(completeBundle(dir), null);
    assert.equal(completeBundle(join(tmp, 'absent')), null);
  });

  it('reuses a complete cached bundle without building anything', async () => {
    const cache = join(tmp, 'cache');
    const dir = join(kubernetesCacheDir(cache), bundleDirName(KUBERNETES_1_20));
    fakeBundle(dir, { 'kubernetes/server/bin/kubelet': 'elf' });
    const said: string[] = [];
    const r = await buildKubernetesBundle(KUBERNETES_1_20, { cache, say: (l) => said.push(l) });
    assert.equal(r.reused, true);
    assert.equal(r.dir, dir);
    assert.deepEqual(said, []);
  });

  it('refuses to build while another live builder holds the recipe’s lock', async () => {
    const cache = join(tmp, 'locked');
    const base = kubernetesCacheDir(cache);
    const lock = join(base, `.lock-${bundleDirName(KUBERNETES_1_20)}`);
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(lock, 'pid'), String(process.ppid));
    await assert.rejects(
      buildKubernetesBundle(KUBERNETES_1_20, { cache }),
      /another build \(PID \d+\) holds/,
    );
  });

  it('rebuilds a partial cached bundle into a staging directory and renames it into place', async () => {
    const cache = join(tmp, 'partial');
    const dir = join(kubernetesCacheDir(cache), bundleDirName(KUBERNETES_1_20));
    fakeBundle(dir, { 'kubernetes/server/bin/kubelet': 'elf' }, { 'kubernetes/server/bin/kubelet': 99 });
    const said: string[] = [];
    const r = await buildKubernetesBundle(KUBERNETES_1_20, {
      cache,
      say: (l) => said.push(l),
      produce: async (_r, c) => {
        assert.ok(!existsSync(dir), 'the partial directory is gone before the build writes');
        mkdirSync(join(c.stage, 'kubernetes', 'server', 'bin'), { recursive: true });
        writeFileSync(join(c.stage, 'kubernetes', 'server', 'bin', 'kubelet'), 'new kubelet');
        return { kubernetes: KUBERNETES_1_20.source.version };
      },
    });
    assert.equal(r.reused, false);
    assert.match(said[0], /is partial: building it again/);
    assert.deepEqual(
      r.record.files.map((f) => [f.path, f.size]),
      [['kubernetes/server/bin/kubelet', 11]],
    );
    assert.equal(readFileSync(join(dir, 'kubernetes/server/bin/kubelet'), 'utf8'), 'new kubelet');
    assert.ok(completeBundle(dir));
    assert.equal((await buildKubernetesBundle(KUBERNETES_1_20, { cache })).reused, true);
  });

  it('leaves no bundle under the final name when the build fails, and frees the lock', async () => {
    const cache = join(tmp, 'failing');
    const base = kubernetesCacheDir(cache);
    const produce = async () => {
      throw new Error('compile failed');
    };
    await assert.rejects(buildKubernetesBundle(KUBERNETES_1_20, { cache, produce }), /compile failed/);
    assert.equal(existsSync(join(base, bundleDirName(KUBERNETES_1_20))), false);
    assert.equal(existsSync(join(base, `.lock-${bundleDirName(KUBERNETES_1_20)}`)), false);
  });
});
