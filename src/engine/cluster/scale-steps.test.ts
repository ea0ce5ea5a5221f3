import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster } from '../../core/cluster.ts';
import type { Job } from '../../core/job.ts';
import type { Machine } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';
import type { AgentPort } from '../agent-port.ts';
import { scaleJoinToken } from './scale-steps.ts';

describe('scaleJoinToken', () => {
  const cluster = {
    name: 'c',
    members: [
      { hostname: 'w-1', machineId: 'm-w1', role: 'worker', order: 2 },
      { hostname: 'cp-2', machineId: 'm-cp2', role: 'control-plane', order: 1 },
      { hostname: 'cp-1', machineId: 'm-cp1', role: 'init', order: 0 },
    ],
  } as unknown as Cluster;
  const store = { getMachine: async (id: string) => ({ id }) as Machine } as unknown as Store;

  /** Which machine the token was asked of for a job with `params`. */
  async function askedOf(params: Record<string, unknown>): Promise<string> {
    const asked: string[] = [];
    const agent = {
      task: async (m: Machine) => {
        asked.push(m.id);
        return { status: 'pending', lastMessage: 'creating a join token' };
      },
    } as unknown as AgentPort;
    const r = await scaleJoinToken(store, agent, cluster, { id: 'j-1', params } as unknown as Job);
    assert.deepEqual(r, {
      pending: `${cluster.members.find((m) => m.machineId === asked[0])?.hostname}: creating a join token`,
    });
    return asked[0];
  }

  it('asks the first live control plane, never a dead one (a reprovision’s, a replace’s broken one)', async () => {
    assert.equal(await askedOf({}), 'm-cp1', 'the init node first');
    assert.equal(await askedOf({ dead: ['cp-1'] }), 'm-cp2', 'a reprovision of the dead init node');
    assert.equal(await askedOf({ broken: { 'cp-1': 'fenced' } }), 'm-cp2', 'a replace of the broken one');
  });

  it('refuses when no control plane is alive, naming the cluster', async () => {
    await assert.rejects(askedOf({ dead: ['cp-1', 'cp-2'] }), {
      message: 'cluster c has no control plane to make a join token',
    });
  });
});
