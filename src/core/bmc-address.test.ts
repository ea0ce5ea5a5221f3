import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bmcEndpoint, parseBmcUrl, withoutUserInfo } from './bmc-address.ts';
import { IngotError } from './errors.ts';

describe('BMC address endpoints', () => {
  it('names the same endpoint for spellings of one BMC, whatever the system path', () => {
    const one = bmcEndpoint('redfish+https://BMC-1.example:443/redfish/v1/Systems/1');
    assert.equal(one, 'redfish+https://bmc-1.example:443');
    assert.equal(bmcEndpoint('redfish://bmc-1.example/redfish/v1/Systems/2'), one);
    assert.equal(bmcEndpoint('ipmi://10.0.0.6'), 'ipmi://10.0.0.6:623');
    assert.equal(
      bmcEndpoint('ipmi://10.0.0.6?privilege=USER&cipher=3'),
      'ipmi://10.0.0.6:623?cipher=3&privilege=USER',
    );
  });

  it('names another endpoint when the host, port, scheme or a transport option changes', () => {
    const base = bmcEndpoint('redfish+https://10.0.0.5');
    for (const other of [
      'redfish+https://10.0.0.50',
      'redfish+https://10.0.0.5:8443',
      'redfish+http://10.0.0.5',
      'redfish+https://10.0.0.5?insecure=true',
      'redfish+https://10.0.0.5?fingerprint=AB:CD',
    ])
      assert.notEqual(bmcEndpoint(other), base, other);
  });

  it('refuses a user or password inside the URL without echoing it', () => {
    for (const a of ['redfish+http://admin:hunter2@10.0.0.5/', 'ipmi://admin@10.0.0.6'])
      assert.throws(
        () => parseBmcUrl(a),
        (e: unknown) =>
          e instanceof IngotError && e.details.field === 'bmc.address' && !e.message.includes('hunter2'),
      );
  });

  it('shows an address stored with user-info without it, and still knows its endpoint', () => {
    const legacy = 'redfish+http://admin:hunter2@10.0.0.5:8000/redfish/v1/Systems/1';
    assert.equal(withoutUserInfo(legacy), 'redfish+http://10.0.0.5:8000/redfish/v1/Systems/1');
    assert.equal(withoutUserInfo('ipmi://10.0.0.6'), 'ipmi://10.0.0.6');
    assert.equal(bmcEndpoint(legacy), 'redfish+http://10.0.0.5:8000');
  });
});
