/** `ingot cost` and `ingot capacity` as a user runs them: child processes against a real region. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runIngot } from './support/ingot-cli.ts';
import { newMachineBody, startTestRegion, type TestRegion } from './support/region.ts';
import { scratchDirs } from './support/scratch.ts';

describe('ingot cost and ingot capacity', () => {
  let r: TestRegion;
  const dir = scratchDirs()('ingot-cost-');
  const ingot = (args: string[]) => runIngot(args, { env: { ...r.cliEnv, XDG_CONFIG_HOME: r.dataDir } });

  before(async () => {
    r = await startTestRegion();
    await r.api('POST', '/api/v1/machines', newMachineBody({ hostname: 'c-1', pool: 'web' }));
    // A model whose price table is a file beside it: the CLI reads both and sends them.
    writeFileSync(
      join(dir, 'model.yaml'),
      'apiVersion: ingot.dev/v1alpha1\nkind: CostModel\nmetadata: {name: m}\nspec:\n  currency: EUR\n  classes: [{name: web, match: {pool: web}, price: 6000, amortisationMonths: 60}]\n  cloud: {priceTable: prices.yaml}\n',
    );
    writeFileSync(
      join(dir, 'prices.yaml'),
      'apiVersion: ingot.dev/v1alpha1\nkind: CloudPriceTable\nmetadata: {name: mine, date: "2026-11-30"}\nsources: [{name: our quote, url: "https://example.invalid/quote"}]\ncurrency: EUR\negressPerGB: 0.05\ncontrolPlaneFeePerHour: 0.1\ninstances: [{name: a, vcpus: 2, memoryGiB: 4, onDemandPerHour: 0.1}]\n',
    );
  });
  after(async () => r?.stop());

  it('prints CSV rows per scope and option with the model and table given', async () => {
    const res = await ingot(['cost', '--model', join(dir, 'model.yaml'), '--window', '7d', '-o', 'csv']);
    assert.equal(res.code, 0, res.err);
    const lines = res.out.trim().split('\n');
    assert.equal(
      lines[0],
      'scope,name,option,term,monthly,upfront,per_vcpu_month,per_gib_month,breakeven_month,machines',
    );
    // 6000 / 60 = 100 amortisation + 6000 × 8 / 100 / 12 = 40 support + 350 W nominal × 0.73 × 0.15 × 1.5
    // = 57.4875 power + 15 space = 212.4875
    assert.ok(lines.includes('region,region,bare-metal,,212.4875,6000,,,,1'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('pool,web,cloud-vms,on-demand,')));
  });

  it('-f MODEL --csv prints what POST /api/v1/cost/csv answers (text/csv); --csv with --json is refused', async () => {
    const cli = await ingot(['cost', '-f', join(dir, 'model.yaml'), '--window', '7d', '--csv']);
    assert.equal(cli.code, 0, cli.err);
    const res = await r.fetch(`${r.url}/api/v1/cost/csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${r.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        windowDays: 7,
        model: readFileSync(join(dir, 'model.yaml'), 'utf8'),
        priceTable: readFileSync(join(dir, 'prices.yaml'), 'utf8'),
      }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(await res.text(), cli.out);
    // the same 212.4875 as worked out above
    assert.ok(cli.out.includes('region,region,bare-metal,,212.4875,6000,,,,1'));
    const json = await ingot(['cost', '-f', join(dir, 'model.yaml'), '--json']);
    assert.equal(JSON.parse(json.out).region.bareMetal.total, 212.4875);
    const both = await ingot(['cost', '--csv', '--json']);
    assert.equal(both.code, 2);
    assert.match(both.err, /--csv/);
  });

  it('prints a table naming the table used and the machine no instance fits', async () => {
    const res = await ingot(['cost', '--model', join(dir, 'model.yaml')]);
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /Prices: mine \(2026-11-30\); BMC power averaged over 30 days/);
    assert.match(res.out, /unfit: c-1: not inventoried/);
    assert.match(res.out, /power from 0 measured \/ 1 nominal/);
  });

  it('refuses a bad window with exit 2, naming the option', async () => {
    const res = await ingot(['cost', '--window', '30x']);
    assert.equal(res.code, 2);
    assert.match(res.err, /--window: "30x" is not a window/);
  });

  it('refuses a Cluster file that cannot be planned with exit 2 and the planner’s reason', async () => {
    writeFileSync(
      join(dir, 'cluster.yaml'),
      'apiVersion: ingot.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n  endpoint: {address: 10.0.0.10}\n',
    );
    const res = await ingot(['capacity', '-f', join(dir, 'cluster.yaml')]);
    assert.equal(res.code, 2, res.err);
    assert.match(res.err, /needs 3 control-plane machines/);
  });
});
