/**
 * A certificate's SubjectPublicKeyInfo, as its raw DER bytes, read from a PEM with one
 * certificate: the bytes kubeadm's `--discovery-token-ca-cert-hash` hashes. A walk over the
 * DER's first fields (a render needs the CA's hash once; parsing the whole certificate with
 * the x509 library took ~1 ms). Undefined when the text is not one plainly encoded certificate
 * (the caller then asks the library).
 */
export function subjectPublicKeyInfo(pem: string): Uint8Array | undefined {
  const m = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*$/.exec(pem);
  if (!m) return undefined;
  const der = Buffer.from(m[1], 'base64');
  const cert = tlv(der, 0);
  if (cert?.tag !== 0x30 || cert.end !== der.length) return undefined;
  const tbs = tlv(der, cert.body);
  if (tbs?.tag !== 0x30 || tbs.end > cert.end) return undefined;
  let at = tbs.body;
  let field = tlv(der, at);
  if (field?.tag === 0xa0) {
    // [0] version
    at = field.end;
    field = tlv(der, at);
  }
  // serialNumber, signature, issuer, validity, subject: then subjectPublicKeyInfo.
  for (const tag of [0x02, 0x30, 0x30, 0x30, 0x30]) {
    if (field?.tag !== tag || field.end > tbs.end) return undefined;
    at = field.end;
    field = tlv(der, at);
  }
  if (field?.tag !== 0x30 || field.end > tbs.end) return undefined;
  return der.subarray(at, field.end);
}

/** The DER element at `at`: its tag, where its body starts and where it ends (definite lengths only). */
function tlv(der: Uint8Array, at: number): { tag: number; body: number; end: number } | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at];
  let len = der[at + 1];
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > der.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[body + i];
    body += n;
  }
  const end = body + len;
  return end <= der.length ? { tag, body, end } : undefined;
}
