/**
 * Where the CLI finds its region: flags, then INGOT_URL / INGOT_TOKEN, then the config file
 * written by `ingot login` (~/.config/ingot/config.json, mode 0600), then a local region's
 * data dir (./.ingot/admin.token and the certificate it generated, ./.ingot/tls/region.crt, on
 * https://127.0.0.1:8080).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { certFingerprint } from '../tls/fingerprint.ts';
import { isLoopback } from '../tls/plain-http.ts';
import { defaultDataDir } from './paths.ts';

export interface CliTarget {
  url: string;
  token: string | null;
  /**
   * The region's certificate, pinned: `sha256:AB:CD:…` (`ingot login` saves it). With one, an
   * HTTPS region is trusted only when it shows exactly that certificate.
   */
  fingerprint?: string | null;
}

export function configPath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'ingot', 'config.json');
}

export function readConfig(): Partial<CliTarget> {
  try {
    return JSON.parse(readFileSync(configPath(), 'utf8')) as Partial<CliTarget>;
  } catch {
    return {};
  }
}

export function writeConfig(t: CliTarget): string {
  const p = configPath();
  mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
  writeFileSync(p, `${JSON.stringify(t, null, 2)}\n`, { mode: 0o600 });
  return p;
}

/** Where `ingot serve` listens by default. */
export const LOCAL_URL = 'https://127.0.0.1:8080';

export function resolveTarget(flags: { url?: string; token?: string; fingerprint?: string }): CliTarget {
  const cfg = readConfig();
  const chosen = flags.url || process.env.INGOT_URL || cfg.url;
  const url = (chosen || LOCAL_URL).replace(/\/+$/, '');
  // The saved pin belongs to the saved region: another URL gets none (system CAs decide).
  const fingerprint =
    flags.fingerprint ||
    process.env.INGOT_FINGERPRINT ||
    (cfg.url?.replace(/\/+$/, '') === url ? cfg.fingerprint : null) ||
    null;
  let token = flags.token || process.env.INGOT_TOKEN || cfg.token || null;
  const data = defaultDataDir();
  if (!token) {
    const local = join(data, 'admin.token');
    if (existsSync(local)) token = readFileSync(local, 'utf8').trim();
  }
  // The local region's own certificate, read from its data dir: the same trust as its token file,
  // for the default URL or any loopback one (a region on another port of this host).
  const localCert = join(data, 'tls', 'region.crt');
  if (
    !fingerprint &&
    (!chosen || (URL.canParse(url) && isLoopback(new URL(url).hostname))) &&
    existsSync(localCert)
  )
    return { url, token, fingerprint: `sha256:${certFingerprint(readFileSync(localCert, 'utf8'))}` };
  return { url, token, fingerprint };
}
