/**
 * Three vocabularies kept apart (as maas-ui does): wire codes (`failed_commissioning`),
 * display labels ("Failed commissioning") and actions ("Power off"). Each state also has a
 * tone for colour, always shown next to its label, never alone.
 */
import type { Action, MachineState, PowerState } from '../api/types.ts';

export type Tone = 'ok' | 'busy' | 'idle' | 'held' | 'warn' | 'error';

export const STATES: Readonly<Record<MachineState, { label: string; tone: Tone; short: string }>> = {
  new: { label: 'New', tone: 'idle', short: 'NW' },
  commissioning: { label: 'Commissioning', tone: 'busy', short: 'CM' },
  ready: { label: 'Ready', tone: 'ok', short: 'RD' },
  allocated: { label: 'Allocated', tone: 'held', short: 'AL' },
  deploying: { label: 'Deploying', tone: 'busy', short: 'DP' },
  deployed: { label: 'Deployed', tone: 'ok', short: 'DD' },
  releasing: { label: 'Releasing', tone: 'busy', short: 'RL' },
  rescue: { label: 'Rescue', tone: 'warn', short: 'RS' },
  broken: { label: 'Broken', tone: 'error', short: 'BR' },
  retired: { label: 'Retired', tone: 'idle', short: 'RT' },
  failed_commissioning: { label: 'Failed commissioning', tone: 'error', short: 'FC' },
  failed_deploying: { label: 'Failed deploying', tone: 'error', short: 'FD' },
  failed_releasing: { label: 'Failed releasing', tone: 'error', short: 'FR' },
};

export const STATE_ORDER = Object.keys(STATES) as MachineState[];

export const POWER: Readonly<Record<PowerState, { label: string; tone: Tone }>> = {
  on: { label: 'On', tone: 'ok' },
  off: { label: 'Off', tone: 'idle' },
  unknown: { label: 'Unknown', tone: 'warn' },
};

export const ACTIONS: Readonly<
  Record<Action, { label: string; destructive?: boolean; confirm?: string; asksImage?: boolean }>
> = {
  commission: { label: 'Commission' },
  allocate: { label: 'Allocate' },
  deploy: { label: 'Deploy', asksImage: true },
  redeploy: {
    label: 'Redeploy',
    asksImage: true,
    destructive: true,
    confirm: 'Redeploying writes the disk again: what the running OS holds is lost.',
  },
  release: { label: 'Release', destructive: true, confirm: 'Releasing wipes the disks.' },
  'power-on': { label: 'Power on' },
  'power-off': {
    label: 'Power off',
    destructive: true,
    confirm: 'A hard power-off stops whatever runs on it.',
  },
  'power-cycle': { label: 'Power cycle', destructive: true, confirm: 'A power cycle restarts it at once.' },
  rescue: { label: 'Rescue mode' },
  'exit-rescue': { label: 'Exit rescue' },
  'mark-broken': { label: 'Mark broken' },
  'mark-fixed': { label: 'Mark fixed' },
  abort: { label: 'Abort', destructive: true, confirm: 'Aborting stops the running workflow.' },
  retire: { label: 'Retire', destructive: true, confirm: 'A retired machine is out of service for good.' },
};

/** Actions offered for many machines at once, in toolbar order. */
export const BULK_ACTIONS: readonly Action[] = [
  'commission',
  'deploy',
  'release',
  'power-on',
  'power-off',
  'power-cycle',
  'abort',
];

/** Unhealthy: shown red on the rack view. */
export const isUnhealthy = (s: MachineState) => STATES[s].tone === 'error';
