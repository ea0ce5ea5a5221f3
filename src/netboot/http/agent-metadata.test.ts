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
import { deployMetadataSource } from './agent-metadata.ts';

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
