/**
 * iPXE scripts from a machine's state. Pure: the server fetches the machine and mints the
 * token; this file only decides what the firmware runs next.
 */
import type { Machine } from '../../core/machine.ts';

/**
 * How a machine that should not network-boot leaves iPXE. Firmware differs: some BIOSes hang
 * on `exit`, some UEFI builds cannot `sanboot` a local disk, and a few only fall through to the
 * next boot device when the script fetch itself fails. Chosen per machine by a tag.
 */
export const LocalBoot = { Exit: 'exit', Sanboot: 'sanboot', NotFound: '404' } as const;
export type LocalBoot = (typeof LocalBoot)[keyof typeof LocalBoot];

/** Tag prefix that selects the local-boot method: `localboot.sanboot`, `localboot.404`. */
export const LOCALBOOT_TAG = 'localboot.';

export function localBootOf(machine: Pick<Machine, 'tags'>): LocalBoot {
  for (const t of machine.tags) {
    if (!t.startsWith(LOCALBOOT_TAG)) continue;
    const v = t.slice(LOCALBOOT_TAG.length);
    if (v === LocalBoot.Sanboot || v === LocalBoot.NotFound || v === LocalBoot.Exit) return v;
  }
  return LocalBoot.Exit;
}

/** The local-boot script, or null for `404` (the server answers 404 so firmware moves on). */
export function localBootScript(mode: LocalBoot, why: string): string | null {
  if (mode === LocalBoot.NotFound) return null;
  const head = `#!ipxe\necho Ingot: ${why}: booting from local disk\n`;
  if (mode === LocalBoot.Exit) return `${head}exit\n`;
  // `sanboot --drive 0x80` is a BIOS (INT 13h) feature; under UEFI fall back to exit.
  return `${head}iseq \${platform} pcbios && sanboot --no-describe --drive 0x80 || exit\n`;
}

export interface EphemeralBoot {
  readonly kernelUrl: string;
  readonly initrdUrl: string;
  /** Kernel command line, without `initrd=` (added here). */
  readonly args: string;
}

/** The image name the EFI stub looks up: UEFI iPXE needs `initrd=NAME` on the kernel line. */
export const INITRD_NAME = 'initrd.img';

/**
 * Kernel + initrd. `initrd --name` fixes the image's name whatever the URL's query string,
 * so `initrd=initrd.img` matches under UEFI; BIOS kernels ignore the argument.
 */
export function ephemeralScript(b: EphemeralBoot): string {
  return [
    '#!ipxe',
    `kernel ${b.kernelUrl} initrd=${INITRD_NAME} ${b.args}`,
    `initrd --name ${INITRD_NAME} ${b.initrdUrl}`,
    'boot',
    '',
  ].join('\n');
}

/**
 * Kernel command line of the ephemeral OS: where to phone home, with which token, and the
 * rack certificate's public-key pin (`ingot.pin=sha256//…`) the agent's curl accepts alone.
 */
export function ephemeralArgs(o: {
  agentUrl: string;
  token: string;
  pin?: string | null;
  extra?: string;
}): string {
  // `quiet`: serial output under TCG (and on slow BMC consoles) costs ~0.4 s per boot.
  const pin = o.pin ? ` ingot.pin=${o.pin}` : '';
  const base = `console=ttyS0 quiet panic=-1 ingot.url=${o.agentUrl}${pin} ingot.token=${o.token}`;
  return o.extra ? `${base} ${o.extra}` : base;
}
