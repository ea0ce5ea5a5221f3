/**
 * What every Store backend must do with Kubernetes bundles (migration 7). Run by
 * store-contract.ts on node:sqlite and on a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BundleManifest } from '../core/bundle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Harness } from './testing.ts';

const manifest = (version: string): BundleManifest => ({
  apiVersion: 'ingot.dev/v1alpha1',
  kind: 'KubernetesBundle',
  version,
  arch: 'amd64',
  binaries: [{ name: 'kubelet', path: 'bin/kubelet', sha256: 'a'.repeat(64), size: 10, version }],
  images: [],
  cniPlugins: [],
  absentImages: ['coredns'],
  provenance: { layout: 'upstream-release', versionFrom: 'x.docker_tag', archFrom: 'kubelet' },
});

export function bundleContract(h: () => Harness): void {
  describe('bundles', () => {
    it('registers an unnamed import, then names it when ready, with its manifest and events', async () => {
      const store = h().store;
      const b = await store.createBundle(
        { name: null, source: 'upload:k.tar.gz', path: 'bundles/{id}' },
        'user:t',
      );
      assert.equal(b.status, 'importing');
      assert.equal(b.name, null);
      assert.equal(b.path, `bundles/${b.id}`);
      const name = `k-${process.pid}-${Date.now()}`;
      const ready = await store.updateBundle(
        b.id,
        {
          name,
          status: 'ready',
          statusReason: '',
          version: 'v1.20.2',
          arch: 'amd64',
          size: 123,
          sha256: 'b'.repeat(64),
          manifest: manifest('v1.20.2'),
        },
        'user:t',
        'importing',
      );
      assert.equal(ready?.name, name);
      assert.deepEqual(ready?.manifest, manifest('v1.20.2'));
      assert.equal((await store.getBundle(name)).id, b.id);
      assert.ok((await store.listBundles()).some((x) => x.id === b.id));
      const events = await store.listEvents({ limit: 500, newestFirst: true });
      assert.ok(events.some((e) => e.type === 'bundle.ready' && (e.data as { id?: string }).id === b.id));
      assert.ok(events.some((e) => e.type === 'bundle.created' && (e.data as { id?: string }).id === b.id));
    });

    it('refuses a second bundle with a ready bundle’s name, naming the field, and lets a failed one’s name go', async () => {
      const store = h().store;
      const name = `dup-${process.pid}-${Date.now()}`;
      const first = await store.createBundle({ name, source: 's', path: 'bundles/{id}' }, 't');
      await store.updateBundle(first.id, { status: 'ready', statusReason: '' }, 't');
      await assert.rejects(
        store.createBundle({ name, source: 's', path: 'bundles/{id}' }, 't', { replaceUnready: true }),
        (e: unknown) =>
          e instanceof IngotError && e.code === ErrorCode.Conflict && e.details.field === 'name',
      );
      const loose = await store.createBundle({ name: null, source: 's', path: 'bundles/{id}' }, 't');
      await assert.rejects(
        store.updateBundle(loose.id, { name }, 't', 'importing'),
        (e: unknown) => e instanceof IngotError && e.code === ErrorCode.Conflict,
      );
      // A failed row does not keep its name from the next import.
      const name2 = `${name}-b`;
      const failed = await store.createBundle({ name: name2, source: 's', path: 'bundles/{id}' }, 't');
      await store.updateBundle(failed.id, { status: 'failed', statusReason: 'broken' }, 't');
      const other = await store.createBundle({ name: null, source: 's', path: 'bundles/{id}' }, 't');
      const named = await store.updateBundle(
        other.id,
        { name: name2, status: 'ready', statusReason: '' },
        't',
        'importing',
      );
      assert.equal(named?.name, name2);
      await assert.rejects(
        store.getBundle(failed.id),
        (e: unknown) => e instanceof IngotError && e.code === ErrorCode.NotFound,
      );
    });

    it('updates with a status compare-and-set: a bundle no longer importing is left alone', async () => {
      const store = h().store;
      const b = await store.createBundle({ name: null, source: 's', path: 'bundles/{id}' }, 't');
      await store.updateBundle(b.id, { status: 'failed', statusReason: 'interrupted' }, 't', 'importing');
      const late = await store.updateBundle(b.id, { status: 'ready', statusReason: '' }, 't', 'importing');
      assert.equal(late, null);
      assert.equal((await store.getBundle(b.id)).status, 'failed');
    });

    it('deletes a bundle, returning its row, and then does not find it', async () => {
      const store = h().store;
      const b = await store.createBundle(
        { name: `del-${Date.now()}`, source: 's', path: 'bundles/{id}' },
        't',
      );
      const gone = await store.deleteBundle(b.name!, 't');
      assert.equal(gone.id, b.id);
      await assert.rejects(
        store.getBundle(b.id),
        (e: unknown) => e instanceof IngotError && e.code === ErrorCode.NotFound,
      );
      await assert.rejects(
        store.deleteBundle(b.id, 't'),
        (e: unknown) => e instanceof IngotError && e.code === ErrorCode.NotFound,
      );
    });
  });
}
