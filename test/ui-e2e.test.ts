/**
 * The web console end to end: Debian's chromium (playwright-core) against a real region
 * serving ui/dist, with seeded machines, subnets and a real failed commission. Screenshots of
 * each main view go to docs/screenshots/ (linked from the README).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type Emulator, startEmulator } from '../src/bmc/emulator/index.ts';
import { AgentTask } from '../src/core/agent-protocol.ts';
import { consoleLogPath } from '../src/host/console-log.ts';
import type { AgentPort } from '../src/engine/agent-port.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { SAMPLE_CLUSTER } from '../ui/src/clusters/sample.ts';
import { ensureUiBuilt, launchChromium } from './support/browser.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';
import { seedMachines, seedSubnets } from './support/ui-seed.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

/** The simulated agent, except that machines named bad-* fail their hardware tests. */
class LabAgent implements AgentPort {
  readonly ok = new FakeAgent();
  readonly failing = new FakeAgent({
    failTasks: { [AgentTask.Tests]: 'memtest: 2 errors on DIMM B2 (slot 6); replace the DIMM' },
  });
  task: AgentPort['task'] = (m, job, task) =>
    (m.hostname.startsWith('bad-') ? this.failing : this.ok).task(m, job, task);
}

/** A lab machine's serial output as QEMU logs it: iPXE, then Linux, with terminal escapes. */
function bootLog(): string {
  const lines = [
    '\x1b[2J\x1b[01;01HSeaBIOS (version 1.16.3-debian-1.16.3-2)',
    'iPXE (https://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+BEFCB000+BEF0B000 CA00',
    '\x1b[1miPXE 1.21.1+ (g4bd064de)\x1b[0m -- Open Source Network Boot Firmware',
    'net0: 52:54:00:00:00:01 using virtio-net on 0000:00:03.0 (Ethernet) [open]',
    'Configuring (net0 52:54:00:00:00:01).................. ok',
    'http://10.20.0.1:8081/boot/52-54-00-00-00-01.ipxe... ok',
    'http://10.20.0.1:8081/artifacts/vmlinuz... ok',
    'http://10.20.0.1:8081/artifacts/initrd.img... ok',
  ];
  for (let i = 0; i < 48; i++) {
    lines.push(`[    ${(i * 0.0213).toFixed(6)}] kernel: boot step ${i + 1} of the ephemeral OS`);
  }
  lines.push('[    1.204118] Run /init as init process', 'ingot-agent: hello sent, INGOT-PHONEHOME-OK');
  return `${lines.join('\r\n')}\r\n`;
}

interface Machine {
  id: string;
  hostname: string;
  state: string;
  powerState: string;
}

describe('web console', { timeout: 90_000 }, () => {
  let r: TestRegion;
  let browser: Browser;
  let closeBrowser: () => Promise<void> = async () => {};
  let ctx: BrowserContext;
  let page: Page;
  let ids: string[] = [];
  let bad: Machine;
  let viewerToken = '';
  let emu: Emulator;

  const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}.png` });
  /** Everything the browser refused under the region's Content-Security-Policy. */
  const cspViolations: string[] = [];
  const watchCsp = (c: BrowserContext) => {
    void c.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
      ),
    );
    c.on('console', (m) => {
      if (/CSP violation|Content Security Policy/.test(m.text())) cspViolations.push(m.text());
    });
  };
  const byHost = async (hostname: string) => {
    const res = await r.api<{ items: Machine[] }>('GET', `/api/v1/machines?q=${hostname}`);
    return res.body.items.find((m) => m.hostname === hostname)!;
  };

  before(async () => {
    await ensureUiBuilt(ROOT);
    mkdirSync(SHOTS, { recursive: true });
    // A virtual Redfish BMC for the machine whose sensors the page charts.
    emu = await startEmulator({ systems: 1, username: 'admin', password: 'emu-pass-1' });
    r = await startTestRegion({ agent: new LabAgent() });
    ids = await seedMachines(r.region.store, { machines: 48 });
    await seedSubnets(r.region.store, ids);
    // A real failed commission, through the API and the engine.
    const created = await r.api<Machine>('POST', '/api/v1/machines', {
      hostname: 'bad-dimm-01',
      bmc: { address: 'fake://bad-dimm-01', username: 'admin', password: 'bmc-pass-1' },
      nics: [{ mac: '52:54:00:bd:00:01' }],
      zone: 'az1',
      rack: 'r01',
      tags: ['gpu'],
    });
    await r.api('POST', `/api/v1/machines/${created.body.id}/actions/commission`, {});
    bad = await eventually(
      async () => {
        const m = (await r.api<Machine>('GET', `/api/v1/machines/${created.body.id}`)).body;
        return m.state === 'failed_commissioning' ? m : null;
      },
      20_000,
      'the bad machine to fail commissioning',
    );
    const viewer = await r.api<{ secret: string }>('POST', '/api/v1/tokens', {
      name: 'watcher',
      role: 'viewer',
    });
    viewerToken = viewer.body.secret;
    ({ browser, close: closeBrowser } = await launchChromium(r.region.tls?.certPem));
    ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
    watchCsp(ctx);
    page = await ctx.newPage();
  });

  after(async () => {
    await closeBrowser();
    await r?.stop();
    await emu?.close();
  });

  it('serves the console at / and refuses a wrong token on the sign-in form', async () => {
    await page.goto(r.url);
    await page.getByLabel('API token').waitFor();
    await page.getByLabel('API token').fill('ingot_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'unknown, revoked or expired' }).waitFor();
    await page.getByLabel('API token').fill('');
    await shot('sign-in');
  });

  it('signs in with the admin token and lists every machine', async () => {
    await page.getByLabel('API token').fill(r.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('49 machines').waitFor();
    assert.equal(new URL(page.url()).pathname, '/machines');
    await page.getByRole('row', { name: 'node-000' }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await shot('machines');
  });

  it('keeps filters in the URL and survives a reload', async () => {
    await page.getByLabel('Search').fill('node-01');
    await page.waitForURL(/q=node-01/);
    await page.getByText('10 machines').waitFor();
    await page.goto(`${r.url}/machines?state=broken,failed_commissioning`);
    await page.getByText('6 machines').waitFor();
    await page.getByRole('row', { name: 'bad-dimm-01' }).waitFor();
    assert.equal(await page.getByRole('row', { name: 'node-000' }).count(), 0);
  });

  it('opens a machine from the keyboard and shows where its boot stopped', async () => {
    const row = page.getByRole('row', { name: 'bad-dimm-01' });
    await row.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/machines/${bad.id}`);
    await page.getByRole('heading', { name: 'bad-dimm-01' }).waitFor();
    const stopped = page.getByRole('alert').filter({ hasText: 'Boot stopped at Tasks' });
    await stopped.waitFor();
    assert.match((await stopped.textContent()) ?? '', /DIMM B2/);
    await page.getByText('No console log yet').waitFor();
    await page.getByText('No sensor readings: this BMC does not report them.').waitFor();
  });

  it('charts the sensors of a machine with a virtual Redfish BMC and follows them live', async () => {
    const created = await r.api<Machine>('POST', '/api/v1/machines', {
      hostname: 'redfish-01',
      bmc: { address: emu.address('sys-0001'), username: 'admin', password: 'emu-pass-1' },
      nics: [{ mac: emu.systems.get('sys-0001')!.macs[0] }],
      zone: 'az1',
      rack: 'r02',
      pool: 'lab',
    });
    assert.equal(created.status, 201);
    const id = created.body.id;
    try {
      // Commissioned through the engine and the emulator: it ends ready and powered off.
      await r.api('POST', `/api/v1/machines/${id}/actions/commission`, {});
      await eventually(
        async () => (await r.api<Machine>('GET', `/api/v1/machines/${id}`)).body.state === 'ready',
        20_000,
        'redfish-01 to be commissioned',
      );
      // Its serial console where a lab machine's is logged (src/host/console-log.ts).
      const log = consoleLogPath(r.dataDir, id);
      mkdirSync(dirname(log), { recursive: true });
      writeFileSync(log, bootLog());
      await page.goto(`${r.url}/machines/${id}`);
      await page.getByRole('heading', { name: 'redfish-01' }).waitFor();
      const consoleLog = page.getByRole('log', { name: 'Serial console output' });
      await consoleLog.getByText(/Run \/init as init process/).waitFor();
      const shown = (await consoleLog.textContent()) ?? '';
      assert.ok(!shown.includes('\u001b') && !shown.includes('\r'), 'escapes and CRs are removed');
      const sensors = page.getByRole('region', { name: 'Sensors' });
      const cpu = sensors.getByRole('row', { name: /^CPU temperature/ });
      await cpu.getByText('24 °C').waitFor();
      for (const [name, value] of [
        ['Inlet temperature', '22 °C'],
        ['Fan 1', '0 RPM'],
        ['System input power', '9 W'],
        ['12V rail', '12.05 V'],
      ]) {
        await sensors
          .getByRole('row', { name: new RegExp(`^${name}`) })
          .getByText(value)
          .waitFor();
      }
      await sensors.getByText('System health: OK').waitFor();
      // Power on from the page: the next poll (every 10 s) reads the hot CPU, without a reload.
      await page.getByRole('button', { name: 'Power on' }).click();
      await cpu.getByText('52 °C').waitFor({ timeout: 25_000 });
      await sensors
        .getByRole('row', { name: /^Fan 1/ })
        .getByText('5,400 RPM')
        .waitFor();
      assert.match(
        (await cpu.getByRole('img').getAttribute('aria-label')) ?? '',
        /^CPU temperature: \d+ readings since the page opened, from 24 °C to 52 °C, latest 52 °C$/,
      );
      // Powered on, the console is followed: new output shows up, scrolled into view.
      appendFileSync(log, '\r\nDebian GNU/Linux 13 redfish-01 ttyS0\r\n\r\nredfish-01 login: ');
      await consoleLog.getByText('redfish-01 login:').waitFor({ timeout: 10_000 });
      const atEnd = await consoleLog.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
      assert.ok(atEnd, 'the console stays scrolled to the end');
      await shot('machine');
      // The health poller's history (docs/health.md): two polls, on, then with a failed fan.
      await r.region.healthPoller!.pollOnce();
      emu.systems.get('sys-0001')!.hardware.fanFailed = true;
      await new Promise((res) => setTimeout(res, 5));
      await r.region.healthPoller!.pollOnce();
      emu.systems.get('sys-0001')!.hardware.fanFailed = false;
      await page.reload();
      const health = page.getByRole('region', { name: 'Health history' });
      await health.getByText(/^\d+ polls in the last 24 h/).waitFor();
      assert.match(
        (await health.getByRole('img', { name: /^Hottest temperature/ }).getAttribute('aria-label')) ?? '',
        /^Hottest temperature: \d+ readings over the last 24 h, from \d+ °C to 52 °C, latest 52 °C$/,
      );
      await health.getByRole('img', { name: /^Power draw: .* latest 185 W$/ }).waitFor();
      await health.getByText(/No SMART reports yet: commissioning reads the disks/).waitFor();
    } finally {
      await r.api('DELETE', `/api/v1/machines/${id}`);
    }
  });

  it('runs an action and shows the machine change live, without a reload', async () => {
    const target = await byHost('node-005'); // new
    await page.goto(`${r.url}/machines/${target.id}`);
    await page.getByRole('heading', { name: 'node-005' }).waitFor();
    let reloaded = false;
    page.once('load', () => {
      reloaded = true;
    });
    await page.getByRole('button', { name: 'Commission' }).click();
    await page.getByRole('status').filter({ hasText: 'Commission: accepted' }).waitFor();
    // The simulated agent finishes at once: the state goes commissioning → ready via the stream.
    await page.locator('.page-head .badge', { hasText: 'Ready' }).waitFor({ timeout: 15_000 });
    await page.getByText('24 cores').or(page.getByText('8 cores')).first().waitFor();
    assert.equal(reloaded, false);
  });

  it('runs a bulk action and reports per-machine results', async () => {
    await page.goto(`${r.url}/machines?zone=az2&pool=batch`);
    await page.getByText(/^\d+ machines$/).waitFor();
    await page.getByRole('checkbox', { name: 'Select all machines' }).check();
    const n = await page
      .getByRole('row')
      .filter({ has: page.getByRole('checkbox', { checked: true }) })
      .count();
    await page.getByRole('button', { name: /^Power on/ }).click();
    const summary = page.getByRole('status').filter({ hasText: 'power-on:' });
    await summary.waitFor();
    const text = (await summary.textContent()) ?? '';
    // Retired machines refuse power actions: the summary names how many and why.
    assert.match(text, /power-on: accepted for \d+, failed for \d+ machines?: cannot power-on/);
    assert.ok(n > 2);
  });

  it('updates a row in place when another client acts on the machine', async () => {
    const target = await byHost('node-000'); // ready, power off
    await page.goto(`${r.url}/machines?q=node-000`);
    const row = page.getByRole('row', { name: 'node-000' });
    await row.getByText('Off', { exact: true }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await r.api('POST', `/api/v1/machines/${target.id}/actions/power-on`, {});
    await row.getByText('On', { exact: true }).waitFor({ timeout: 10_000 });
  });

  it('shows racks by zone with state codes and the subnets with their addresses', async () => {
    await page.getByRole('link', { name: 'Racks' }).click();
    await page.getByRole('heading', { name: /Zone az1/ }).waitFor();
    await page.getByRole('link', { name: /bad-dimm-01: Failed commissioning/ }).waitFor();
    await shot('racks');
    // The heat map: a fake:// BMC reports no sensors, so the poller has nothing for it, and says so.
    await page.getByLabel('Colour by').selectOption('temperature');
    await page.getByRole('link', { name: 'bad-dimm-01: no health poll yet' }).waitFor();
    await page.getByText(/Hottest sensor per machine in °C/).waitFor();
    await page.getByLabel('Colour by').selectOption('state');
    await page.getByRole('link', { name: 'Subnets' }).click();
    await page.getByRole('link', { name: 'provisioning' }).click();
    await page.waitForURL(/subnet=/);
    await page.getByRole('heading', { name: /provisioning/ }).waitFor();
    await page.getByText('10.20.1.0').first().waitFor();
    await page.getByRole('heading', { name: /DHCP leases \(8\)/ }).waitFor();
    await shot('subnets');
  });

  it('plans a Cluster file by failure domain, with every problem of a bad one and what survives each loss', async () => {
    await page.getByRole('link', { name: 'Clusters' }).click();
    await page.waitForURL('**/clusters');
    const editor = page.getByLabel('Cluster file (YAML)');
    assert.equal(await editor.inputValue(), SAMPLE_CLUSTER);
    // A broken file first: every problem at once, each with its path.
    await editor.fill(
      SAMPLE_CLUSTER.replace('name: sample', 'name: Sample_1').replace(
        /count: 3( +# 1, 3 or 5)/,
        'count: 2$1',
      ),
    );
    await page.getByRole('button', { name: 'Plan' }).click();
    const problems = page.getByRole('alert').filter({ hasText: 'The Cluster file has problems' });
    await problems.waitFor();
    const listed = await problems.getByRole('listitem').allTextContents();
    assert.ok(
      listed.some((t) => t.startsWith('metadata.name: ')),
      listed.join('\n'),
    );
    assert.ok(listed.includes('spec.controlPlane.count: must be one of 1, 3, 5'), listed.join('\n'));
    // The sample as shipped plans onto the seeded ready machines, from the keyboard.
    await page.getByRole('button', { name: 'Reset to sample' }).click();
    await editor.press('Control+Enter');
    await page.getByRole('heading', { name: /Cluster sample/ }).waitFor();
    const api = await r.api<{ plan: { nodes: { hostname: string; zone: string; role: string }[] } }>(
      'POST',
      '/api/v1/clusters/plan',
      { cluster: SAMPLE_CLUSTER },
      viewerToken,
    );
    assert.equal(api.status, 200);
    const cps = api.body.plan.nodes.filter((n) => n.role === 'control-plane');
    assert.equal(new Set(cps.map((n) => n.zone)).size, 3, 'control planes in three zones');
    for (const n of api.body.plan.nodes) {
      const zone = page.getByRole('table', { name: `Nodes in zone ${n.zone}, by rack` });
      await zone.getByRole('link', { name: n.hostname, exact: true }).waitFor();
    }
    const whatIf = page.getByRole('table', { name: /each zone and rack/ });
    for (const zone of ['az1', 'az2', 'az3']) {
      const row = whatIf.getByRole('row', { name: new RegExp(`^Zone ${zone}`) });
      assert.match((await row.textContent()) ?? '', /2 of 3.*kept.*up/);
    }
    await page.getByRole('alert').waitFor({ state: 'detached' });
    await page.screenshot({ path: `${SHOTS}clusters.png`, fullPage: true });
  });

  it('shows a viewer no action buttons', async () => {
    const viewer = await browser.newContext({ viewport: { width: 1366, height: 800 } });
    try {
      watchCsp(viewer);
      const p = await viewer.newPage();
      await p.goto(r.url);
      await p.getByLabel('API token').fill(viewerToken);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('row', { name: 'node-000' }).waitFor();
      assert.equal(await p.getByRole('button', { name: /^Commission/ }).count(), 0);
      assert.equal(await p.getByRole('checkbox').count(), 0);
      await p.goto(`${r.url}/machines/${bad.id}`);
      await p.getByRole('heading', { name: 'Boot' }).waitFor();
      assert.equal(await p.getByRole('heading', { name: 'Actions' }).count(), 0);
      assert.equal(await p.getByRole('button', { name: 'Power on' }).count(), 0);
    } finally {
      await viewer.close();
    }
  });

  it('renders only the visible rows of 2,000 machines and reaches the last with End', async () => {
    await seedMachines(r.region.store, { machines: 1951, prefix: 'bulk', zones: 4, racksPerZone: 10 });
    // The pages after the first arrive late, as on a slow link: End lands on a row still loading,
    // and the focus must follow it when its machine arrives (it fell to the body once, under load).
    const later = /\/api\/v1\/machines\?.*cursor=/;
    await page.route(later, async (route) => {
      await sleep(1500);
      await route.continue().catch(() => undefined);
    });
    try {
      await page.goto(`${r.url}/machines`);
      await page.getByText('2,000 machines').waitFor();
      const rendered = await page.locator('[role=row][data-index]').count();
      assert.ok(rendered < 80, `${rendered} rows in the DOM`);
      await page.getByRole('row', { name: 'node-000' }).focus();
      await page.keyboard.press('End');
      await page.getByRole('row', { name: 'bulk-1950' }).waitFor();
    } finally {
      await page.unroute(later);
    }
    // Focus moves to the last row once the virtualiser has mounted it: wait for that, then check.
    await page
      .waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'bulk-1950', undefined, {
        timeout: 30_000,
      })
      .catch(() => undefined);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'bulk-1950');
  });

  it('works under the region’s Content-Security-Policy: the browser refused nothing on any page', async () => {
    const res = await page.goto(`${r.url}/machines`);
    assert.match((await res?.headerValue('content-security-policy')) ?? '', /script-src 'self'/);
    await page.getByRole('row', { name: 'node-000' }).waitFor();
    assert.deepEqual(cspViolations, []);
  });
});
