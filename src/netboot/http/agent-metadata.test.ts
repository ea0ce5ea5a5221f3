import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requestAction } from '../../engine/actions.ts';
import { openStore } from '../../store/open.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import { machineInput } from '../../store/testing.ts';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { skipUnless } from '../../../test/support/needs.ts';
import { DEPLOY_VENDOR_DATA, deployMetadataSource } from './agent-metadata.ts';

describe('the deploy metadata source', () => {
  let store: SqlStore;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingot-metadata-'));
    store = await openStore({ dataDir: dir });
    await store.createImage(
      {
        name: 'os',
        kind: 'os',
        format: 'raw',
        compression: 'none',
        source: 'test',
        path: 'images/os.raw',
        status: 'ready',
        sha256: 'd'.repeat(64),
        size: 1,
      },
      'user:test',
    );
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves sealed user-data to the deploying machine while the job keeps only the secret’s id', async () => {
    const m = await store.createMachine(machineInput({ state: 'ready', stateReason: 't' }), 'user:test');
    const text = `#cloud-config\n# key: ${Math.random().toString(36)}\n`;
    const r = await requestAction(store, {
      machineId: m.id,
      action: 'deploy',
      actor: 'engine:t',
      sealedUserData: text,
    });
    assert.equal(r.job?.params.userData, undefined);
    assert.equal(typeof r.job?.params.userDataSecret, 'string');
    assert.equal(await deployMetadataSource(store).userData(r.machine), text);
    assert.ok(!JSON.stringify(await store.listJobs({ machineId: m.id }, 5)).includes(text));
  });

  it('serves Ingot’s vendor-data to a deployed machine only: ed25519 and ECDSA host keys', async () => {
    const m = await store.createMachine(machineInput({ state: 'ready', stateReason: 't' }), 'user:test');
    assert.equal(await deployMetadataSource(store).vendorData(m), null, 'not deployed: none');
    const r = await requestAction(store, { machineId: m.id, action: 'deploy', actor: 'user:t' });
    const vd = await deployMetadataSource(store).vendorData(r.machine);
    assert.equal(vd, DEPLOY_VENDOR_DATA);
    assert.match(vd ?? '', /^#cloud-config\n/);
    assert.match(vd ?? '', /^ssh_genkeytypes: \[ed25519, ecdsa\]$/m);
  });

  it('has vendor-data that passes cloud-init’s own schema check', {
    skip: skipUnless({ programs: ['cloud-init'] }),
  }, () => {
    const f = join(dir, 'vendor-data.yaml');
    writeFileSync(f, DEPLOY_VENDOR_DATA);
    const r = spawnSync('cloud-init', ['schema', '--config-file', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    // The checker catches a wrong value (so a pass above means something).
    writeFileSync(f, DEPLOY_VENDOR_DATA.replace('[ed25519, ecdsa]', 'ed25519'));
    const bad = spawnSync('cloud-init', ['schema', '--config-file', f], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0, `${bad.stdout}${bad.stderr}`);
  });

  it('refuses a secret id passed as a deploy parameter through the API’s path', async () => {
    const m = await store.createMachine(machineInput({ state: 'ready', stateReason: 't' }), 'user:test');
    const id = await store.putSecret('bmc', 'hunter2');
    await assert.rejects(
      requestAction(store, {
        machineId: m.id,
        action: 'deploy',
        actor: 'user:x',
        params: { userDataSecret: id },
      }),
      /params\.userDataSecret: not a parameter of deploy/,
    );
  });
});
