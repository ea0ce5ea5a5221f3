/**
 * `ingot bmc emulate`: runs the virtual Redfish BMC standalone, for the lab, for trying
 * Redfish clients (sushy, redfishtool) and for reliability tests with injected faults.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { AllFaultKinds, type FaultKind, type FaultOptions } from '../../bmc/emulator/faults.ts';
import { QUIRKS, type Quirk, startEmulator } from '../../bmc/emulator/index.ts';

export interface EmulateFlags {
  listen: string;
  systems: string;
  username: string;
  password: string;
  tls?: boolean;
  certOut?: string;
  faults?: string;
  faultKinds?: string;
  seed?: string;
  quirks?: string;
}

/** Parses `HOST:PORT`, `[V6]:PORT` or `:PORT`. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw invalid('--listen', `"${value}" must be HOST:PORT, e.g. 127.0.0.1:8000 (port 0 picks a free one)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export function faultOptions(
  flags: Pick<EmulateFlags, 'faults' | 'faultKinds' | 'seed'>,
): FaultOptions | undefined {
  if (flags.faults === undefined) return undefined;
  const rate = Number(flags.faults);
  if (!(rate >= 0 && rate <= 1))
    throw invalid('--faults', `"${flags.faults}" must be a share of requests between 0 and 1, e.g. 0.3`);
  const kinds = flags.faultKinds?.split(',').map((k) => k.trim()) as FaultKind[] | undefined;
  const unknown = kinds?.filter((k) => !AllFaultKinds.includes(k));
  if (unknown?.length)
    throw invalid('--fault-kinds', `unknown ${unknown.join(', ')}; use some of ${AllFaultKinds.join(', ')}`);
  return { rate, kinds, seed: flags.seed === undefined ? undefined : Number(flags.seed) };
}

/** `--quirks trailing-slash,…` as the emulator's quirk list. */
export function quirkList(value: string | undefined): Quirk[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((q) => q.trim()) as Quirk[];
  const unknown = list.filter((q) => !QUIRKS.includes(q));
  if (unknown.length)
    throw invalid('--quirks', `unknown ${unknown.join(', ')}; use some of ${QUIRKS.join(', ')}`);
  return list;
}

export function registerBmcCommand(program: Command): Command {
  const bmc = program.command('bmc').description('Work with baseboard management controllers');
  bmc
    .command('emulate')
    .description('Run a virtual Redfish BMC serving one or many systems at /redfish/v1/Systems/<id>')
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free one)', '127.0.0.1:8000')
    .option('--systems <n>', 'how many systems to serve', '1')
    .option('--username <name>', 'user name clients must log in with', 'admin')
    .option('--password <password>', 'password clients must log in with', 'password')
    .option('--tls', 'serve HTTPS with a generated self-signed certificate')
    .option(
      '--cert-out <file>',
      'with --tls: write the generated certificate (PEM) here, for clients to trust',
    )
    .option('--faults <rate>', 'inject faults into this share of requests (0..1), for reliability tests')
    .option('--fault-kinds <list>', `comma-separated faults to draw from (${AllFaultKinds.join(',')})`)
    .option('--seed <n>', 'seed of the fault sequence')
    .option(
      '--quirks <list>',
      `vendor behaviours to imitate (${QUIRKS.join(',')}: HPE iLO's slashed links and 301s)`,
    )
    .action(async (flags: EmulateFlags) => {
      const { host, port } = parseListen(flags.listen);
      const systems = Number(flags.systems);
      if (!Number.isInteger(systems) || systems < 1 || systems > 100_000)
        throw invalid('--systems', `"${flags.systems}" must be a whole number from 1 to 100000`);
      const emu = await startEmulator({
        host,
        port,
        systems,
        username: flags.username,
        password: flags.password,
        tls: flags.tls === true,
        faults: faultOptions(flags),
        quirks: quirkList(flags.quirks),
      });
      const ids = [...emu.systems.keys()];
      const lines = [
        `virtual Redfish BMC listening on ${emu.url}/redfish/v1`,
        `systems: ${ids.length} (${emu.url}/redfish/v1/Systems/${ids[0]}${ids.length > 1 ? ` … ${ids.at(-1)}` : ''})`,
        `user: ${flags.username}`,
      ];
      if (emu.fingerprint256) lines.push(`certificate SHA-256 fingerprint: ${emu.fingerprint256}`);
      if (flags.certOut && emu.certPem) {
        writeFileSync(flags.certOut, emu.certPem);
        lines.push(`certificate written to ${flags.certOut}`);
      }
      if (flags.faults !== undefined) lines.push(`fault injection: ${flags.faults} of requests`);
      lines.push(`Ingot address of the first system: ${emu.address(ids[0])}`);
      process.stdout.write(`${lines.join('\n')}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emu.close();
    });
  return bmc;
}
