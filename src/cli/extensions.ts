/** Commands contributed by other domains (BMC emulator, offline cluster planning). */
import type { Command } from 'commander';
import { registerBmcCommand } from './bmc-command.ts';
import { registerClusterCommand } from './cluster-command.ts';

export function registerExtensions(program: Command): void {
  registerBmcCommand(program);
  registerClusterCommand(program);
}
