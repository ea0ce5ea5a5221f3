import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { controlPlaneScaleGap } from './scale-control-planes.ts';

const example = (name: string) =>
  parseClusterFile(readFileSync(new URL(`../../../examples/${name}`, import.meta.url), 'utf8'), name);

describe('controlPlaneScaleGap', () => {
  it('scales a kubeadm cluster with stacked etcd behind kube-vip (ARP) or an external load balancer', () => {
    assert.equal(controlPlaneScaleGap(example('kubeadm-ha.yaml')), null);
    assert.equal(controlPlaneScaleGap(example('lab-cluster.yaml')), null);
  });

  it('refuses kube-vip over BGP: the routers’ rendered sessions name each control plane', () => {
    assert.match(
      controlPlaneScaleGap(example('kubeadm-v1beta3-bgp.yaml')) ?? '',
      /kube-vip over BGP.*tor\/\*\.conf/,
    );
  });

  it('refuses external etcd and the distributions whose servers join their own way', () => {
    const ha = readFileSync(new URL('../../../examples/kubeadm-ha.yaml', import.meta.url), 'utf8');
    const ext = parseClusterFile(
      ha.replace(
        /\n {2}controlPlane:\n/,
        '\n  etcd: { topology: external, count: 3, machines: { pool: etcd } }\n  controlPlane:\n',
      ),
      'ext',
    );
    assert.match(controlPlaneScaleGap(ext) ?? '', /its etcd is external/);
    assert.match(
      controlPlaneScaleGap(example('rke2-external-etcd.yaml')) ?? '',
      /rke2 cluster's servers join their own way/,
    );
    assert.match(controlPlaneScaleGap(example('k3s-edge.yaml')) ?? '', /k3s/);
  });
});
