/**
 * Starts OpenIPMI's ipmi_sim (a real IPMI 2.0 LAN BMC) on a free loopback UDP port in a fresh
 * state directory, with a chassis_control script that keeps power and boot device in files
 * the test can read. Config as in the shared TESTING.md; ipmitool must use cipher suite 3.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export interface IpmiSim {
  readonly port: number;
  readonly dir: string;
  readonly username: string;
  readonly password: string;
  /** Current state as chassis_control recorded it. */
  power(): string;
  boot(): string;
  /** Every `set` chassis_control received, in order (`power 1`, `boot pxe`…). */
  sets(): string[];
  stop(): Promise<void>;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const CHASSIS_CONTROL = `#!/bin/sh
# chassis_control for ipmi_sim: "get power boot" prints state, "set KEY VALUE" changes it.
D="$(dirname "$0")"
[ -f "$D/power" ] || echo 0 > "$D/power"
[ -f "$D/boot" ] || echo none > "$D/boot"
shift_mc() { case "$1" in 0x*) return 0;; esac; return 1; }
if shift_mc "$1"; then shift; fi
cmd="$1"; shift
case "$cmd" in
get)
  for k in "$@"; do
    case "$k" in
      power) echo "power:$(cat "$D/power")";;
      boot) echo "boot:$(cat "$D/boot")";;
    esac
  done;;
set)
  while [ $# -ge 2 ]; do
    echo "$1 $2" >> "$D/sets"
    case "$1" in
      power) echo "$2" > "$D/power";;
      boot) echo "$2" > "$D/boot";;
      shutdown) echo 0 > "$D/power";;
      reset) ;;
      *) exit 1;;
    esac
    shift 2
  done;;
*) exit 1;;
esac
exit 0
`;

export async function startIpmiSim(opts: { extraEmu?: string[] } = {}): Promise<IpmiSim> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingot-ipmisim-'));
  const port = await freeUdpPort();
  const username = 'admin';
  const password = 'sim-secret-7';
  const control = path.join(dir, 'chassis-control');
  fs.writeFileSync(control, CHASSIS_CONTROL, { mode: 0o755 });
  fs.writeFileSync(
    path.join(dir, 'lan.conf'),
    `name "bmc1"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${control}"
  user 2 true "${username}" "${password}" admin 10 none md2 md5 straight
`,
  );
  fs.writeFileSync(
    path.join(dir, 'bmc.emu'),
    [
      'mc_setbmc 0x20',
      'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr',
      'sel_enable 0x20 1000 0x0a',
      ...(opts.extraEmu ?? []),
      'mc_enable 0x20',
      '',
    ].join('\n'),
  );
  fs.mkdirSync(path.join(dir, 'state'));
  const proc: ChildProcess = spawn(
    'ipmi_sim',
    ['-c', path.join(dir, 'lan.conf'), '-f', path.join(dir, 'bmc.emu'), '-s', path.join(dir, 'state'), '-n'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // A safety net if the test process ends without running its after() hook.
  const reap = () => proc.kill('SIGKILL');
  process.once('exit', reap);
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(3000).then(() => proc.kill('SIGKILL'))]);
    }
    process.off('exit', reap);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Wait until it answers a real IPMI request.
  const run = promisify(execFile);
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`ipmi_sim exited: ${stderr}`);
    const ok = await run(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-H',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        username,
        '-E',
        '-C',
        '3',
        '-N',
        '1',
        '-R',
        '1',
        'mc',
        'info',
      ],
      { env: { ...process.env, IPMI_PASSWORD: password } },
    ).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (i > 40) {
      await stop();
      throw new Error(`ipmi_sim did not answer on port ${port}: ${stderr}`);
    }
    await sleep(100);
  }
  const read = (f: string) =>
    fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8').trim() : '';
  return {
    port,
    dir,
    username,
    password,
    power: () => read('power'),
    boot: () => read('boot'),
    sets: () => read('sets').split('\n').filter(Boolean),
    stop,
  };
}
