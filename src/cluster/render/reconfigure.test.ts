import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { buildPlan } from '../plan/plan.ts';
import { generatePki } from '../pki/generate.ts';
import type { PkiMaterial } from '../pki/types.ts';
import { cluster, inventory } from '../testing.ts';
import { reconfigureScript, renderedApiServerFlags } from './reconfigure.ts';

describe('the control plane reconfigure script', () => {
  let pki: PkiMaterial;
  before(async () => {
    pki = await generatePki('kubeadm:cluster-admins');
  });

  const spec = cluster({ version: 'v1.20.2', apiServer: { extraArgs: { 'max-requests-inflight': '411' } } });
  const plan = buildPlan(spec, inventory(3, 1, 2));
  const cps = plan.nodes.filter((n) => n.role === 'control-plane');

  it("renders the Cluster file's extraArgs after Ingot's own flags", async () => {
    const flags = await renderedApiServerFlags(spec, plan, pki);
    assert.equal(flags['max-requests-inflight'], '411');
    assert.equal(flags.profiling, 'false', "Ingot's own flags stay");
    const over = cluster({ version: 'v1.20.2', apiServer: { extraArgs: { profiling: 'true' } } });
    assert.equal(
      (await renderedApiServerFlags(over, plan, pki)).profiling,
      'true',
      "the operator's value wins",
    );
  });

  it('gives kubeadm the node’s own endpoint and the new ClusterConfiguration; only the first control plane uploads it', async () => {
    const input = { spec, plan, pki, expect: { 'max-requests-inflight': '411' }, absent: ['gone-flag'] };
    const first = await reconfigureScript({ ...input, node: cps[0], first: true });
    const other = await reconfigureScript({ ...input, node: cps[1], first: false });
    assert.match(first, /kubeadm init phase upload-config kubeadm --config /);
    assert.doesNotMatch(other, /upload-config/);
    for (const [s, n] of [
      [first, cps[0]],
      [other, cps[1]],
    ] as const) {
      assert.match(s, /kubeadm init phase control-plane apiserver --config /);
      const cfg = s.slice(s.indexOf("<<'INGOT_EOF'\n") + 14, s.indexOf('\nINGOT_EOF'));
      const [init, cc] = parseAllDocuments(cfg).map((d) => d.toJS());
      assert.equal(init.kind, 'InitConfiguration');
      assert.equal(init.localAPIEndpoint.advertiseAddress, n.ip);
      assert.equal(init.bootstrapTokens, undefined, 'nothing joins: no bootstrap token on the node');
      assert.equal(cc.kind, 'ClusterConfiguration');
      assert.equal(cc.apiServer.extraArgs['max-requests-inflight'], '411');
      assert.match(s, /grep -qxF -- '--max-requests-inflight=411'/);
      assert.match(s, /grep -q -- '\^--gone-flag='/);
      assert.match(s, new RegExp(`https://${n.ip.replaceAll('.', '\\.')}:6443/healthz`));
    }
    // The script is valid sh.
    execFileSync('sh', ['-n'], { input: first });
  });
});
