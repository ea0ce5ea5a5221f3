import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Nic } from '../../core/machine.ts';
import { buildPlan } from '../plan/plan.ts';
import type { Plan, PlannedNode } from '../plan/types.ts';
import type { PkiMaterial } from '../pki/types.ts';
import { cluster, inventory } from '../testing.ts';
import type { RenderContext } from './context.ts';
import { networkConfig } from './host.ts';
import { networkTemplates, nodeNetworkConfig } from './network-template.ts';
import { yamlTemplates } from './yaml-template.ts';

function context(spec: Record<string, unknown>, plan: Plan): RenderContext {
  return {
    spec: cluster(spec),
    plan,
    pki: {} as PkiMaterial,
    secrets: new Map(),
    caHash: 'sha256:0123',
    minor: 34,
    joinToken: { token: 'abcdef.0123456789abcdef', ttlSeconds: 3600 },
    yaml: yamlTemplates(),
  };
}

/** NIC layouts by node: one, two in either MAC order, a MAC the YAML library quotes, equal MACs, unnamed. */
const layouts: ((i: number) => Nic[])[] = [
  (i) => [{ mac: `52:54:00:00:${hex(i)}:01`, boot: true, name: 'eno1' }],
  (i) => [
    { mac: `52:54:00:00:${hex(i)}:01`, boot: true, name: 'eno1' },
    { mac: `52:54:00:00:${hex(i)}:02`, boot: false, name: 'eno2' },
  ],
  (i) => [
    { mac: `52:54:00:00:${hex(i)}:02`, boot: true, name: 'eno1' },
    { mac: `52:54:00:00:${hex(i)}:01`, boot: false, name: 'eno2' },
  ],
  (i) => [{ mac: `52:54:00:12:${String(i % 60).padStart(2, '0')}:56`, boot: true, name: 'eno1' }],
  () => [
    { mac: '52:54:00:00:aa:01', boot: true, name: 'eno1' },
    { mac: '52:54:00:00:aa:01', boot: false, name: 'eno2' },
  ],
  (i) => [
    { mac: `52:54:00:00:${hex(i)}:01`, boot: true },
    { mac: `52:54:00:00:${hex(i)}:03`, boot: false },
  ],
];
const hex = (i: number) => (i % 256).toString(16).padStart(2, '0');

/** The plan's nodes given each NIC layout in turn, some with DNS servers and no gateway. */
function varied(plan: Plan): Plan {
  const nodes = plan.nodes.map(
    (n, i): PlannedNode => ({
      ...n,
      nics: layouts[i % layouts.length](i),
      ...(i % 4 === 3 ? { gateway: null, dns: ['10.0.0.53'] } : {}),
    }),
  );
  return { ...plan, nodes };
}

describe('network-configs from network templates', () => {
  const networks: [string, Record<string, unknown>][] = [
    ['no bond', {}],
    ['a bond', { bond: { members: [] } }],
    [
      'an active-backup bond of eno1 and eno2',
      { bond: { members: ['eno1', 'eno2'], mode: 'active-backup' } },
    ],
    ['a node VLAN on a bond', { bond: { members: [] }, vlans: [{ id: 20, node: true }] }],
    ['a node VLAN on the boot NIC', { vlans: [{ id: 30, node: true }] }],
  ];
  for (const [name, networking] of networks) {
    it(`gives each node the network-config its own document gives (${name})`, () => {
      const spec = { controlPlane: { count: 3 }, workers: [{ name: 'general', count: 21 }], networking };
      const plan = varied(buildPlan(cluster(spec), inventory(3, 2, 4)));
      const ctx = context(spec, plan);
      const ref = context(spec, plan);
      for (const node of plan.nodes)
        assert.equal(nodeNetworkConfig(ctx, node), networkConfig(ref, node), node.hostname);
      // Seven classes have templates (the layout with equal MACs is rendered node by node):
      // layouts 0 and 3 (a quoted MAC) are one class, layouts 1, 3 and 5 are also met without
      // a gateway.
      const t = networkTemplates(ctx);
      assert.equal([...t.values()].filter((x) => x !== null).length, 7);
      assert.equal(t.size, 7);
    });
  }
});
