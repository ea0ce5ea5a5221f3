/**
 * Every (state, action) pair of the lifecycle table, through the real store: allowed actions
 * commit the documented state and workflow; forbidden ones are refused with the state and
 * the allowed actions, and change nothing.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../core/errors.ts';
import {
  ACTION_RULES,
  ACTIONS,
  allowedActions,
  MACHINE_STATES,
  type MachineState,
  WORKFLOW_RULES,
} from '../core/lifecycle.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { machineInput } from '../store/testing.ts';
import { skipUnless } from '../../test/support/needs.ts';
import { requestAction } from './actions.ts';

// Where each allowed action lands from a state (with the machine commissioned, no rescue origin).
const EXPECTED: Record<string, MachineState | 'same'> = {
  commission: 'commissioning',
  allocate: 'allocated',
  deploy: 'deploying',
  redeploy: 'deploying',
  release: 'releasing',
  'power-on': 'same',
  'power-off': 'same',
  'power-cycle': 'same',
  rescue: 'rescue',
  'exit-rescue': 'ready',
  'mark-broken': 'broken',
  'mark-fixed': 'ready',
  abort: 'same', // checked separately: failed twin
  retire: 'retired',
};
const ABORT_TARGET: Record<string, MachineState> = {
  commissioning: 'failed_commissioning',
  deploying: 'failed_deploying',
  releasing: 'failed_releasing',
};

describe('every transition of the lifecycle table, through the store', () => {
  let store: SqlStore;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingot-actions-'));
    store = await openStore({ dataDir: dir });
    // The region's only ready OS image: a deploy without params.image takes it.
    await store.createImage(
      {
        name: 'os-1',
        kind: 'os',
        format: 'raw',
        compression: 'none',
        source: 'test',
        path: 'images/os-1.raw',
        status: 'ready',
        sha256: 'a'.repeat(64),
      },
      'test',
    );
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function machineIn(state: MachineState) {
    const m = await store.createMachine(machineInput({ state, stateReason: 'test fixture' }), 'test');
    // Commissioned machines: mark-fixed goes to ready.
    const { machine } = await store.transition({
      machineId: m.id,
      from: state,
      to: state,
      reason: 'test fixture: commissioned',
      actor: 'test',
      set: { commissionedAt: new Date().toISOString() },
    });
    return machine;
  }

  for (const state of MACHINE_STATES) {
    for (const action of ACTIONS) {
      const allowed = ACTION_RULES[action].from.includes(state);
      it(`${allowed ? 'allows' : 'refuses'} ${action} in ${state}`, async () => {
        const m = await machineIn(state);
        const eventsBefore = (await store.listEvents({ machineId: m.id, limit: 1000 })).length;
        if (!allowed) {
          await assert.rejects(
            requestAction(store, { machineId: m.id, action, actor: 'user:t' }),
            (e: unknown) => {
              assert.ok(e instanceof IngotError);
              assert.equal(e.code, ErrorCode.InvalidTransition);
              assert.equal(e.details.state, state);
              assert.deepEqual(e.details.allowed, allowedActions(state));
              return true;
            },
          );
          const after = await store.getMachine(m.id);
          assert.equal(after.state, state);
          assert.equal(after.version, m.version);
          assert.equal((await store.listEvents({ machineId: m.id, limit: 1000 })).length, eventsBefore);
          assert.equal((await store.listJobs({ machineId: m.id }, 10)).length, 0);
          return;
        }
        const r = await requestAction(store, { machineId: m.id, action, actor: 'user:t' });
        const want =
          action === 'abort' ? ABORT_TARGET[state] : EXPECTED[action] === 'same' ? state : EXPECTED[action];
        assert.equal(r.machine.state, want);
        const stored = await store.getMachine(m.id);
        assert.equal(stored.state, want, 'the store holds the new state');
        const wf = ACTION_RULES[action].workflow;
        const jobs = await store.listJobs({ machineId: m.id, status: ['queued'] }, 10);
        assert.equal(jobs.length, wf ? 1 : 0);
        if (wf)
          assert.deepEqual(
            jobs[0].steps.map((s) => s.name),
            WORKFLOW_RULES[wf].steps,
          );
        if (want !== state) {
          const events = await store.listEvents({ machineId: m.id, limit: 1000 });
          const t = events.findLast((e) => e.type === 'machine.transition');
          assert.ok(t, 'the transition is on the timeline');
          assert.equal(t.data.from, state);
          assert.equal(t.data.to, want);
          assert.match(
            stored.stateReason,
            new RegExp(action === 'abort' ? 'aborted by user:t' : `${action} requested by user:t`),
          );
        }
      });
    }
  }
});

describe('deploy: which image', () => {
  let store: SqlStore;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingot-deploy-image-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const image = (name: string, status: 'ready' | 'failed', kind: 'os' | 'boot' = 'os') =>
    store.createImage(
      {
        name,
        kind,
        format: 'raw',
        compression: 'none',
        source: 'test',
        path: `images/${name}.raw`,
        status,
        statusReason: status === 'failed' ? 'checksum mismatch' : '',
        sha256: 'b'.repeat(64),
      },
      'test',
    );
  const deploy = async (params?: Record<string, unknown>) => {
    const m = await store.createMachine(machineInput({ state: 'ready', stateReason: 't' }), 'test');
    try {
      const r = await requestAction(store, { machineId: m.id, action: 'deploy', actor: 'user:t', params });
      return r.job?.params.image;
    } catch (e) {
      assert.equal((await store.getMachine(m.id)).state, 'ready', 'a refused deploy changes nothing');
      assert.equal((await store.listJobs({ machineId: m.id }, 5)).length, 0);
      throw e;
    }
  };
  const refused = (field: string, message: RegExp) => (e: unknown) => {
    assert.ok(e instanceof IngotError);
    assert.equal(e.code, ErrorCode.Validation);
    assert.equal(e.details.field, field);
    assert.match(e.message, message);
    return true;
  };

  it('refuses a deploy with no image when the region has none, saying how to get one', async () => {
    await assert.rejects(deploy(), refused('params.image', /no ready OS image: build one/));
  });

  it('takes the only ready OS image; with several, asks for one by name', async () => {
    await image('debian-12', 'ready');
    await image('boot-x', 'ready', 'boot');
    await image('broken', 'failed');
    assert.equal(await deploy(), 'debian-12');
    await image('ubuntu-24.04', 'ready');
    await assert.rejects(
      deploy(),
      refused('params.image', /2 OS images \(debian-12, ubuntu-24.04\); name one/),
    );
    assert.equal(await deploy({ image: 'ubuntu-24.04' }), 'ubuntu-24.04');
  });

  it('refuses an unknown, a boot or a failed image by name, and bad parameters', async () => {
    await assert.rejects(deploy({ image: 'nope' }), refused('params.image', /no OS image "nope"/));
    await assert.rejects(deploy({ image: 'boot-x' }), refused('params.image', /no OS image "boot-x"/));
    await assert.rejects(
      deploy({ image: 'broken' }),
      refused('params.image', /is failed \(checksum mismatch\)/),
    );
    await assert.rejects(
      deploy({ image: 'debian-12', sshKey: 'x' }),
      refused('params.sshKey', /not a parameter/),
    );
  });

  it('checks a network-config with netplan and cloud-init: keeps one both render, refuses the others naming the machine and the tool’s reason', {
    skip: skipUnless({ programs: ['netplan', 'cloud-init'] }),
  }, async () => {
    const nc = (bond: string, route: string) =>
      `network:\n  version: 2\n  ethernets:\n    nic0: {match: {macaddress: "52:54:00:00:00:01"}, set-name: nic0}\n  bonds:\n    bond0:\n      interfaces: [nic0]\n      parameters: {mode: ${bond}}\n      addresses: [10.0.0.5/24]\n      routes: [{to: ${route}, via: 10.0.0.1}]\n`;
    await image('netcfg-os', 'ready');
    const subnet = await store.createSubnet(
      {
        name: 'netcfg',
        cidr: '10.0.0.0/24',
        gateway: '10.0.0.1',
        ranges: [],
        dns: [],
        vlan: null,
        dhcpMode: 'full',
        autoEnlist: false,
      },
      'test',
    );
    const m = await store.createMachine(machineInput({ state: 'ready', stateReason: 't' }), 'test');
    const good = nc('active-backup', '0.0.0.0/0');
    const r = await requestAction(store, {
      machineId: m.id,
      action: 'deploy',
      actor: 'user:t',
      params: { image: 'netcfg-os', networkConfig: good },
    });
    assert.equal(r.job?.params.networkConfig, good, 'the job carries it to write-image');
    // The deployed OS answers the rack from 10.0.0.5: the address is the machine's now.
    const held = () => store.listIps(subnet.id).then((l) => l.map((a) => `${a.ip} ${a.kind} ${a.machineId}`));
    assert.deepEqual(await held(), [`10.0.0.5 static ${m.id}`]);
    await assert.rejects(
      deploy({ image: 'netcfg-os', networkConfig: good }),
      (e: unknown) =>
        e instanceof IngotError &&
        e.code === ErrorCode.Conflict &&
        e.message.includes(`10.0.0.5 is already assigned to machine ${m.id}`),
      'another machine cannot deploy with an address this one holds',
    );
    // netplan: no such bond mode.
    await assert.rejects(
      deploy({ image: 'netcfg-os', networkConfig: nc('roundrobin', '0.0.0.0/0') }),
      refused(
        'params.networkConfig',
        /^params\.networkConfig: machine \S+: netplan generate refused it: .*unknown bond mode 'roundrobin'/,
      ),
    );
    // netplan takes `to: default`; the deployed OS's cloud-init 22.4 does not.
    await assert.rejects(
      deploy({ image: 'netcfg-os', networkConfig: nc('active-backup', 'default') }),
      refused(
        'params.networkConfig',
        /cloud-init \(the deployed OS's renderer\) cannot render it: .*default is not a valid ip/,
      ),
    );
  });
});
