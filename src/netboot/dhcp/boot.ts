/**
 * Boot decisions: what a network-booting client is (firmware PXE, iPXE, UEFI HTTP boot, or a
 * plain DHCP client such as an OS) and where it should go next. Pure: no I/O.
 */
import { IPXE_BINARIES, ipxeScriptUrl, uefiHttpBootUrl } from '../urls.ts';
import { ClientArch, encodeSubOptions, IpxeOpt, Opt, PxeOpt } from './options.ts';
import type { DhcpPacket } from './packet.ts';

export const ClientKind = {
  /** Firmware PXE (vendor class `PXEClient…`): gets an iPXE binary over TFTP. */
  Pxe: 'pxe',
  /** iPXE itself (option 175 or user class `iPXE`): gets the machine's HTTP script. */
  Ipxe: 'ipxe',
  /** UEFI HTTP boot (vendor class `HTTPClient…`): gets an HTTP URL of iPXE. */
  Http: 'http',
  /** Anything else (an installed OS, the agent's udhcpc): an address, no boot file. */
  Plain: 'plain',
} as const;
export type ClientKind = (typeof ClientKind)[keyof typeof ClientKind];

export interface ClientInfo {
  kind: ClientKind;
  /** First architecture of option 93, or null when absent. */
  arch: number | null;
  vendorClass: string;
}

export interface BootPlan {
  /** Boot file: a TFTP file name or an HTTP URL; null when there is nothing to boot. */
  file: string | null;
  /** Reply options that make the client accept the plan (60, 43, 175, 97). */
  options: [number, Buffer][];
  /** Why the client gets no boot file (logged), e.g. an architecture we have no binary for. */
  skipped?: string;
}

export function classify(p: DhcpPacket): ClientInfo {
  const vc = p.options.get(Opt.VendorClass)?.toString('latin1') ?? '';
  const archBuf = p.options.get(Opt.ClientArch);
  const arch = archBuf && archBuf.length >= 2 ? archBuf.readUInt16BE(0) : null;
  const uc = p.options.get(Opt.UserClass)?.toString('latin1') ?? '';
  // iPXE sends option 175 with its feature flags; a user class of "iPXE" is the fallback
  // (RFC 3004 framing puts a length byte first, iPXE sends the bare string: accept both).
  if (p.options.has(Opt.Ipxe) || uc === 'iPXE' || uc.endsWith('\x04iPXE') || uc === '\x04iPXE') {
    return { kind: ClientKind.Ipxe, arch, vendorClass: vc };
  }
  if (vc.startsWith('HTTPClient')) return { kind: ClientKind.Http, arch, vendorClass: vc };
  if (vc.startsWith('PXEClient')) return { kind: ClientKind.Pxe, arch, vendorClass: vc };
  return { kind: ClientKind.Plain, arch, vendorClass: vc };
}

/** The iPXE binary for a firmware architecture, or null when Debian's `ipxe` has none. */
export function ipxeBinaryFor(arch: number | null): string | null {
  switch (arch) {
    case null:
    case ClientArch.BiosX86:
      return IPXE_BINARIES.bios;
    case ClientArch.EfiX64:
    case ClientArch.EfiBc:
      // snponly.efi drives the NIC through the firmware's own SNP driver: it works on any
      // NIC the firmware can boot from, unlike ipxe.efi's built-in drivers.
      return IPXE_BINARIES.uefi;
    default:
      return null;
  }
}

export interface PlanContext {
  httpBase: string;
  mac: string;
}

/** Decides what to tell a client that asked for an address (or, in proxy mode, for a boot file). */
export function bootPlan(p: DhcpPacket, client: ClientInfo, ctx: PlanContext): BootPlan {
  switch (client.kind) {
    case ClientKind.Ipxe: {
      // 175.176 = 1 (no-pxedhcp): without it iPXE waits for a ProxyDHCP offer that never
      // comes (measured: 9.9 s → 7.0 s per boot).
      const ipxe = encodeSubOptions([[IpxeOpt.NoPxeDhcp, Buffer.from([1])]]);
      return { file: ipxeScriptUrl(ctx.httpBase, ctx.mac), options: [[Opt.Ipxe, ipxe]] };
    }
    case ClientKind.Http: {
      if (client.arch !== null && client.arch !== ClientArch.EfiX64Http) {
        return { file: null, options: [], skipped: `no iPXE binary for HTTP boot arch ${client.arch}` };
      }
      // UEFI HTTP boot only accepts an offer that echoes vendor class "HTTPClient".
      return {
        file: uefiHttpBootUrl(ctx.httpBase),
        options: [[Opt.VendorClass, Buffer.from('HTTPClient')], ...echoUuid(p)],
      };
    }
    case ClientKind.Pxe: {
      const bin = ipxeBinaryFor(client.arch);
      if (!bin) return { file: null, options: [], skipped: `no iPXE binary for PXE arch ${client.arch}` };
      // Vendor class "PXEClient" marks the offer as PXE-capable; option 43 with discovery
      // control 8 says "the file name is here, skip boot server discovery" (PXE 2.1 §2.4).
      const pxe = encodeSubOptions([[PxeOpt.DiscoveryControl, Buffer.from([8])]]);
      return {
        file: bin,
        options: [[Opt.VendorClass, Buffer.from('PXEClient')], [Opt.VendorSpecific, pxe], ...echoUuid(p)],
      };
    }
    default:
      return { file: null, options: [] };
  }
}

/** Option 97 (the client's GUID) to echo, when it sent one. */
function echoUuid(p: DhcpPacket): [number, Buffer][] {
  const uuid = p.options.get(Opt.ClientUuid);
  return uuid ? [[Opt.ClientUuid, uuid]] : [];
}
