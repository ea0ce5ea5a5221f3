import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { schemaJson } from '../../../scripts/cluster-schema.ts';
import { isIngotError } from '../../core/errors.ts';
import { cluster } from '../testing.ts';
import { parseClusterFile, validateCluster } from './parse.ts';
import type { Problem } from './problems.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function problems(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (e) {
    assert.ok(isIngotError(e, 'INGOT_VALIDATION'), String(e));
    return e.details.problems as Problem[];
  }
  assert.fail('expected a validation error');
}

describe('Cluster file validation', () => {
  it('reports a YAML alias bomb as a problem instead of crashing', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [prev, name] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ]) {
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    assert.throws(
      () => parseClusterFile(levels.join('\n'), 'bomb.yaml'),
      (e: unknown) => isIngotError(e) && /aliases \(\*name\) expand too far/.test(e.message),
    );
  });

  it('fills in the documented defaults for a minimal file', () => {
    const c = cluster();
    assert.equal(c.spec.distribution, 'kubeadm');
    assert.equal(c.spec.controlPlane.count, 3);
    assert.equal(c.spec.etcd.topology, 'stacked');
    assert.equal(c.spec.networking.podCIDR, '10.244.0.0/16');
    assert.equal(c.spec.networking.cni.plugin, 'cilium');
    assert.equal(c.spec.security.podSecurity.default, 'restricted');
    assert.deepEqual(c.spec.placement.tolerate, ['zone', 'rack']);
    assert.equal(c.spec.endpoint.port, 6443);
    assert.deepEqual(c.spec.hardware, {
      onRisk: 'alert',
      drainTimeoutSeconds: 300,
      drainAttempts: 3,
      retryAfterSeconds: 600,
      uncordonWhenHealthy: false,
    });
  });

  it('refuses a hardware policy that is not alert, cordon or drain, naming the field', () => {
    const found = problems(() =>
      parseClusterFile(
        'apiVersion: ingot.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec:\n  endpoint: {address: 10.0.0.1}\n  hardware: {onRisk: evict}\n',
      ),
    );
    assert.deepEqual(
      found.map((p) => p.path),
      ['spec.hardware.onRisk'],
    );
  });

  it('refuses retry and uncordon fields of the hardware policy out of range, naming each field', () => {
    const found = problems(() =>
      parseClusterFile(
        'apiVersion: ingot.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec:\n  endpoint: {address: 10.0.0.1}\n  hardware: {onRisk: drain, drainAttempts: 0, retryAfterSeconds: 0, uncordonWhenHealthy: maybe}\n',
      ),
    );
    assert.deepEqual(found.map((p) => p.path).sort(), [
      'spec.hardware.drainAttempts',
      'spec.hardware.retryAfterSeconds',
      'spec.hardware.uncordonWhenHealthy',
    ]);
  });

  it('reports every problem at once, each with its field path', () => {
    const found = problems(() =>
      validateCluster({
        apiVersion: 'ingot.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: 'Bad_Name' },
        spec: {
          controlPlane: { count: 2 },
          endpoint: { address: '10.0.0.10' },
          networking: { podCIDR: '10.96.0.0/16', serviceCIDR: '10.96.0.0/12', sevriceCIDR: 'x' },
          workers: [{ name: 'w', count: 1, machines: { minGpus: -1 } }],
        },
      }),
    );
    const text = found.map((p) => `${p.path}: ${p.message}`);
    assert.ok(
      text.includes(
        'spec.networking.podCIDR: overlaps spec.networking.serviceCIDR 10.96.0.0/12; pick disjoint blocks',
      ),
      text.join('\n'),
    );
    assert.ok(text.some((t) => t.startsWith('spec.controlPlane.count: must be one of 1, 3, 5')));
    assert.ok(text.some((t) => t.startsWith('spec.networking.sevriceCIDR: is not a known field')));
    assert.ok(text.some((t) => t.startsWith('metadata.name:')));
    assert.ok(text.some((t) => t.startsWith('spec.workers[0].machines.minGpus:')));
  });

  it('fills in the remediation policy and names its field when it is wrong', () => {
    const spec = validateCluster(cluster({}));
    assert.deepEqual(spec.spec.remediation, {
      enabled: false,
      unhealthyAfterSeconds: 300,
      maxUnhealthy: '40%',
      reprovision: false,
    });
    const set = validateCluster(
      cluster({ remediation: { enabled: true, maxUnhealthy: 2, reprovision: true } }),
    );
    assert.deepEqual(set.spec.remediation, {
      enabled: true,
      unhealthyAfterSeconds: 300,
      maxUnhealthy: 2,
      reprovision: true,
    });
    const found = problems(() =>
      validateCluster(cluster({ remediation: { maxUnhealthy: '140%', unhealthyAfterSeconds: 5 } })),
    ).map((p) => p.path);
    assert.ok(found.includes('spec.remediation.maxUnhealthy'), found.join('\n'));
    assert.ok(found.includes('spec.remediation.unhealthyAfterSeconds'), found.join('\n'));
  });

  it('explains CIDR mistakes: host bits, size limits, half of dual-stack, a VIP inside the service range', () => {
    const found = problems(() =>
      cluster({
        endpoint: { address: '10.96.0.5' },
        networking: { podCIDR: '10.244.1.0/16', serviceCIDR: '10.0.0.0/8', podCIDRv6: 'fd00::/56' },
      }),
    ).map((p) => `${p.path}: ${p.message}`);
    assert.ok(
      found.some((t) =>
        t.includes('podCIDR: "10.244.1.0/16" has host bits set; did you mean 10.244.0.0/16?'),
      ),
      found.join('\n'),
    );
    assert.ok(found.some((t) => t.includes('serviceCIDR: /8 is too large')));
    assert.ok(found.some((t) => t.includes('serviceCIDRv6: dual-stack needs both')));
    assert.ok(
      found.some((t) =>
        t.startsWith('spec.endpoint.address: 10.96.0.5 is inside spec.networking.serviceCIDR'),
      ),
    );
  });

  it('refuses two BGP speakers on the same nodes and MetalLB BGP pools without peers', () => {
    const peers = [{ address: '10.0.0.2', asn: 65001 }];
    const found = problems(() =>
      cluster({
        networking: {
          cni: { plugin: 'cilium', bgp: { asn: 64512, peers } },
          metallb: {
            pools: [{ name: 'p', addresses: ['10.0.2.0/28'], advertisement: 'bgp' }],
            bgp: { asn: 64512, peers },
          },
        },
      }),
    );
    assert.ok(
      found.some(
        (p) =>
          p.path === 'spec.networking.metallb.bgp' &&
          p.message.includes('conflicts with spec.networking.cni.bgp'),
      ),
    );
    const noPeers = problems(() =>
      cluster({
        networking: { metallb: { pools: [{ name: 'p', addresses: ['10.0.2.0/28'], advertisement: 'bgp' }] } },
      }),
    );
    assert.equal(noPeers[0].path, 'spec.networking.metallb.pools[0].advertisement');
  });

  it('gives Ingot’s own etcd backups defaults without s3, and names a bad schedule or retention', () => {
    const c = cluster({ backups: { etcd: {} } });
    assert.deepEqual(c.spec.backups.etcd, {
      schedule: '0 */6 * * *',
      retention: 28,
      maxAgeDays: 0,
      target: 'region',
    });
    const found = problems(() =>
      cluster({ backups: { etcd: { schedule: '0 */6 * * mondays', retention: 0, maxAgeDays: -1 } } }),
    );
    const at = (path: string) => found.find((p) => p.path === path)?.message ?? '';
    assert.match(at('spec.backups.etcd.schedule'), /day of week field "mondays" has "mondays", not a number/);
    assert.match(at('spec.backups.etcd.retention'), />= 1/);
    assert.match(at('spec.backups.etcd.maxAgeDays'), />= 0/);
  });

  it('selects the region’s S3 target with regionS3, and names each field that does not fit', () => {
    const s3 = {
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'bk',
      accessKey: { secret: 'bk-access' },
      secretKey: { secret: 'bk-secret' },
    };
    const c = cluster({ backups: { etcd: { target: 'region-s3', regionS3: s3 } } });
    assert.deepEqual(c.spec.backups.etcd?.regionS3, { ...s3, region: 'us-east-1', prefix: '' });
    const at = (etcd: Record<string, unknown>) =>
      problems(() => cluster({ backups: { etcd } })).map((p) => `${p.path}: ${p.message}`);
    assert.deepEqual(at({ target: 'region-s3' }), [
      'spec.backups.etcd.regionS3: is required with target: region-s3 (endpoint, bucket, accessKey, secretKey)',
    ]);
    assert.deepEqual(at({ regionS3: s3 }), [
      'spec.backups.etcd.target: must be region-s3 when regionS3 is given',
    ]);
    assert.deepEqual(at({ target: 'region-s3', regionS3: { ...s3, endpoint: 'minio:9000' } }), [
      'spec.backups.etcd.regionS3.endpoint: "minio:9000" is not an http(s)://host[:port] URL',
    ]);
    assert.match(
      at({ target: 'region-s3', regionS3: s3, s3: { ...s3, endpoint: 'minio' } }).join('\n'),
      /spec\.backups\.etcd\.s3: is the in-cluster CronJob’s upload; with target: region-s3 the region uploads/,
    );
    assert.match(at({ target: 's3' }).join('\n'), /spec\.backups\.etcd\.target/);
  });

  it('reports YAML syntax errors with their line', () => {
    const found = problems(() => parseClusterFile('apiVersion: ingot.dev/v1alpha1\nkind: [Cluster\n'));
    assert.match(found[0].path, /^line \d+$/);
  });

  it('accepts every example Cluster file', () => {
    for (const f of [
      'kubeadm-ha.yaml',
      'k3s-edge.yaml',
      'rke2-external-etcd.yaml',
      'kubeadm-v1beta3-bgp.yaml',
    ]) {
      parseClusterFile(readFileSync(join(ROOT, 'examples', f), 'utf8'), f);
    }
  });

  it('publishes schema/cluster.schema.json generated from the TypeScript schema', () => {
    // Compared as data: Biome may reflow the published file's whitespace.
    const published = JSON.parse(readFileSync(join(ROOT, 'schema', 'cluster.schema.json'), 'utf8'));
    assert.deepEqual(published, JSON.parse(schemaJson()), 'run: node scripts/cluster-schema.ts');
  });
});
