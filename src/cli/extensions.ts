/** Commands contributed by other domains (BMC emulator, cluster planning, the lab). */
import type { Command } from 'commander';
import { registerBmcCommand } from './bmc-command.ts';
import { registerClusterCommand } from './cluster-command.ts';
import { registerLabCommand } from './lab-command.ts';

export function registerExtensions(program: Command): void {
  registerBmcCommand(program);
  registerClusterCommand(program);
  registerLabCommand(program);
}
