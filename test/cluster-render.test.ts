/** `ingot cluster render` end to end: byte stability, file modes, all-or-nothing, and the CLI. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadClusterFiles, renderClusterToDir } from '../src/cluster/index.ts';
import { EXAMPLES, exampleSecrets, INVENTORY } from './cluster-examples.ts';
import { scratchDirs } from './support/scratch.ts';

const run = promisify(execFile);
const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('cluster render', () => {
  const scratch = scratchDirs();
  it('is byte-stable: rendering again with the same PKI directory changes no byte', async () => {
    const { spec, inventory } = loadClusterFiles(join(EXAMPLES, 'kubeadm-ha.yaml'), INVENTORY);
    const dir = scratch('ingot-render-');
    await renderClusterToDir(spec, inventory, dir, exampleSecrets());
    const first = snapshot(dir);
    await renderClusterToDir(spec, inventory, dir, exampleSecrets());
    assert.deepEqual(snapshot(dir), first);
    assert.ok(Object.keys(first).length > 20);
  });

  it('writes keys, kubeconfig and user-data readable by root only', async () => {
    const { spec, inventory } = loadClusterFiles(join(EXAMPLES, 'k3s-edge.yaml'), INVENTORY);
    const dir = scratch('ingot-render-');
    await renderClusterToDir(spec, inventory, dir, exampleSecrets());
    for (const f of [
      'pki/ca.key',
      'pki/sa.key',
      'pki/tokens.yaml',
      'kubeconfig/admin.conf',
      'nodes/z1r1-cp/user-data',
    ]) {
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    }
    const expiry = JSON.parse(readFileSync(join(dir, 'pki', 'expiry.json'), 'utf8')) as {
      file: string;
      notAfter: string;
    }[];
    assert.ok(expiry.some((e) => e.file === 'ca.crt'));
  });

  it('writes nothing when the plan is impossible', async () => {
    const { spec, inventory } = loadClusterFiles(join(EXAMPLES, 'kubeadm-ha.yaml'), INVENTORY);
    const few = { ...inventory, machines: inventory.machines.filter((m) => m.pool !== 'gpu') };
    const dir = join(scratch('ingot-render-'), 'out');
    await assert.rejects(
      renderClusterToDir(spec, few, dir, exampleSecrets()),
      /spec.workers\[1\].machines: needs 2 gpu machines, 0 match/,
    );
    assert.equal(existsSync(dir), false);
  });

  it('removes files of nodes that are no longer in the plan', async () => {
    const { spec, inventory } = loadClusterFiles(join(EXAMPLES, 'k3s-edge.yaml'), INVENTORY);
    const dir = scratch('ingot-render-');
    await renderClusterToDir(spec, inventory, dir, exampleSecrets());
    const smaller = { ...spec, spec: { ...spec.spec, workers: [{ ...spec.spec.workers[0], count: 1 }] } };
    await renderClusterToDir(smaller, inventory, dir, exampleSecrets());
    assert.equal(readdirSync(join(dir, 'nodes')).length, 2);
  });

  it('runs as `ingot cluster plan` and `ingot cluster render`, and insists on an inventory', async () => {
    const plan = await run(NODE, [
      MAIN,
      'cluster',
      'plan',
      '-f',
      join(EXAMPLES, 'kubeadm-ha.yaml'),
      '--inventory',
      INVENTORY,
      '-o',
      'json',
    ]);
    assert.equal(JSON.parse(plan.stdout).nodes.length, 11);
    const dir = scratch('ingot-cli-');
    const r = await run(NODE, [
      MAIN,
      'cluster',
      'render',
      '-f',
      join(EXAMPLES, 'k3s-edge.yaml'),
      '--inventory',
      INVENTORY,
      '--secrets',
      join(EXAMPLES, 'secrets.example.yaml'),
      '-o',
      dir,
    ]);
    assert.match(r.stdout, /rendered \d+ files for 3 nodes/);
    assert.ok(existsSync(join(dir, 'nodes', 'z1r1-cp', 'user-data')));
    await assert.rejects(
      run(NODE, [MAIN, 'cluster', 'plan', '-f', join(EXAMPLES, 'k3s-edge.yaml')]),
      (e: { code: number; stderr: string }) => e.code === 2 && /--inventory: is required/.test(e.stderr),
    );
  });
});
