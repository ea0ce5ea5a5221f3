import { createHash, KeyObject, randomBytes } from 'node:crypto';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { subjectPublicKeyInfo } from './spki.ts';
import { type CertExpiry, type ClusterTokens, keyFileOf, PKI_FILES, type PkiMaterial } from './types.ts';

// Node's WebCrypto is what @peculiar/x509 expects; the cast only bridges the DOM-style typings.
x509.cryptoProvider.set(globalThis.crypto as never);

type KeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

/**
 * Every key is ECDSA P-256, as k3s, RKE2 and Talos make theirs and kubeadm ≥ 1.31 offers
 * (`encryptionAlgorithm: ECDSA-P256`): kubeadm 1.20 and later load ECDSA CA keys and sign the
 * leaves they make (RSA) with them. Six RSA-2048 keys took 250–450 ms of a create on two cores
 * (docs/bench-cluster.md); six P-256 keys take about a millisecond, and every TLS handshake with
 * them is cheaper too. The one exception is the service-account key of a kubeadm before 1.31
 * (`rsaServiceAccountKey`): `kubeadm join --control-plane` there refuses any other
 * (`the private key file /etc/kubernetes/pki/sa.key isn't in RSA format`, its preflight's
 * shared-certificates check), so such a cluster's second control plane never joins.
 */
const KEY = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };
const DAY = 86_400_000;
/** kubeadm's defaults: CAs live 10 years, leaf certificates 1 year. */
export const CA_DAYS = 3650;
export const LEAF_DAYS = 365;

async function newKeys(): Promise<KeyPair> {
  return (await crypto.subtle.generateKey(KEY, true, ['sign', 'verify'])) as KeyPair;
}

/**
 * The next RSA-2048 pair, generated ahead: an RSA key takes 10–80 ms of prime search (on the
 * thread pool), so each one handed out starts the next in the background, off the next
 * create's path. A pair is handed out once; none is ever written anywhere by this cache.
 */
let nextRsa: Promise<KeyPair> | null = null;

/** An RSA-2048 pair (what kubeadm makes for its service-account key before 1.31), never one handed out before. */
export function rsaKeys(): Promise<KeyPair> {
  const mine = nextRsa ?? newRsaKeys();
  const next = newRsaKeys();
  // A failed one is not kept: the next call generates its own.
  next.catch(() => {
    if (nextRsa === next) nextRsa = null;
  });
  nextRsa = next;
  return mine;
}

async function newRsaKeys(): Promise<KeyPair> {
  return (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as KeyPair;
}

/** SEC 1 PEM (`EC PRIVATE KEY`): the format kubeadm, k3s and RKE2 write for ECDSA keys. */
function keyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'sec1', format: 'pem' }).toString();
}

interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: KeyPair;
}

async function ca(cn: string, now: Date): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${cn}`,
    notBefore: now,
    notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    keys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function clientCert(issuer: Issued, subject: string, now: Date): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject,
    issuer: issuer.cert.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + LEAF_DAYS * DAY),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // An ECDSA key signs; it does not encipher keys (RFC 5480 §3).
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return { cert, keys };
}

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
function tokenPart(n: number): string {
  // Rejection-free mapping: 252 = 7 × 36, so bytes ≥ 252 are skipped to keep it uniform.
  let out = '';
  while (out.length < n)
    for (const b of randomBytes(n)) if (b < 252 && out.length < n) out += TOKEN_CHARS[b % 36];
  return out;
}

/** A fresh kubeadm bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}`. */
export function bootstrapTokenValue(): string {
  return `${tokenPart(6)}.${tokenPart(16)}`;
}

export function generateTokens(): ClusterTokens {
  return {
    bootstrapToken: bootstrapTokenValue(),
    clusterToken: randomBytes(32).toString('hex'),
    encryptionKey: randomBytes(32).toString('base64'),
  };
}

export function expiryOf(files: Readonly<Record<string, string>>): CertExpiry[] {
  return Object.keys(files)
    .filter((f) => f.endsWith('.crt'))
    .sort()
    .map((file) => {
      const c = new x509.X509Certificate(files[file]);
      const bc = c.getExtension(x509.BasicConstraintsExtension);
      return {
        file,
        subject: c.subject,
        isCA: bc?.ca ?? false,
        notBefore: c.notBefore.toISOString(),
        notAfter: c.notAfter.toISOString(),
      };
    });
}

/**
 * Generates the cluster's CAs (cluster, etcd, front-proxy), the service-account key pair, the
 * API server's etcd client certificate and an admin client certificate. `adminGroup` is
 * `kubeadm:cluster-admins` for kubeadm ≥ 1.29 (kubeadm binds it to cluster-admin) and
 * `system:masters` otherwise.
 */
export async function generatePki(
  adminGroup: string,
  now = new Date(),
  o: { rsaServiceAccountKey?: boolean } = {},
): Promise<PkiMaterial> {
  const [cluster, etcd, frontProxy, sa] = await Promise.all([
    ca('kubernetes', now),
    ca('etcd-ca', now),
    ca('front-proxy-ca', now),
    o.rsaServiceAccountKey ? rsaKeys() : newKeys(),
  ]);
  const [etcdClient, admin] = await Promise.all([
    clientCert(etcd, 'CN=kube-apiserver-etcd-client', now),
    clientCert(cluster, `CN=kubernetes-admin, O=${adminGroup}`, now),
  ]);
  const files: Record<string, string> = {};
  const put = (crt: string, i: Issued) => {
    files[crt] = i.cert.toString('pem') + '\n';
    files[keyFileOf(crt)] = keyPem(i.keys.privateKey);
  };
  put(PKI_FILES.ca, cluster);
  put(PKI_FILES.etcdCa, etcd);
  put(PKI_FILES.frontProxyCa, frontProxy);
  put(PKI_FILES.apiserverEtcdClient, etcdClient);
  put(PKI_FILES.admin, admin);
  files[PKI_FILES.saKey] = o.rsaServiceAccountKey
    ? KeyObject.from(sa.privateKey).export({ type: 'pkcs1', format: 'pem' }).toString()
    : keyPem(sa.privateKey);
  files[PKI_FILES.saPub] = KeyObject.from(sa.publicKey).export({ type: 'spki', format: 'pem' }).toString();
  return { files, tokens: generateTokens(), expiry: expiryOf(files) };
}

/** sha256 of the CA's SubjectPublicKeyInfo: kubeadm's `--discovery-token-ca-cert-hash`. */
export async function caCertHash(caPem: string): Promise<string> {
  const spki = subjectPublicKeyInfo(caPem);
  if (spki) return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
  const c = new x509.X509Certificate(caPem);
  const digest = await crypto.subtle.digest('SHA-256', c.publicKey.rawData);
  return `sha256:${Buffer.from(digest).toString('hex')}`;
}
