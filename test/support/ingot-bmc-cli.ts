/** Runs `ingot bmc …` from src/cli/bmc-command.ts alone, so tests can start the emulator as its own process. */
import { Command } from 'commander';
import { registerBmcCommand } from '../../src/cli/bmc-command.ts';

const program = new Command('ingot');
registerBmcCommand(program);
await program.parseAsync(process.argv);
