/**
 * A real containerd (Debian's) for tests: its own root, state and socket in a temp dir, the
 * CRI plugin off (nothing here needs it and it would touch the host's CNI config), stopped by
 * PID in `stop()`. `ctr` talks to it through CONTAINERD_ADDRESS.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestContainerd {
  readonly address: string;
  /** Environment for `ctr` and scripts that call it. */
  readonly env: Record<string, string>;
  /** `ctr -n k8s.io …` against this containerd. */
  ctr(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startContainerd(dir: string): Promise<TestContainerd> {
  mkdirSync(dir, { recursive: true });
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d) => {
    log = (log + d).slice(-8000);
  });
  const env = { CONTAINERD_ADDRESS: address };
  const ctr = async (args: string[]) =>
    (await run('ctr', ['-n', 'k8s.io', ...args], { env: { ...process.env, ...env } })).stdout;
  const end = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}:\n${log}`);
    if (
      existsSync(address) &&
      (await ctr(['version']).then(
        () => true,
        () => false,
      ))
    )
      break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`containerd did not answer on ${address}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    env,
    ctr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
