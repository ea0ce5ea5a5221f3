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
import { startTestRegion, type TestRegion } from './support/region.ts';
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
    r = await startTestRegion();
    const ids = await seedMachines(r.region.store, { machines: 24 });
    await seedSubnets(r.region.store, ids);
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
    await page.screenshot({ path: `${ROOT}docs/screenshots/cost.png`, fullPage: true });
    assert.deepEqual(csp, []);
  });
});
