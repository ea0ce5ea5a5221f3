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

  it('checks an item in pieces as a plain render does', () => {
    const cache = yamlTemplates();
    const start = '#!/bin/sh\nset -e\napt-get install -y kubeadm\n';
    const inPieces = (path: string, pieces: string[]): ListItem => ({
      ...file(path, pieces.join(''), 0o700),
      pieces,
    });
    for (const [host, ip, head] of [
      ['w-1', '10.0.0.11', start],
      ['w-22', '10.0.0.122', start],
      // The same start as another string, a different start, and ones holding a node string.
      ['w-3', '10.0.0.13', `${start.slice(0, 10)}${start.slice(10)}`],
      ['w-4', '10.0.0.14', '#!/bin/bash\nset -e\n'],
      ['w-5', '10.0.0.15', `${start}echo w-5\n`],
      ['w-6', '10.0.0.16', `${start}echo w-6\n`],
      ['w-7', '10.0.0.17', start],
    ]) {
      for (const rest of [
        [`echo ${host} at ${ip}\n`, `kubectl get node ${host}\n`],
        [`echo ${host} at ${ip}\nexit 1\n`],
        // Cut elsewhere: the same text in other pieces.
        [`echo ${host} at `, `${ip}\nexit 1\n`],
      ]) {
        const items = [inPieces('/script', [head, ...rest])];
        const want = toYaml({ hostname: host, write_files: items.map((i) => i.value) });
        assert.equal(toYamlWithList({ hostname: host }, 'write_files', items, [host, ip], cache), want, host);
      }
    }
    // A start holding the first node's name, shared with the next node: not its shape.
    const named = yamlTemplates();
    for (const [host, ip] of [
      ['w-8', '10.0.0.18'],
      ['w-9', '10.0.0.19'],
    ]) {
      const items = [inPieces('/script', [`${start}echo w-8\n`, `echo ${host} at ${ip}\n`])];
      const want = toYaml({ hostname: host, write_files: items.map((i) => i.value) });
      assert.equal(toYamlWithList({ hostname: host }, 'write_files', items, [host, ip], named), want, host);
    }
  });
});
