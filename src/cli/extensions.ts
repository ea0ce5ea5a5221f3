/** Commands contributed by other domains (BMC emulator, cluster planning, the lab, images, bundles, rack services). */
import type { Command } from 'commander';
import { registerBmcCommand } from './bmc-command.ts';
import { registerBundleCommand } from './bundle-command.ts';
import { registerClusterCommand } from './cluster-command.ts';
import { registerImageCommand } from './image-command.ts';
import { registerLabCommand } from './lab-command.ts';
import { registerRackCommand } from './rack-command.ts';

export function registerExtensions(program: Command): void {
  registerBmcCommand(program);
  registerClusterCommand(program);
  registerLabCommand(program);
  registerImageCommand(program);
  registerBundleCommand(program);
  registerRackCommand(program);
}
