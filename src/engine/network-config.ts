/**
 * A deploy's network-config checked by the real tools before the region accepts the deploy:
 * - netplan's generator (`netplan generate --root-dir`, Debian's netplan.io; its C generator
 *   `/usr/libexec/netplan/generate` directly when present, which is what the command runs): the
 *   file is valid netplan v2 and renders to systemd-networkd units — unknown keys, bad bond
 *   modes, bad addresses fail;
 * - cloud-init's `devel net-convert -O eni -D debian`: the renderer the deployed Debian image
 *   itself runs at first boot (cloud-init's ENI renderer; docs/node-os.md). It is stricter than
 *   netplan in places (cloud-init 22.4 refuses `routes: [{to: default}]`), and a config it
 *   cannot render would leave the node without its planned address. A batch runs net-convert's
 *   own code once per config in one Python process (a cluster of 1,000 nodes must not start
 *   1,000 interpreters).
 * A refusal is a validation error on `params.networkConfig` naming the machine, with the tool's
 * own message. Each shape (`shapeOf`: the text up to its IPv4 addresses and MACs) is checked
 * once per process: a retried deploy, or a cluster's nodes that differ only in addresses, are
 * not re-run.
 */
import { execFile as execFileCb, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';

const execFile = promisify(execFileCb);

const FIELD = 'params.networkConfig';
const TIMEOUT_MS = 60_000;
const NETPLAN_GENERATOR = '/usr/libexec/netplan/generate';
/** Texts that passed, by SHA-256 (bounded: oldest forgotten first). */
const passed = new Set<string>();
const MAX_REMEMBERED = 8192;
const NETPLAN_AT_ONCE = 4;

/** One config per stdin line ({file, out}); one {ok, error} line back: net-convert's own code. */
const NET_CONVERT = `
import json, sys
from cloudinit.cmd.devel import net_convert
parser = net_convert.get_parser()
for line in sys.stdin:
    job = json.loads(line)
    try:
        args = parser.parse_args(['--network-data', job['file'], '--kind', 'yaml', '--output-kind', 'eni',
                                  '--distro', 'debian', '--directory', job['out']])
        try:
            net_convert.handle_args('net-convert', args)
        finally:
            args.network_data.close()
        print(json.dumps({'ok': True}), flush=True)
    except BaseException as e:
        print(json.dumps({'ok': False, 'error': str(e) or type(e).__name__}), flush=True)
`;

function missing(tool: 'netplan' | 'cloud-init'): IngotError {
  return new IngotError(
    ErrorCode.Config,
    `${FIELD}: the region cannot check a network-config: ${tool} is not installed here (apt-get install ${tool === 'netplan' ? 'netplan.io' : 'cloud-init'})`,
    { details: { field: FIELD } },
  );
}

function onPath(cmd: string): string | null {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(d, cmd);
    if (d && existsSync(p)) return p;
  }
  return null;
}

/** netplan's error for one file, or null when it generates; temp paths become `network-config`. */
async function netplan(root: string, file: string): Promise<string | null> {
  const [cmd, args] = existsSync(NETPLAN_GENERATOR)
    ? [NETPLAN_GENERATOR, ['--root-dir', root]]
    : [onPath('netplan') ?? 'netplan', ['generate', '--root-dir', root]];
  try {
    await execFile(cmd, args, { timeout: TIMEOUT_MS, env: { LANG: 'C.UTF-8', PATH: process.env.PATH } });
    return null;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string | number };
    if (err.code === 'ENOENT') throw missing('netplan');
    const lines = (err.stderr || err.message)
      .replaceAll(file, 'network-config')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return lines.slice(0, 3).join(' | ') || 'failed';
  }
}

/** cloud-init's error per file (null: rendered), all in one Python process. */
async function cloudInit(jobs: readonly { file: string; out: string }[]): Promise<(string | null)[]> {
  const ci = onPath('cloud-init');
  if (!ci) throw missing('cloud-init');
  // The interpreter cloud-init itself runs under (its shebang): the one that has its modules.
  const python = /^#!\s*(\S+)/.exec(readFileSync(ci, 'utf8').slice(0, 200))?.[1] ?? '/usr/bin/python3';
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-c', NET_CONVERT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS + jobs.length * 2000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const answers = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { ok: boolean; error?: string });
      if (answers.length !== jobs.length)
        return reject(
          new IngotError(
            ErrorCode.Config,
            `${FIELD}: cloud-init's renderer did not answer for every network-config: ${stderr.trim().split('\n').at(-1) ?? ''}`,
          ),
        );
      resolve(answers.map((a) => (a.ok ? null : (a.error ?? 'failed'))));
    });
    child.stdin.end(jobs.map((j) => JSON.stringify(j)).join('\n') + '\n');
  });
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** A well-formed IPv4 address (not part of a longer number or dotted run). */
const IPV4 = new RegExp(`(?<![\\d.])${OCTET}(?:\\.${OCTET}){3}(?![\\d.])`, 'g');
const MAC = /(["'])[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\1/g;
const BARE_MAC = /(?<![0-9A-Fa-f:"'])[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?![0-9A-Fa-f:"'])/g;
/** YAML 1.1's sexagesimal integer: what a YAML 1.1 reader (cloud-init's) makes of `52:54:00:12:34:01`. */
const YAML11_INT = /^[1-9][0-9_]*(?::[0-5]?[0-9])+$/;
/(?<![0-9A-Fa-f:"'])(?=[0-9:]*[A-Fa-f])[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?![0-9A-Fa-f:"'])/g;

/**
 * What decides whether netplan and cloud-init take a config, as a key: the text with each
 * well-formed IPv4 address and MAC replaced by a placeholder (prefix lengths, names, modes, MTUs
 * and VLAN ids stay). Neither tool relates one address or MAC to another, so two texts of one
 * shape pass or fail together; a malformed address is not replaced and keeps its text distinct.
 */
export function shapeOf(text: string): string {
  // An unquoted MAC a YAML 1.1 reader takes for a number stays as it is (it reads differently).
  const shape = text
    .replace(IPV4, '<ipv4>')
    .replace(MAC, '$1<mac>$1')
    .replace(BARE_MAC, (m) => (YAML11_INT.test(m) ? m : '<bare-mac>'));
  return createHash('sha256').update(shape).digest('hex');
}

/**
 * Checks every text (each shape once); throws a validation error naming
 * `params.networkConfig` and the first refused item's `who` (a machine) with the tool's words.
 */
export async function checkNetworkConfigs(items: readonly { text: string; who: string }[]): Promise<void> {
  // One representative per shape is run through the tools; the others of its shape pass or fail
  // with it (a cluster's 1,000 nodes are a handful of shapes).
  const todo = new Map<string, { text: string; who: string }>();
  for (const it of items) {
    const key = shapeOf(it.text);
    if (!passed.has(key) && !todo.has(key)) todo.set(key, it);
  }
  if (todo.size === 0) return;
  const dir = await mkdtemp(join(tmpdir(), 'ingot-netcfg-'));
  try {
    const jobs = [...todo].map(([key, it], i) => ({
      key,
      ...it,
      root: join(dir, `r${i}`),
      out: join(dir, `e${i}`),
    }));
    for (const j of jobs) {
      await mkdir(join(j.root, 'etc/netplan'), { recursive: true });
      // 0600: netplan warns about (and newer versions refuse) world-readable configs.
      await writeFile(join(j.root, 'etc/netplan/50-ingot.yaml'), j.text, { mode: 0o600 });
    }
    // A few generators at once (each is a short C program); the first refusal in input order wins.
    const whys: (string | null)[] = new Array(jobs.length).fill(null);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(NETPLAN_AT_ONCE, jobs.length) }, async () => {
        for (let i = next++; i < jobs.length; i = next++)
          whys[i] = await netplan(jobs[i].root, join(jobs[i].root, 'etc/netplan/50-ingot.yaml'));
      }),
    );
    const refused = whys.findIndex((w) => w !== null);
    if (refused >= 0)
      throw invalid(FIELD, `${jobs[refused].who}: netplan generate refused it: ${whys[refused]}`, {
        tool: 'netplan',
      });
    const errors = await cloudInit(
      jobs.map((j) => ({ file: join(j.root, 'etc/netplan/50-ingot.yaml'), out: j.out })),
    );
    const bad = errors.findIndex((e) => e !== null);
    if (bad >= 0)
      throw invalid(
        FIELD,
        `${jobs[bad].who}: cloud-init (the deployed OS's renderer) cannot render it: ${errors[bad]}`,
        { tool: 'cloud-init' },
      );
    for (const j of jobs) {
      if (passed.size >= MAX_REMEMBERED) passed.delete(passed.values().next().value as string);
      passed.add(j.key);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One deploy's network-config; `who` names the machine in a refusal. */
export function checkNetworkConfig(text: string, who: string): Promise<void> {
  return checkNetworkConfigs([{ text, who }]);
}
