import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildPlan } from '../plan/plan.ts';
import { caCertHash, generatePki } from '../pki/generate.ts';
import { PKI_FILES, type PkiMaterial } from '../pki/types.ts';
import { cluster, inventory } from '../testing.ts';
import { userData } from './cloud-init.ts';
import type { NodeFile, RenderContext } from './context.ts';
import { networkConfig } from './host.ts';
import { nodeFiles, sharedFiles } from './node-files.ts';
import { clusterManifests } from './addons/index.ts';
import { scalarYaml, toYamlOf, yamlTemplates } from './yaml-template.ts';
import { toYaml } from './yaml.ts';

let pki: PkiMaterial;
const secrets = new Map([['tor', 'pw']]);

/** Mixed plans: every role, init and joiners, kube-vip, external etcd, k3s, bonds with a VLAN. */
const specs: Record<string, Record<string, unknown>> = {
  stacked: { controlPlane: { count: 3 }, workers: [{ name: 'general', count: 9 }] },
  'external etcd, v1.20': {
    version: 'v1.20.2',
    etcd: { topology: 'external', count: 3 },
    controlPlane: { count: 3 },
    workers: [{ name: 'general', count: 5 }],
  },
  k3s: { distribution: 'k3s', controlPlane: { count: 3 }, workers: [{ name: 'general', count: 4 }] },
  'bond and node VLAN, cilium': {
    networking: { bond: { members: [] }, vlans: [{ id: 20, node: true }], cni: { plugin: 'cilium' } },
    controlPlane: { count: 3 },
    workers: [{ name: 'general', count: 9 }],
  },
};

describe('YAML templates', () => {
  before(async () => {
    pki = await generatePki('kubeadm:cluster-admins', new Date('2026-12-03T00:00:00Z'));
  });

  for (const [name, spec] of Object.entries(specs)) {
    it(`render every node's user-data, network-config and files exactly as a plain YAML render does (${name})`, async () => {
      const c = cluster(spec);
      const plan = buildPlan(c, inventory(3, 2, 4));
      const plain: RenderContext = {
        spec: c,
        plan,
        pki,
        secrets,
        caHash: await caCertHash(pki.files[PKI_FILES.ca]),
        minor: Number(c.spec.version.split('.')[1]),
        joinToken: { token: 'abcdef.0123456789abcdef', ttlSeconds: 3600 },
        bootstrapBy: 'agent',
      };
      const templated: RenderContext = { ...plain, yaml: yamlTemplates() };
      const shared = sharedFiles(plain, clusterManifests(plain));
      assert.ok(plan.nodes.some((n) => n.init) && plan.nodes.some((n) => n.role === 'worker'));
      for (const node of plan.nodes) {
        const want = nodeFiles(plain, node, shared);
        const got = nodeFiles(templated, node, shared);
        // Files in pieces (NodeFile.pieces) are their content cut where it was made: compared
        // by content, and the pieces must give it back.
        for (const f of [...got, ...want])
          if (f.pieces) assert.equal(f.pieces.join(''), f.content, `${node.hostname}'s ${f.path} pieces`);
        const bare = (fs: NodeFile[]) => fs.map(({ path, content, mode }) => ({ path, content, mode }));
        assert.deepEqual(bare(got), bare(want), `${node.hostname}'s files`);
        assert.equal(
          userData(templated, node, got),
          userData(plain, node, want),
          `${node.hostname}'s user-data`,
        );
        assert.equal(
          networkConfig(templated, node),
          networkConfig(plain, node),
          `${node.hostname}'s network-config`,
        );
      }
    });
  }

  it('shares one template between documents that differ only by node strings, quoted or not', () => {
    const cache = yamlTemplates();
    const doc = (host: string, mac: string, ip: string) => ({
      name: host,
      mac,
      args: [`--node-ip=${ip}`, `--hostname-override=${host}`],
      script: `#!/bin/sh\necho ${host} at ${ip}\n`,
      fixed: 'the same everywhere',
    });
    const a = doc('w-1', '52:54:00:00:00:01', '10.0.0.11');
    const b = doc('on', '52:54:00:00:00:02', '10.0.0.12');
    assert.equal(toYamlOf(a, ['w-1', '52:54:00:00:00:01', '10.0.0.11'], cache), toYaml(a));
    // `on` is a YAML 1.1 boolean and MACs are sexagesimal numbers: both come back quoted.
    assert.equal(toYamlOf(b, ['on', '52:54:00:00:00:02', '10.0.0.12'], cache), toYaml(b));
    assert.match(toYaml(b), /name: "on"/);
    assert.equal(cache.docs.size, 1);
  });

  it('falls back to a plain render when a key, or the text itself, holds a node string or a token', () => {
    const cache = yamlTemplates();
    const keyed = { ethernets: { 'eth-w1': { mtu: 9000 } }, host: 'w1' };
    assert.equal(toYamlOf(keyed, ['w1'], cache), toYaml(keyed));
    const tokenLike = { a: 'Ingotvar0Q', host: 'w1' };
    assert.equal(toYamlOf(tokenLike, ['w1'], cache), toYaml(tokenLike));
    const notAWord = { host: 'w 1', x: 'w 1 here' };
    assert.equal(toYamlOf(notAWord, ['w 1'], cache), toYaml(notAWord));
    assert.equal(cache.docs.size, 0);
  });

  it('writes names, IPv4 addresses, CIDRs and MACs as the YAML library does, quoted or not', () => {
    const cache = yamlTemplates();
    for (const s of ['w-001', 'yes', 'no', 'on', 'off', 'y', 'n', 'null', 'true', '10.0.0.5', '10.0.0.0/20'])
      assert.equal(scalarYaml(s, cache), toYaml(s), s);
    for (const s of ['52:54:0a:00:00:01', 'fa:16:3e:00:00:01', '00:00:00:00:00:0f', '52:54:00:12:34:56'])
      assert.equal(scalarYaml(s, cache), toYaml(s), s);
    // MACs of every kind: hex letters, all digits with segments over and under 60.
    for (let i = 0; i < 3000; i++) {
      const hex = (i * 2654435761) % 2 ** 32;
      const digits = [hex % 100, (hex >> 7) % 100, (hex >> 14) % 100, i % 100];
      const mac =
        i % 2
          ? `52:54:${[hex >>> 24, hex >>> 16, hex >>> 8, hex].map((b) => (b & 255).toString(16).padStart(2, '0')).join(':')}`
          : `52:54:${digits.map((d) => String(d).padStart(2, '0')).join(':')}`;
      assert.equal(scalarYaml(mac, cache), toYaml(mac), mac);
    }
    for (const s of ['1:20', '0600', '1e3', '~', 'a: b', '- x'])
      assert.equal(scalarYaml(s, cache), toYaml(s), s);
    // Words of letters, digits and `._/-` starting with a letter; booleans and null in any case.
    const words = [
      'apps/v1',
      'ingot.dev/rack',
      'CiliumBGPPeerConfig',
      'v1.34.1',
      'x.',
      'a/',
      'b-',
      '/',
      '/etc/kubernetes/pki/ca.crt',
      '//x',
      '/-',
      '/.',
    ];
    // A bare exponent is a YAML 1.1 float to the library: quoted.
    const exponents = ['e1', 'E5', 'e-3', 'E+12', 'e1x', 'eth0'];
    const bools = [
      'Yes',
      'YES',
      'True',
      'TRUE',
      'On',
      'ON',
      'Off',
      'OFF',
      'No',
      'NO',
      'Y',
      'N',
      'Null',
      'NULL',
      'nO',
    ];
    // Text starting with a letter: plain unless an indicator, `: `, ` #`, a last space or colon,
    // a control character or a document marker after a JavaScript line break (U+2028) says otherwise.
    const texts = [
      "It's a node",
      'yes no',
      'a b:c',
      'a: b',
      'a #b',
      'a#b',
      'x ',
      'x:',
      'a %',
      'a\u2028%',
      'a\u2028--- b',
      'a\x01b',
      'e1 x',
    ];
    for (const s of [...words, ...exponents, ...bools, ...texts, 'inf', 'nan', 'NaN', '.inf', 'x:y', 'x#y'])
      assert.equal(scalarYaml(s, cache), toYaml(s), s);
  });
});
