/**
 * The remediator's safety rule with a BMC that will not confirm power-off: the Node is never
 * deleted. The Kubernetes API is a loopback server that records every request (the real
 * remediation runs on the test bed: test/day2.test.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { FakeBmc, fakeBmcState, resetFakeBmcs } from '../../bmc/fake.ts';
import type { PowerState } from '../../core/machine.ts';
import { type RemediationEvent, Remediator } from './remediate.ts';

/** A BMC that accepts every power request and keeps reporting On (a stuck relay, a lying BMC). */
class StuckOnBmc extends FakeBmc {
  override async powerState(): Promise<PowerState> {
    return 'on';
  }
}

/** A BMC that confirms the fence, then reports On again (someone powered it back on). */
class FlappingBmc extends FakeBmc {
  reads = 0;
  override async powerState(): Promise<PowerState> {
    this.reads++;
    return this.reads <= 2 ? 'off' : 'on';
  }
}

describe('Remediator', () => {
  let server: Server;
  const requests: string[] = [];
  let kc: KubeConfig;

  before(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","message":"test"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
  });
  after(() => {
    server.close();
    resetFakeBmcs();
  });

  const member = { node: 'w1', machineId: 'm1', role: 'worker' as const, domain: 'z1/r1' };

  it('halts without deleting the Node when the BMC never confirms the power-off', async () => {
    requests.length = 0;
    const events: RemediationEvent[] = [];
    const bmc = new StuckOnBmc('fake://stuck');
    const r = new Remediator(
      { kube: kc, bmc: () => bmc, event: (e) => events.push(e) },
      { policy: { unhealthyAfterSeconds: 60, maxUnhealthy: 1 }, fenceTimeoutMs: 600 },
    );
    const out = await r.remediate(member, 'not-ready');
    assert.equal(out.outcome, 'halted');
    assert.deepEqual(
      out.done.map((d) => [d.step, d.ok]),
      [['fence', false]],
    );
    assert.match(out.reason, /w1 could not be fenced \(the BMC still reports power on\): its Node is kept/);
    assert.ok(
      fakeBmcState('stuck').calls.some((c) => c.includes('force-off')),
      'the power-off was asked for',
    );
    assert.deepEqual(requests, [], 'the Kubernetes API was never called');
    assert.equal(events.at(-1)?.level, 'error');
  });

  it('does not delete the Node when the machine is on again by the time of the delete', async () => {
    requests.length = 0;
    const bmc = new FlappingBmc('fake://flap');
    const r = new Remediator(
      { kube: kc, bmc: () => bmc, event: () => {} },
      { policy: { unhealthyAfterSeconds: 60, maxUnhealthy: 1 }, fenceTimeoutMs: 600 },
    );
    const out = await r.remediate(member, 'broken');
    assert.deepEqual(
      out.done.map((d) => [d.step, d.ok]),
      [
        ['fence', true],
        ['delete-node', false],
      ],
    );
    assert.match(out.reason, /could not be deleted \(the BMC reports power on, not Off: the Node is kept\)/);
    assert.deepEqual(requests, []);
  });
});
