/**
 * Workflows as ordered lists of single-action steps (like Tinkerbell's BMC jobs): each step
 * does one thing, is safe to repeat after a crash, and gets its own start/end on the timeline.
 */
import { WorkflowKind } from '../core/lifecycle.ts';

export const WORKFLOWS: Readonly<Record<WorkflowKind, readonly string[]>> = {
  [WorkflowKind.Commission]: [
    'set-boot-network',
    'boot',
    'wait-agent',
    'inventory',
    'hardware-tests',
    'power-off',
  ],
  [WorkflowKind.Deploy]: [
    'set-boot-network',
    'boot',
    'wait-agent',
    'write-image',
    'set-boot-disk',
    'power-cycle',
    'wait-os',
  ],
  [WorkflowKind.Release]: ['set-boot-network', 'boot', 'wait-agent', 'wipe-disks', 'power-off'],
  [WorkflowKind.PowerOn]: ['power-on'],
  [WorkflowKind.PowerOff]: ['power-off'],
  [WorkflowKind.PowerCycle]: ['power-cycle'],
  [WorkflowKind.Rescue]: ['set-boot-network', 'boot', 'wait-agent'],
  [WorkflowKind.ExitRescue]: ['set-boot-disk', 'power-cycle'],
};
