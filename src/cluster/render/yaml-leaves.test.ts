import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toYamlByLeaves, toYamlStreamByLeaves } from './yaml-leaves.ts';
import { yamlTemplates } from './yaml-template.ts';
import { toYaml, toYamlStream } from './yaml.ts';

describe('YAML documents through their leaves', () => {
  const peer = (address: string, asn: unknown, over: Record<string, unknown> = {}) => ({
    kind: 'CiliumBGPPeerConfig',
    metadata: { name: `peer-${address}`, labels: { 'ingot.dev/rack': 'r1' } },
    spec: {
      peerAddress: address,
      peerASN: asn,
      families: [{ afi: 'ipv4', safi: 'unicast', enabled: true, none: null }],
      empty: [],
      nothing: {},
      notes: 'line one\n  line two\n',
      skipped: undefined,
    },
    ...over,
  });

  it('writes every object as a plain render does, and repeated objects through one template', () => {
    const cache = yamlTemplates();
    const values = [
      peer('10.0.14.1', 65001),
      peer('10.0.14.2', 65002),
      // Leaves a YAML 1.1 reader would misread come back quoted; floats and big numbers as the library writes them.
      peer('on', '65003'),
      peer('10.0.14.4', 0.5),
      peer('10.0.14.5', 1e21),
      peer('', -7),
      peer(' leading space', "it's"),
      peer('#comment', '52:54:00:12:34:56'),
      peer('10.0.14.9', 65009, { list: [['nested', 1], [], [{ a: 'b' }]] }),
    ];
    for (const v of values) assert.equal(toYamlByLeaves(v, cache), toYaml(v), String(v.spec.peerAddress));
    // Objects that differ only in leaves (strings, numbers) share one template.
    const shared = yamlTemplates();
    for (const v of values.slice(0, 2)) toYamlByLeaves(v, shared);
    assert.equal(shared.skeletons.size, 1);
  });

  it('falls back to the plain render where a template could change the text', () => {
    const cache = yamlTemplates();
    const cases: unknown[] = [
      peer('--- a document marker', 1),
      peer('IngotvarL0Q', 1),
      peer('10.0.14.1', -0),
      peer('10.0.14.1', Number.NaN),
      peer('10.0.14.1', 1, { list: [undefined] }),
      peer('10.0.14.1', 1, { when: new Date(0) }),
      { 'IngotvarL0Q key': 'x' },
      'a bare string',
      42,
    ];
    for (const v of cases) assert.equal(toYamlByLeaves(v, cache), toYaml(v));
  });

  it('writes a stream of documents as a plain stream, with templates or without', () => {
    const values = [peer('10.0.14.1', 65001), peer('10.0.14.2', 65002), { kind: 'Secret', data: 'a\nb' }];
    assert.equal(toYamlStreamByLeaves(values, yamlTemplates()), toYamlStream(values));
    assert.equal(toYamlStreamByLeaves(values, undefined), toYamlStream(values));
  });
});
