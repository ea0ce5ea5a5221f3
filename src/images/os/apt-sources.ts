/**
 * The Debian mirror this machine's apt uses (the image build downloads from it and nothing
 * else): /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources}, one-line and
 * deb822 formats. Files renamed to anything else (`.disabled`) are ignored, as apt does.
 */
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../../core/errors.ts';

const execFile = promisify(execFileCb);

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

export interface DebianMirrors {
  /** Serves `<suite>` and `<suite>-updates` (e.g. http://deb.debian.org/debian). */
  mirror: string;
  /** Serves `<suite>-security`, or null when apt has none configured. */
  security: string | null;
  /** apt's HTTP proxy (Acquire::http::Proxy), if any. */
  proxy: string | null;
}

export function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line.startsWith('deb ')) continue;
    const parts = line
      .slice(4)
      .replace(/\[[^\]]*\]/, '')
      .trim()
      .split(/\s+/);
    if (parts.length < 2) continue;
    out.push({ uri: parts[0], suites: [parts[1]], components: parts.slice(2) });
  }
  return out;
}

export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    let key = '';
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && key) {
        f[key] += ` ${raw.trim()}`;
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) {
        key = m[1].toLowerCase();
        f[key] = m[2];
      }
    }
    if (!(f.types ?? '').split(/\s+/).includes('deb') || !f.uris) continue;
    if ((f.enabled ?? 'yes').trim() === 'no') continue;
    const suites = (f.suites ?? '').split(/\s+/).filter(Boolean);
    const components = (f.components ?? '').split(/\s+/).filter(Boolean);
    for (const uri of f.uris.split(/\s+/).filter(Boolean)) out.push({ uri, suites, components });
  }
  return out;
}

export function readAptSources(etc = '/etc/apt'): AptSource[] {
  const files: string[] = [];
  if (existsSync(join(etc, 'sources.list'))) files.push(join(etc, 'sources.list'));
  const d = join(etc, 'sources.list.d');
  if (existsSync(d))
    for (const f of readdirSync(d).sort())
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push(join(d, f));
  return files.flatMap((f) =>
    f.endsWith('.sources') ? parseDeb822(readFileSync(f, 'utf8')) : parseOneLine(readFileSync(f, 'utf8')),
  );
}

/** The mirror serving `suite` main, and the one serving `suite-security`. */
export function pickMirrors(sources: readonly AptSource[], suite: string): Omit<DebianMirrors, 'proxy'> {
  const main = sources.find((s) => s.suites.includes(suite) && s.components.includes('main'));
  if (!main)
    throw new IngotError(
      ErrorCode.Config,
      `no apt source for Debian ${suite} main in /etc/apt/sources.list(.d); add one (e.g. http://deb.debian.org/debian) or pass --mirror`,
    );
  const sec = sources.find((s) => s.suites.includes(`${suite}-security`) && s.components.includes('main'));
  return { mirror: main.uri.replace(/\/+$/, ''), security: sec ? sec.uri.replace(/\/+$/, '') : null };
}

async function aptProxy(): Promise<string | null> {
  try {
    const { stdout } = await execFile('apt-config', ['shell', 'P', 'Acquire::http::Proxy']);
    const m = /^P='(.*)'$/m.exec(stdout);
    return m?.[1] && m[1] !== 'DIRECT' ? m[1] : null;
  } catch {
    return null;
  }
}

export async function debianMirrors(suite: string, override?: { mirror?: string }): Promise<DebianMirrors> {
  const proxy = await aptProxy();
  if (override?.mirror) {
    const m = override.mirror.replace(/\/+$/, '');
    let security: string | null = null;
    try {
      security = pickMirrors(readAptSources(), suite).security;
    } catch {
      security = null;
    }
    return { mirror: m, security, proxy };
  }
  return { ...pickMirrors(readAptSources(), suite), proxy };
}

/**
 * The `Date:` of each suite's InRelease: what "the archive as of" means for the build cache.
 * Reads only the first 4 KiB (Range). Null when the mirror cannot be reached.
 */
export async function archiveDates(
  suites: readonly { base: string; suite: string }[],
): Promise<Record<string, string> | null> {
  const out: Record<string, string> = {};
  for (const { base, suite } of suites) {
    try {
      const res = await fetch(`${base}/dists/${suite}/InRelease`, {
        headers: { range: 'bytes=0-4095' },
        signal: AbortSignal.timeout(15_000),
      });
      if (!res.ok) return null;
      const text = await res.text();
      const m = /^Date:\s*(.+)$/m.exec(text);
      if (!m) return null;
      out[suite] = m[1].trim();
    } catch {
      return null;
    }
  }
  return out;
}
