import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertGroups } from './alerts.ts';

const smartFailing = (policy: 'alert' | 'cordon' | 'drain'): string => {
  const rule = alertGroups(policy)[0].rules.find((r) => r.alert === 'IngotDiskSmartFailing');
  assert.ok(rule, 'the IngotDiskSmartFailing rule');
  return (rule.annotations as { description: string }).description;
};

describe('hardware alert rules', () => {
  it('say what Ingot does about a failing disk, as the Cluster file’s spec.hardware.onRisk asks', () => {
    assert.match(
      smartFailing('drain'),
      /replace it; Ingot cordons and drains the node \(spec.hardware.onRisk: drain\)/,
    );
    assert.match(smartFailing('cordon'), /Ingot cordons the node \(spec.hardware.onRisk: cordon\); drain it/);
    assert.match(smartFailing('alert'), /Ingot only alerts \(spec.hardware.onRisk: alert\); drain the node/);
    assert.doesNotMatch(smartFailing('alert'), /drains the node/);
  });
});
