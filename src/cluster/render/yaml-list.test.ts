import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ListItem, toYamlWithList } from './yaml-list.ts';
import { yamlTemplates } from './yaml-template.ts';
import { toYaml } from './yaml.ts';

const file = (path: string, content: string, mode = 0o600): ListItem => ({
  value: { path, content, owner: 'root:root', permissions: `0${mode.toString(8)}` },
  content,
  id: `${path}\n${mode}`,
});

describe('YAML lists through item shapes', () => {
  it('writes per-node items as a plain render does, whether a shape of their id fits or not', () => {
    const cache = yamlTemplates();
    const shared = 'the same\nfor every node\n';
    for (const [host, ip, extra] of [
      ['w-1', '10.0.0.11', ''],
      ['w-22', '10.0.0.122', ''],
      ['on', '10.0.0.13', ''],
      // Not the shape: the text around the node strings differs too.
      ['w-4', '10.0.0.14', 'and one more line\n'],
      ['w-5', '10.0.0.15', '  indented Ingotvar0Q\n'],
    ]) {
      const items = [
        file('/shared', shared),
        file('/script', `#!/bin/sh\necho ${host} at ${ip}\n${extra}kubectl get node ${host}\n`, 0o700),
        file('/one-line', `${host} ${ip}`),
      ];
      const head = { hostname: host };
      const want = toYaml({ ...head, write_files: items.map((i) => i.value) });
      assert.equal(toYamlWithList(head, 'write_files', items, [host, ip], cache), want, host);
    }
    assert.equal(cache.shapes.get('/script\n448')?.length, 2);
  });
});
