/**
 * The console's Cost page end to end: chromium against a real region with seeded machines, one
 * with recorded BMC power. The chart and tables show the region's answer; the capacity check
 * plans the sample Cluster file. A screenshot goes to docs/screenshots/cost.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { ensureUiBuilt, launchChromium } from './support/browser.ts';
import { FakeKube } from '../src/kube/fake.ts';
import { clusterYaml, NODE_IMAGE, nodeSubnet } from './support/cluster-seed.ts';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from './support/region.ts';
import { seedMachines, seedSubnets } from './support/ui-seed.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('console: cost and capacity', { timeout: 90_000 }, () => {
  let r: TestRegion;
  let browser: Browser;
  let close: () => Promise<void> = async () => {};
  let page: Page;
  const csp: string[] = [];

  before(async () => {
    await ensureUiBuilt(ROOT);
    const kube = new FakeKube();
    r = await startTestRegion({ clusterLimits: { pollMs: 20 }, simulatedKube: kube });
    const ids = await seedMachines(r.region.store, { machines: 24 });
    await seedSubnets(r.region.store, ids);
    // A running (simulated) cluster cc: cp-1, w-1 and w-2 in zone z1; its pods request 3.5 + 1.5 CPU
    // and 6 + 2 GiB on the workers (FakeKube answers for simulated clusters).
    assert.equal((await r.api('POST', '/api/v1/subnets', nodeSubnet('10.42'))).status, 201);
    await r.region.store.createImage(NODE_IMAGE, 'user:test');
    const mine: string[] = [];
    for (const [hostname, pool] of [
      ['cp-1', 'control'],
      ['w-1', 'general'],
      ['w-2', 'general'],
    ]) {
      const m = await r.api<{ id: string }>(
        'POST',
        '/api/v1/machines',
        newMachineBody({ hostname, pool, zone: 'z1', rack: 'r1' }),
      );
      mine.push(m.body.id);
      await r.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
    }
    await eventually(
      async () => {
        const states = await Promise.all(
          mine.map((id) => r.api<{ state: string }>('GET', `/api/v1/machines/${id}`)),
        );
        return states.every((x) => x.body.state === 'ready');
      },
      30_000,
      'cp-1, w-1 and w-2 ready',
    );
    // the seeded region has three subnets: name the node subnet
    const file = clusterYaml('cc', { net: '10.42' }).replace(
      '  endpoint:',
      '  networking: { nodeSubnets: [{ subnet: nodes }] }\n  endpoint:',
    );
    const created = await r.api('POST', '/api/v1/clusters', { cluster: file });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await eventually(
      async () =>
        (await r.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/cc')).body.cluster.state ===
        'running',
      30_000,
      'cluster cc running',
    );
    kube.podRequests.set('w-1', { cpu: 3.5, memoryBytes: 6 * 2 ** 30 });
    kube.podRequests.set('w-2', { cpu: 1.5, memoryBytes: 2 * 2 ** 30 });
    await r.region.store.recordPowerReading(ids[1], Date.now() - 60_000, 240);
    ({ browser, close } = await launchChromium(r.region.tls?.certPem));
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    ctx.on('console', (m) => {
      if (/Content Security Policy/.test(m.text())) csp.push(m.text());
    });
    page = await ctx.newPage();
    await page.goto(r.url);
    await page.getByLabel('API token').fill(r.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Cost' }).waitFor();
  });
  after(async () => {
    await close();
    await r?.stop();
  });

  it('charts the region’s monthly cost per option and lists the figures behind it', async () => {
    await page.getByRole('link', { name: 'Cost' }).click();
    await page.waitForURL('**/cost');
    const api = await r.api<{
      region: { machines: number; measuredWatts: number; bareMetal: { total: number } };
    }>('POST', '/api/v1/cost', {});
    const chart = page.getByRole('img', { name: /^Monthly cost of the region: bare metal/ });
    await chart.waitFor();
    const label = (await chart.getAttribute('aria-label')) ?? '';
    const dollars = `$${Math.round(api.body.region.bareMetal.total).toLocaleString('en')}`;
    assert.ok(label.includes(`bare metal ${dollars}`), `${label} should show ${dollars}`);
    assert.match(label, /cloud VMs on-demand \$[\d,]+, cloud VMs 1y/);
    assert.equal((await chart.locator('rect').count()) > 4, true, 'stacked bars drawn');
    const byOption = page.getByRole('table', { name: 'Monthly cost by option' });
    await byOption.getByRole('row', { name: /^managed-kubernetes on-demand/ }).waitFor();
    assert.equal(api.body.region.measuredWatts, 1);
    await page.getByText(`${api.body.region.machines} machines`, { exact: false }).first().waitFor();
    await page.getByText(/Power from 1 machines’ BMC readings/).waitFor();
    await page
      .getByRole('table', { name: 'Monthly cost by pool' })
      .getByRole('row', { name: /^batch/ })
      .waitFor();
  });

  it('checks a Cluster file’s capacity per pool with the N+1 answer and a recommendation', async () => {
    await page.getByRole('button', { name: 'Check capacity' }).click();
    const pools = page.getByRole('table', { name: 'Capacity by pool' });
    const general = pools.getByRole('row', { name: /^general/ });
    await general.waitFor();
    assert.match((await general.textContent()) ?? '', /az\d: holds/);
    await page
      .getByRole('list', { name: 'Recommendations' })
      .getByText(/^pool general: survives losing zone/)
      .waitFor();
    assert.deepEqual(csp, []);
  });

  it('charts a running cluster’s capacity with the requests its API reports', async () => {
    await page.getByRole('button', { name: 'Check running cluster' }).click();
    // general: 2 workers × (16 threads, 32 GiB) = 32 CPU, 64 GiB; requested 3.5 + 1.5 = 5, 6 + 2 = 8;
    // both in z1, so losing it leaves 0: short
    const chart = page.getByRole('img', { name: /^Capacity of cluster cc: / });
    await chart.waitFor();
    assert.match(
      (await chart.getAttribute('aria-label')) ?? '',
      /general CPU allocatable 32, requested 5 \(short\), after losing zone z1 0; general GiB allocatable 64, requested 8 \(short\), after losing zone z1 0/,
    );
    assert.equal(await chart.locator('rect.cap-short').count(), 2);
    await page.getByText(/requests from kubernetes/).waitFor();
    await page.screenshot({ path: `${ROOT}docs/screenshots/cost.png`, fullPage: true });
    assert.deepEqual(csp, []);
  });
});
