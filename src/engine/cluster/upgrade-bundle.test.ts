import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IngotError } from '../../core/errors.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { checkTargetBundle } from './upgrade-bundle.ts';

describe('the target bundle of a bundle cluster’s upgrade', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-upgrade-bundle-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const add = async (name: string, version: string, status: 'ready' | 'failed') => {
    const b = await store.createBundle({ name, source: 'dir:/x', path: 'bundles/{id}' }, 'user:t');
    await store.updateBundle(b.id, { status, statusReason: '', version, arch: 'amd64' }, 'user:t');
  };

  it('refuses with a 400 naming the version and `ingot bundle add` when the region has none ready', async () => {
    await add('kubernetes-v1.20.2-amd64', 'v1.20.2', 'ready');
    await add('kubernetes-v1.21.3-amd64', 'v1.21.3', 'failed');
    const e = await checkTargetBundle(store, 'v1.21.3').then(
      () => assert.fail('accepted a target with no ready bundle'),
      (x: unknown) => x as IngotError,
    );
    assert.ok(e instanceof IngotError);
    assert.equal(e.code, 'INGOT_VALIDATION');
    assert.match(e.message, /^version: no ready Kubernetes v1\.21\.3 bundle on this region/);
    assert.match(e.message, /kubernetes-v1\.21\.3-<arch>/);
    assert.match(e.message, /`ingot bundle add DIR`/);
  });

  it('accepts a target whose bundle is ready under its default name', async () => {
    await checkTargetBundle(store, 'v1.20.2');
  });
});
