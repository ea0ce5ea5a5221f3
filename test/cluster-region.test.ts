/** `ingot cluster plan --region`: plans on the ready machines and subnets of a live region. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from './support/region.ts';

const BIN = new URL('../bin/ingot', import.meta.url).pathname;
const EXAMPLE = new URL('../examples/k3s-edge.yaml', import.meta.url).pathname;

function ingot(r: TestRegion, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: { ...process.env, ...r.cliEnv } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('cluster planning against a region', () => {
  let r: TestRegion;
  before(async () => {
    r = await startTestRegion();
  });
  after(async () => r?.stop());

  it('plans only on ready machines, with addresses from the region’s subnet', async () => {
    const s = await r.api('POST', '/api/v1/subnets', {
      name: 'machines',
      cidr: '10.10.0.0/22',
      gateway: '10.10.0.1',
      ranges: [{ kind: 'dynamic', start: '10.10.1.0', end: '10.10.1.254' }],
    });
    assert.equal(s.status, 201);
    const ids: string[] = [];
    for (const [hostname, pool] of [
      ['cp-1', 'control'],
      ['w-1', 'general'],
      ['w-2', 'general'],
      ['w-3', 'general'],
    ]) {
      const m = await r.api<{ id: string }>(
        'POST',
        '/api/v1/machines',
        newMachineBody({ hostname, pool, zone: 'z1', rack: 'r1' }),
      );
      ids.push(m.body.id);
    }
    // Three of them commissioned (ready, with inventory); w-3 stays new and must not be picked.
    for (const id of ids.slice(0, 3)) await r.api('POST', `/api/v1/machines/${id}/actions/commission`, {});
    await eventually(
      async () =>
        (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total === 3,
      10_000,
      '3 ready machines',
    );
    const res = await ingot(r, ['-o', 'json', 'cluster', 'plan', '-f', EXAMPLE, '--region']);
    assert.equal(res.code, 0, res.err);
    const plan = JSON.parse(res.out) as { nodes: { hostname: string; role: string; address: string }[] };
    assert.deepEqual(plan.nodes.map((n) => n.hostname).sort(), ['cp-1', 'w-1', 'w-2']);
    for (const n of plan.nodes) assert.match(n.address, /^10\.10\./);
  });

  it('says what to do when neither --inventory nor --region is given', async () => {
    const res = await ingot(r, ['cluster', 'plan', '-f', EXAMPLE]);
    assert.equal(res.code, 2);
    assert.match(res.err, /--inventory: is required without --region/);
  });
});
