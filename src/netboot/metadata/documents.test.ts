import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Machine } from '../../core/machine.ts';
import { ec2Lookup, ec2Tree, nocloudMetaData } from './documents.ts';

const m = {
  id: 'm-1',
  hostname: 'node: "7"',
  zone: 'z1',
  rack: 'r1',
  nics: [{ mac: '52:54:00:00:00:01', boot: true }],
} as unknown as Machine;
const keys = ['ssh-ed25519 AAAAC3Nza me@laptop', 'ssh-rsa AAAAB3Nza "quoted" #comment'];

describe('metadata documents', () => {
  it('NoCloud meta-data: YAML that parses back to the machine and its SSH keys, whatever they contain', () => {
    const doc = parse(nocloudMetaData(m, keys), { version: '1.1' });
    assert.deepEqual(doc, {
      'instance-id': 'm-1',
      'local-hostname': 'node: "7"',
      'availability-zone': 'z1',
      'public-keys': keys,
    });
    assert.equal('public-keys' in parse(nocloudMetaData(m)), false, 'no keys: no public-keys entry');
  });

  it('EC2 tree: public-keys/N/openssh-key, listed under public-keys/', () => {
    const tree = ec2Tree(m, '10.0.0.5', keys);
    assert.equal(ec2Lookup(tree, 'public-keys/'), '0/\n1/\n');
    assert.equal(ec2Lookup(tree, 'public-keys/1/openssh-key'), keys[1]);
    assert.match(ec2Lookup(tree, '') ?? '', /^public-keys\/$/m);
  });
});
