/**
 * Where the CLI finds its region: flags, then INGOT_URL / INGOT_TOKEN, then the config file
 * written by `ingot login` (~/.config/ingot/config.json, mode 0600), then a local region's
 * data dir (./.ingot/admin.token on 127.0.0.1:8080).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultDataDir } from './paths.ts';

export interface CliTarget {
  url: string;
  token: string | null;
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

export function resolveTarget(flags: { url?: string; token?: string }): CliTarget {
  const cfg = readConfig();
  const url = flags.url || process.env.INGOT_URL || cfg.url || 'http://127.0.0.1:8080';
  let token = flags.token || process.env.INGOT_TOKEN || cfg.token || null;
  if (!token) {
    const local = join(defaultDataDir(), 'admin.token');
    if (existsSync(local)) token = readFileSync(local, 'utf8').trim();
  }
  return { url: url.replace(/\/+$/, ''), token };
}
