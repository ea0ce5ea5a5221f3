import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { bundleSchemaJson } from '../../scripts/bundle-schema.ts';
import { IngotError } from '../core/errors.ts';
import { parseManifestFile } from './manifest-file.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const minimal = {
  apiVersion: 'ingot.dev/v1alpha1',
  kind: 'KubernetesBundle',
  version: 'v1.20.2',
  arch: 'amd64',
  binaries: [{ name: 'kubelet', path: 'bin/kubelet' }],
  images: [{ path: 'images/pause.tar' }],
};

describe('ingot-bundle.json', () => {
  it('publishes schema/bundle.schema.json generated from the TypeScript schema', () => {
    const published = JSON.parse(readFileSync(join(ROOT, 'schema', 'bundle.schema.json'), 'utf8'));
    assert.deepEqual(published, JSON.parse(bundleSchemaJson()), 'run: node scripts/bundle-schema.ts');
  });

  it('is a draft-07 schema a stock validator compiles, accepting the minimal manifest', () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(bundleSchemaJson()));
    assert.ok(validate(minimal), JSON.stringify(validate.errors));
  });

  it('reports every problem with its field path', () => {
    const bad = {
      ...minimal,
      arch: 's390x',
      binaries: [{ name: 'kubelet', path: '../etc/shadow' }],
      extra: 1,
    };
    try {
      parseManifestFile(JSON.stringify(bad));
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof IngotError);
      assert.equal(e.details.field, 'ingot-bundle.json');
      assert.match(e.message, /arch: must be one of amd64, arm64/);
      assert.match(e.message, /binaries\[0\]\.path: must match pattern/);
      assert.match(e.message, /extra: is not a known field/);
    }
    assert.throws(() => parseManifestFile('{'), /ingot-bundle\.json: is not JSON/);
  });
});
