import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from './redact.ts';

describe('redactSecrets', () => {
  const key = 'c0ffee'.repeat(10) + 'abcd';
  const token = 'abcdef.0123456789abcdef';

  it('leaves out a certificate key on a command line and in a kubeadm config', () => {
    assert.equal(
      redactSecrets(`'kubeadm' 'init' 'phase' 'upload-certs' '--certificate-key' '${key}'`),
      "'kubeadm' 'init' 'phase' 'upload-certs' '--certificate-key' '<redacted>'",
    );
    assert.equal(redactSecrets(`--certificate-key=${key}`), '--certificate-key=<redacted>');
    assert.equal(redactSecrets(`  certificateKey: ${key}\n`), '  certificateKey: <redacted>\n');
    assert.equal(redactSecrets(`{"certificateKey":"${key}"}`), '{"certificateKey":"<redacted>"}');
  });

  it('leaves out a bootstrap token, a kubeconfig key and a PEM private key', () => {
    assert.equal(
      redactSecrets(`kubeadm join 10.0.0.100:6443 --token ${token} --discovery-token-ca-cert-hash sha256:ab`),
      'kubeadm join 10.0.0.100:6443 --token <redacted-token> --discovery-token-ca-cert-hash sha256:ab',
    );
    assert.equal(
      redactSecrets('    client-key-data: LS0tLS1CRUdJTg==\n'),
      '    client-key-data: <redacted>\n',
    );
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nafter';
    assert.equal(redactSecrets(pem), '-----BEGIN RSA PRIVATE KEY----- <redacted>\nafter');
  });

  it('keeps text without a credential as it is', () => {
    const s = 'etcdctl member remove 8e9e05c52164694d: member removed (cp1.example.com, 10.0.0.11)';
    assert.equal(redactSecrets(s), s);
  });
});
