/**
 * A deploy's network-config checked by the real tools before the region accepts the deploy:
 * - `netplan generate --root-dir` (Debian's netplan.io): the file is valid netplan v2 and
 *   renders to systemd-networkd units — unknown keys, bad bond modes, bad addresses fail;
 * - `cloud-init devel net-convert -O eni -D debian`: the renderer the deployed Debian image
 *   itself runs at first boot (cloud-init's ENI renderer; docs/node-os.md). It is stricter than
 *   netplan in places (cloud-init 22.4 refuses `routes: [{to: default}]`), and a config it
 *   cannot render would leave the node without its planned address.
 * A refusal is a validation error on `params.networkConfig` carrying the tool's own message.
 * Each distinct text is checked once per process (a retried or repeated deploy is not re-run).
 */
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';

const execFile = promisify(execFileCb);

const FIELD = 'params.networkConfig';
const TIMEOUT_MS = 30_000;
/** Texts that passed, by SHA-256 (bounded: oldest forgotten first). */
const passed = new Set<string>();
const MAX_REMEMBERED = 4096;

/** Why a tool refused, in a line or a few: its own words, temp paths replaced by `network-config`. */
function reason(stderr: string, dir: string, tool: 'netplan' | 'cloud-init'): string {
  const text = stderr
    .replaceAll(`${dir}/root/etc/netplan/50-ingot.yaml`, 'network-config')
    .replaceAll(dir, '…');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (tool === 'cloud-init') {
    // A Python traceback: the last line is the error; cloud-init also logs it once before.
    const last = lines.at(-1) ?? 'failed';
    return last.replace(/^[A-Za-z.]+(Error|Exception): /, '');
  }
  return lines.slice(0, 3).join(' | ') || 'failed';
}

async function tool(cmd: string, args: string[]): Promise<{ ok: true } | { ok: false; stderr: string }> {
  try {
    await execFile(cmd, args, {
      timeout: TIMEOUT_MS,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
    return { ok: true };
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string | number };
    if (err.code === 'ENOENT')
      throw new IngotError(
        ErrorCode.Config,
        `${FIELD}: the region cannot check a network-config: ${cmd} is not installed here (apt-get install ${cmd === 'netplan' ? 'netplan.io' : 'cloud-init'})`,
        { details: { field: FIELD } },
      );
    return { ok: false, stderr: err.stderr || err.message };
  }
}

/**
 * Throws a validation error naming `params.networkConfig` (and `who`, e.g. the machine's
 * hostname) when netplan or cloud-init refuses the text; resolves when both accept it.
 */
export async function checkNetworkConfig(text: string, who: string): Promise<void> {
  const key = createHash('sha256').update(text).digest('hex');
  if (passed.has(key)) return;
  const dir = await mkdtemp(join(tmpdir(), 'ingot-netcfg-'));
  try {
    await mkdir(join(dir, 'root/etc/netplan'), { recursive: true });
    const file = join(dir, 'root/etc/netplan/50-ingot.yaml');
    // 0600: netplan warns about (and newer versions refuse) world-readable configs.
    await writeFile(file, text, { mode: 0o600 });
    const np = await tool('netplan', ['generate', '--root-dir', join(dir, 'root')]);
    if (!np.ok)
      throw invalid(FIELD, `${who}: netplan generate refused it: ${reason(np.stderr, dir, 'netplan')}`, {
        tool: 'netplan',
      });
    const ci = await tool('cloud-init', [
      'devel',
      'net-convert',
      '--network-data',
      file,
      '--kind',
      'yaml',
      '--output-kind',
      'eni',
      '--distro',
      'debian',
      '--directory',
      join(dir, 'eni'),
    ]);
    if (!ci.ok)
      throw invalid(
        FIELD,
        `${who}: cloud-init (the deployed OS's renderer) cannot render it: ${reason(ci.stderr, dir, 'cloud-init')}`,
        { tool: 'cloud-init' },
      );
    if (passed.size >= MAX_REMEMBERED) passed.delete(passed.values().next().value as string);
    passed.add(key);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
