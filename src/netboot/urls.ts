/**
 * The contract between the DHCP server (which tells firmware where to go) and the HTTP boot
 * server (which answers there). Both import these; nothing else spells the paths.
 */

import { HELLO_EVENT } from '../core/agent-protocol.ts';

/** `52:54:00:12:34:56` → `52-54-00-12-34-56` (safe in URL paths and file names). */
export function macPath(mac: string): string {
  return mac.toLowerCase().replace(/:/g, '-');
}

/** The per-machine iPXE script: what DHCP hands to iPXE clients (option 175 seen). */
export function ipxeScriptUrl(httpBase: string, mac: string): string {
  return `${httpBase.replace(/\/+$/, '')}/boot/${macPath(mac)}.ipxe`;
}

/** iPXE binaries (Debian's `ipxe` package), served by TFTP to PXE firmware and by HTTP to UEFI HTTP boot. */
export const IPXE_BINARIES = {
  /** Legacy BIOS PXE. */
  bios: 'undionly.kpxe',
  /** UEFI x86-64 PXE: uses the firmware's network driver. */
  uefi: 'snponly.efi',
  /** UEFI x86-64 HTTP boot: iPXE with its own drivers. */
  uefiHttp: 'ipxe.efi',
} as const;

/** UEFI HTTP boot URL of the iPXE binary. */
export function uefiHttpBootUrl(httpBase: string): string {
  return `${httpBase.replace(/\/+$/, '')}/ipxe/${IPXE_BINARIES.uefiHttp}`;
}

/** Event types every boot step writes to the machine's timeline (see docs/netboot.md). */
export const BootEvent = {
  DhcpDiscover: 'dhcp.discover',
  DhcpOffer: 'dhcp.offer',
  DhcpRequest: 'dhcp.request',
  DhcpAck: 'dhcp.ack',
  DhcpNak: 'dhcp.nak',
  TftpFetch: 'tftp.fetch',
  IpxeScript: 'http.script',
  Artifact: 'http.artifact',
  Metadata: 'metadata.fetch',
  MetadataDenied: 'metadata.denied',
  /** A Kubernetes bundle file refused to a request without a valid token from its machine. */
  BundleDenied: 'bundle.denied',
  /** An OS image refused to a request without a valid token from its machine. */
  ImageDenied: 'image.denied',
  /** A node agent's OS token presented from an address not leased to its machine (a security event). */
  NodeAgentDenied: 'node-agent.denied',
  AgentHello: HELLO_EVENT,
} as const;
export type BootEvent = (typeof BootEvent)[keyof typeof BootEvent];
