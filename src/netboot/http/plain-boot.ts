/**
 * What the rack still serves over plain HTTP when it serves HTTPS: what firmware fetches.
 * Debian's iPXE cannot check a self-signed certificate (iPXE trusts only the CAs built into
 * it), so the iPXE binaries, the per-machine script and the boot image's kernel and initrd stay
 * on HTTP; everything else — the agent's endpoints, OS images, metadata, bundles — is HTTPS
 * only. The script carries the per-boot token on the kernel line: that token is the boundary
 * (docs/security.md): it is bound to the machine's leased address, one boot, 6 hours.
 */
import type { EphemeralImage } from './context.ts';

export function servedOverPlainHttp(
  method: string | undefined,
  path: string,
  eph: EphemeralImage | null,
): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/healthz' || path === RACK_CERT_PATH) return true;
  if (path.startsWith('/boot/') || path.startsWith('/ipxe/')) return true;
  if (!eph || !path.startsWith('/artifacts/')) return false;
  let rel: string;
  try {
    rel = decodeURIComponent(path.slice('/artifacts/'.length));
  } catch {
    return false;
  }
  return rel === eph.kernel || rel === eph.initrd;
}

/** The rack's certificate (public): the agent fetches it over the pinned connection for the deployed OS. */
export const RACK_CERT_PATH = '/tls/rack.crt';
