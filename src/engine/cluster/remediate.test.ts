/**
 * The remediator's safety rule with a BMC that will not confirm power-off: the Node is never
 * deleted. The Kubernetes API is a loopback server that records every request (the real
 * remediation runs on the test bed: test/day2.test.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { FakeBmc, fakeBmcState, resetFakeBmcs } from '../../bmc/fake.ts';
import type { PowerState } from '../../core/machine.ts';
import { type RemediationEvent, Remediator, retryUnreachable } from './remediate.ts';
import { ladderToReplace, stepsOf } from './testing.ts';

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

/**
 * A BMC caught in the middle of a power cycle: it reads off, and powers the machine on again
 * `intervalMs` later unless a force-off comes first (ipmi_sim's behaviour, measured).
 */
class MidCycleBmc extends FakeBmc {
  power_: PowerState = 'off';
  #timer: NodeJS.Timeout;
  constructor(address: string, intervalMs: number) {
    super(address);
    this.#timer = setTimeout(() => (this.power_ = 'on'), intervalMs);
  }
  override async powerState(): Promise<PowerState> {
    return this.power_;
  }
  override async power(action: 'on' | 'force-off' | 'graceful-off' | 'cycle' | 'reset'): Promise<void> {
    await super.power(action);
    if (action === 'force-off') clearTimeout(this.#timer);
    this.power_ = action === 'force-off' || action === 'graceful-off' ? 'off' : 'on';
  }
}

/** A BMC whose machine is off and which refuses a force-off of it (some Redfish BMCs answer 409). */
class RefusesOffWhenOffBmc extends FakeBmc {
  override async powerState(): Promise<PowerState> {
    return 'off';
  }
  override async power(action: 'on' | 'force-off' | 'graceful-off' | 'cycle' | 'reset'): Promise<void> {
    await super.power(action);
    if (action === 'force-off') throw new Error('HTTP 409: the server is already powered off');
  }
}

/**
 * A loopback Kubernetes API answering with `handler`, and a kubeconfig that reaches it (`cluster`
 * added to its cluster entry).
 */
async function startApi(
  handler: RequestListener,
  cluster: { skipTLSVerify?: boolean } = {},
): Promise<{ server: Server; kc: KubeConfig }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ...cluster },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return { server, kc };
}

const member = { node: 'w1', machineId: 'm1', role: 'worker' as const, domain: 'z1/r1' };
const policy = { unhealthyAfterSeconds: 60, maxUnhealthy: 1 };

describe('Remediator', () => {
  let server: Server;
  const requests: string[] = [];
  let kc: KubeConfig;

  before(async () => {
    ({ server, kc } = await startApi((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","message":"test"}');
    }));
  });
  after(() => {
    server.close();
    resetFakeBmcs();
  });

  it('halts without deleting the Node when the BMC never confirms the power-off', async () => {
    requests.length = 0;
    const events: RemediationEvent[] = [];
    const bmc = new StuckOnBmc('fake://stuck');
    const r = new Remediator(
      { kube: kc, bmc: () => bmc, event: (e) => events.push(e) },
      { policy, fenceTimeoutMs: 600 },
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
    const r = new Remediator({ kube: kc, bmc: () => bmc, event: () => {} }, { policy, fenceTimeoutMs: 600 });
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

describe('Remediator fence', () => {
  // An API that refuses every request at once (403): the ladder stops at delete-node, right
  // after the fence, and nothing powers the machine on again.
  let server: Server;
  let kc: KubeConfig;
  before(async () => {
    ({ server, kc } = await startApi(
      (_req, res) => {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"kind":"Status","message":"test"}');
      },
      { skipTLSVerify: true },
    ));
  });
  after(() => server.close());

  it('forces off a machine that reads off in the middle of a power cycle, so that it stays off', async () => {
    const bmc = new MidCycleBmc('fake://midcycle', 150);
    const r = new Remediator({ kube: kc, bmc: () => bmc, event: () => {} }, { policy, fenceTimeoutMs: 600 });
    const out = await r.remediate(member, 'broken');
    assert.deepEqual(out.done[0], { step: 'fence', ok: true, detail: 'the BMC reports power Off' });
    assert.ok(fakeBmcState('midcycle').calls.includes('power:force-off'), 'the force-off was sent');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(await bmc.powerState(), 'off', 'the cycle did not power the fenced machine on again');
  });

  it('fences a machine that is off even when its BMC refuses the force-off', async () => {
    const bmc = new RefusesOffWhenOffBmc('fake://refuses');
    const r = new Remediator({ kube: kc, bmc: () => bmc, event: () => {} }, { policy, fenceTimeoutMs: 600 });
    const out = await r.remediate(member, 'broken');
    assert.deepEqual(out.done[0], { step: 'fence', ok: true, detail: 'the BMC reports power Off' });
  });
});

describe('Remediator ladder with a node that never comes back', () => {
  let server: Server;
  let kc: KubeConfig;
  const requests: string[] = [];
  let nodeExists = true;

  before(async () => {
    // The API of a cluster whose w1 is NotReady, then deleted, and never registers again.
    const api = await startApi(
      (req, res) => {
        requests.push(`${req.method} ${req.url}`);
        const url = new URL(req.url ?? '/', 'http://x');
        const json = (body: unknown) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        const w1 = {
          metadata: { name: 'w1', labels: { pool: 'general' } },
          spec: {},
          status: {
            conditions: [{ type: 'Ready', status: 'Unknown', lastTransitionTime: '2026-01-01T00:00:00Z' }],
          },
        };
        if (url.pathname === '/api/v1/nodes')
          return json({ kind: 'NodeList', metadata: {}, items: nodeExists ? [w1] : [] });
        if (url.pathname === '/api/v1/nodes/w1' && nodeExists) {
          if (req.method === 'DELETE') nodeExists = false;
          return json(w1);
        }
        if (url.pathname === '/api/v1/pods') return json({ kind: 'PodList', metadata: {}, items: [] });
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
      },
      { skipTLSVerify: true },
    );
    ({ server, kc } = api);
  });
  after(() => {
    server.close();
    resetFakeBmcs();
  });
  const spares = [
    { machineId: 'm-other-zone', domain: 'z2/r1' },
    { machineId: 'm-same-rack', domain: 'z1/r1' },
  ];

  it('escalates power-on → reprovision → replace with the spare of its rack, telling each rung with its reason', async () => {
    nodeExists = true;
    const events: RemediationEvent[] = [];
    const replaced: [string, string, string][] = [];
    const bmc = new FakeBmc('fake://dead');
    const r = new Remediator(
      {
        kube: kc,
        bmc: () => bmc,
        spares: async () => spares,
        reprovision: async () => {
          throw new Error('deploy of w1 failed: the machine did not power on');
        },
        replace: async (m, spare, why) => {
          replaced.push([m.node, spare, why]);
          return 'w9 (spare m-same-rack) joined and Ready';
        },
        event: (e) => events.push(e),
      },
      { policy, fenceTimeoutMs: 2000, readyTimeoutMs: 1500 },
    );
    const out = await r.remediate(member, 'not-ready');
    assert.equal(out.outcome, 'recovered', out.reason);
    assert.deepEqual(stepsOf(out), ladderToReplace(true));
    assert.deepEqual(replaced, [
      [
        'w1',
        'm-same-rack',
        'Node not Ready; power-on failed (not Ready within 1.5 s); reprovision failed (deploy of w1 failed: the machine did not power on)',
      ],
    ]);
    assert.equal(out.reason, 'w1 replaced: w9 (spare m-same-rack) joined and Ready');
    assert.deepEqual(
      events.map((e) => `${e.step}/${e.level}: ${e.message}`),
      [
        'fence/info: fence: starting',
        'fence/info: fence: done (the BMC reports power Off)',
        'delete-node/info: delete-node: starting',
        'delete-node/info: delete-node: done (Node deleted with 0 pod(s): none)',
        'power-on/info: power-on: starting',
        'power-on/warning: power-on: failed (not Ready within 1.5 s)',
        'reprovision/info: reprovision: starting',
        'reprovision/warning: reprovision: failed (deploy of w1 failed: the machine did not power on)',
        'replace/info: replace with spare m-same-rack: starting',
        'replace/info: replace: done (w9 (spare m-same-rack) joined and Ready)',
        'replace/info: w1 replaced: w9 (spare m-same-rack) joined and Ready',
      ],
    );
    assert.ok(requests.includes('DELETE /api/v1/nodes/w1'));
  });

  it('halts with the reason when the replace fails, and without a reprovision port goes straight on to replace', async () => {
    nodeExists = true;
    const r = new Remediator(
      {
        kube: kc,
        bmc: () => new FakeBmc('fake://dead2'),
        spares: async () => spares,
        replace: async () => {
          throw new Error('job j-1 failed: node3 failed to deploy');
        },
        event: () => {},
      },
      { policy, fenceTimeoutMs: 2000, readyTimeoutMs: 500 },
    );
    const out = await r.remediate(member, 'not-ready');
    assert.equal(out.outcome, 'halted');
    assert.deepEqual(
      out.done.map((d) => [d.step, d.ok, d.step === 'reprovision' ? d.detail : '']),
      [
        ['fence', true, ''],
        ['delete-node', true, ''],
        ['power-on', false, ''],
        [
          'reprovision',
          false,
          "reprovision is not wired in this remediator: the Cluster file's spec.remediation.reprovision lets the region redeploy the machine in place (its OS image written again, rejoined with a fresh token)",
        ],
        ['replace', false, ''],
      ],
    );
    assert.match(out.reason, /every rung failed for w1 \(last: job j-1 failed: node3 failed to deploy\)/);
  });
});

describe('retryUnreachable (a fenced control plane still behind the API load balancer)', () => {
  it('retries a request that reached no API server, and throws an HTTP answer at once', async () => {
    let calls = 0;
    const v = await retryUnreachable(async () => {
      if (++calls === 1) throw new TypeError('fetch failed');
      return 'deleted';
    }, 10_000);
    assert.deepEqual([v, calls], ['deleted', 2]);
    let http = 0;
    await assert.rejects(
      retryUnreachable(async () => {
        http++;
        throw Object.assign(new Error('HTTP 403'), { code: 403 });
      }, 10_000),
      /HTTP 403/,
    );
    assert.equal(http, 1);
  });

  it('retries the 5xx an API server answers while etcd elects a leader (after a restore or a lost member)', async () => {
    let calls = 0;
    const v = await retryUnreachable(async () => {
      if (++calls < 3) throw Object.assign(new Error('etcdserver: leader changed'), { code: 500 });
      return 'deleted';
    }, 10_000);
    assert.deepEqual([v, calls], ['deleted', 3]);
    // Not for ever: past the window, the last answer is thrown.
    let n = 0;
    await assert.rejects(
      retryUnreachable(async () => {
        n++;
        throw Object.assign(new Error('HTTP 503'), { code: 503 });
      }, 1_500),
      /HTTP 503/,
    );
    assert.ok(n >= 2 && n <= 3, `${n} tries in 1.5 s`);
  });
});
