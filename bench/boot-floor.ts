/**
 * The boot floor is an optional peer of the boot benchmarks: a separate tool (`boot-floor`) that
 * times the fastest network boot this machine does with standard Debian tools (dnsmasq, a static
 * HTTP server, the same QEMU, ROM and kernel with a busybox initramfs) and prints
 * `floor: MODE median=X.XXs`. It is not part of this repository. Point INGOT_BOOT_FLOOR at it to
 * compare against it; without it the benchmarks measure Ingot alone and say so.
 */
import { execFile as execFileCb } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

/** The boot-floor tool's path, or undefined (with a message on stderr naming what is missing). */
export function bootFloorTool(): string | undefined {
  const tool = process.env.INGOT_BOOT_FLOOR;
  if (tool) {
    try {
      accessSync(tool, constants.X_OK);
      return tool;
    } catch {
      console.error(`bench: INGOT_BOOT_FLOOR=${tool} is not an executable file`);
      process.exit(2);
    }
  }
  console.error(
    'bench: boot-floor is missing (set INGOT_BOOT_FLOOR=/path/to/boot-floor): the floor comparison is skipped, Ingot is measured alone',
  );
  return undefined;
}

/** Runs the floor tool once with ARGS; returns its stdout and the median from its `floor:` line. */
export async function runBootFloor(
  tool: string,
  args: string[],
): Promise<{ stdout: string; median: number }> {
  const { stdout } = await execFile(tool, [...args, '--runs', '1'], { maxBuffer: 16 * 2 ** 20 });
  const m = /floor: \S+ median=([\d.]+)s/.exec(stdout);
  if (!m) throw new Error(`boot-floor printed no floor line:\n${stdout}`);
  return { stdout, median: Number(m[1]) };
}
