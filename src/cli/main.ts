/**
 * The `ingot` command. Every command but `serve` (and the standalone tools: `bmc emulate`,
 * offline `cluster plan|render`) talks to a region over HTTP like any other client.
 */
import { Command, CommanderError } from 'commander';
import { toIngotError } from '../core/errors.ts';
import { Exit, exitFor } from './client.ts';
import { registerBmcCommand } from './commands/bmc.ts';
import { registerBundleCommand } from './commands/bundle.ts';
import { registerClusterCommand } from './commands/cluster.ts';
import { registerCostCommands } from './commands/cost.ts';
import { registerImageCommand } from './commands/image.ts';
import { registerLabCommand } from './commands/lab.ts';
import { registerLogin } from './commands/login.ts';
import { registerMachine } from './commands/machine.ts';
import { registerRackCommand } from './commands/rack.ts';
import { registerServe } from './commands/serve.ts';
import { registerSubnet } from './commands/subnet.ts';
import { registerToken } from './commands/token.ts';
import { resolvePathOptions } from './paths.ts';

export function buildProgram(): Command {
  const program = new Command('ingot')
    .description('Ingot: bare-metal Kubernetes from powered-off servers')
    .version('0.1.0')
    .option('--url <url>', 'region URL (env INGOT_URL; default https://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (env INGOT_TOKEN, or `ingot login`)')
    .option(
      '--fingerprint <sha256>',
      'trust only the region certificate with this SHA-256 fingerprint (env INGOT_FINGERPRINT, or `ingot login`)',
    )
    .option('-o, --output <format>', 'table, json or yaml (csv for cost)', 'table')
    .showHelpAfterError()
    .exitOverride()
    // Once, before any action: path options become absolute (src/cli/paths.ts).
    .hook('preAction', (_program, action) => {
      for (const [key, path] of Object.entries(resolvePathOptions(action.opts())))
        action.setOptionValue(key, path);
    });
  registerServe(program);
  registerMachine(program);
  registerSubnet(program);
  registerToken(program);
  registerLogin(program);
  registerBmcCommand(program);
  registerClusterCommand(program);
  registerCostCommands(program);
  registerLabCommand(program);
  registerImageCommand(program);
  registerBundleCommand(program);
  registerRackCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return Exit.Ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? Exit.Ok : Exit.Usage;
    }
    const err = toIngotError(e);
    if (!err.details.silent) process.stderr.write(`ingot: ${err.message} [${err.code}]\n`);
    return exitFor(err);
  }
}

if (import.meta.main) {
  const code = await main(process.argv);
  // `serve`, `rack` and `bmc emulate` keep running; everything else exits with its code.
  const argv = process.argv.slice(2);
  const withValue = new Set(['--url', '--token', '--fingerprint', '-o', '--output']);
  const command = argv.find((a, i) => !a.startsWith('-') && !withValue.has(argv[i - 1] ?? ''));
  const service =
    command === 'serve' || command === 'rack' || (command === 'bmc' && argv.includes('emulate'));
  if (!service || code !== Exit.Ok) {
    await flushed();
    // A command that ended on its own failure (`--wait` on a failed job) set process.exitCode.
    process.exit(code === Exit.Ok && typeof process.exitCode === 'number' ? process.exitCode : code);
  }
}

/**
 * Resolves once stdout and stderr have handed everything to the OS. On Linux Node writes to a
 * pipe asynchronously once the pipe is full: `process.exit` would drop the rest (a long
 * `ingot machine events` piped to a slow reader lost its newest lines).
 */
export function flushed(): Promise<void> {
  const drain = (s: NodeJS.WriteStream) =>
    s.writableLength === 0 ? Promise.resolve() : new Promise<void>((r) => s.write('', () => r()));
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => undefined);
}
