/**
 * The certificate a region or rack serves HTTPS with: the operator's (`--tls-cert`, `--tls-key`)
 * or, when none is given, a self-signed one generated on first start and kept in the data dir
 * (`tls/<service>.crt`, `tls/<service>.key`, both 0600) so its fingerprint — what clients pin —
 * stays the same across restarts.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { publicKeyPin } from './fingerprint.ts';
import { generateSelfSignedCert } from './self-signed.ts';

export interface ServerTls {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the DER certificate, `AB:CD:…` (what `ingot login` pins). */
  readonly fingerprint256: string;
  /** SHA-256 of the public key as curl's `--pinnedpubkey` takes it (`sha256//BASE64`). */
  readonly publicKeyPin: string;
  readonly certFile: string;
  /** True when this start generated the certificate. */
  readonly generated: boolean;
  /** A certificate Ingot generated (now or on an earlier start), not the operator's. */
  readonly selfSigned: boolean;
}

export interface ServerTlsOptions {
  /** The data dir; a generated certificate lives in `DATA/tls/`. */
  readonly dataDir: string;
  /** `region` or `rack`: the generated files' names and the certificate's CN. */
  readonly service: 'region' | 'rack';
  /** The operator's certificate and key (PEM); both or neither. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** The addresses the service listens on: the generated certificate's SANs (with this host's name). */
  readonly hosts: readonly string[];
}

/** The addresses a generated certificate names: the listen address (all of this host's for a wildcard), its name, loopback. */
export function certificateHosts(listenHosts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const h of listenHosts) {
    if (h === '0.0.0.0' || h === '::' || h === '') {
      for (const addrs of Object.values(networkInterfaces()))
        for (const a of addrs ?? []) if (!a.address.startsWith('fe80:')) out.add(a.address);
    } else out.add(h);
  }
  for (const h of [hostname(), 'localhost', '127.0.0.1', '::1']) out.add(h);
  return [...out];
}

export async function loadServerTls(o: ServerTlsOptions): Promise<ServerTls> {
  if (o.certFile || o.keyFile) return loadGiven(o.certFile, o.keyFile);
  const dir = join(o.dataDir, 'tls');
  const certFile = join(dir, `${o.service}.crt`);
  const keyFile = join(dir, `${o.service}.key`);
  if (existsSync(certFile) && existsSync(keyFile))
    return { ...loadGiven(certFile, keyFile), selfSigned: true };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cert = await generateSelfSignedCert(
    certificateHosts(o.hosts),
    `Ingot ${o.service} ${hostname()}`,
    3650,
  );
  // Key first, each file complete before it has its name: a crash leaves no half pair.
  for (const [file, pem] of [
    [keyFile, cert.keyPem],
    [certFile, cert.certPem],
  ] as const) {
    writeFileSync(`${file}.tmp`, pem, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
  return {
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    fingerprint256: cert.fingerprint256,
    publicKeyPin: publicKeyPin(cert.certPem),
    certFile,
    generated: true,
    selfSigned: true,
  };
}

function loadGiven(certFile: string | undefined, keyFile: string | undefined): ServerTls {
  if (!certFile || !keyFile)
    throw new IngotError(
      ErrorCode.Config,
      `${certFile ? '--tls-key' : '--tls-cert'}: missing; give both --tls-cert FILE and --tls-key FILE (PEM), or neither for a generated self-signed certificate`,
      { details: { field: certFile ? 'tls-key' : 'tls-cert' } },
    );
  const certPem = readPem(certFile, 'tls-cert');
  const keyPem = readPem(keyFile, 'tls-key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (e) {
    throw configError('tls-cert', `${certFile} is not a PEM certificate (${(e as Error).message})`);
  }
  let matches = false;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(keyPem));
  } catch (e) {
    throw configError('tls-key', `${keyFile} is not a PEM private key (${(e as Error).message})`);
  }
  if (!matches) throw configError('tls-key', `${keyFile} is not the key of the certificate in ${certFile}`);
  return {
    certPem,
    keyPem,
    fingerprint256: x509.fingerprint256,
    publicKeyPin: publicKeyPin(certPem),
    certFile,
    generated: false,
    selfSigned: false,
  };
}

function readPem(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw configError(
      field,
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

function configError(field: string, msg: string): IngotError {
  return new IngotError(ErrorCode.Config, `--${field}: ${msg}`, { details: { field } });
}
