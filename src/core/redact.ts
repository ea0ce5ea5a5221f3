/**
 * A cluster credential's value left out of text that goes on the timeline or into an error: a
 * kubeadm certificate key (`--certificate-key <hex>`, `certificateKey: <hex>`), a bootstrap
 * token (`abcdef.0123456789abcdef`), a kubeconfig's embedded keys and certificates, a PEM
 * private key. What stays says which kind of value was there. Pure.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/(--certificate-key'?[ =]'?)[0-9a-fA-F]+/g, '$1<redacted>')
    .replace(/(certificateKey"?\s*:\s*"?)[0-9a-fA-F]+/g, '$1<redacted>')
    .replace(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g, '<redacted-token>')
    .replace(
      /((?:client-key|client-certificate|certificate-authority)-data"?\s*:\s*"?)[A-Za-z0-9+/=]+/g,
      '$1<redacted>',
    )
    .replace(
      /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g,
      '-----BEGIN $1PRIVATE KEY----- <redacted>',
    );
}
