/**
 * DHCPv4 option codes (RFC 2132 and later) and the small value helpers the server needs.
 * Options are kept as raw bytes in a packet; these helpers read and write the few we use.
 */

export const Opt = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DnsServers: 6,
  Hostname: 12,
  DomainName: 15,
  VendorSpecific: 43,
  RequestedIp: 50,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerId: 54,
  ParamList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClass: 60,
  ClientId: 61,
  TftpServerName: 66,
  BootfileName: 67,
  UserClass: 77,
  RelayAgentInfo: 82,
  ClientArch: 93,
  ClientNdi: 94,
  ClientUuid: 97,
  Ipxe: 175,
  End: 255,
} as const;

export const MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const MESSAGE_NAMES: Record<number, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
};

/** Client system architecture types (option 93, RFC 4578 and the IANA registry). */
export const ClientArch = {
  BiosX86: 0,
  EfiIa32: 6,
  EfiX64: 7,
  /** Some early firmware reported x64 UEFI as 9 ("EFI BC"); treat it like 7. */
  EfiBc: 9,
  EfiArm64: 11,
  EfiX64Http: 16,
  EfiArm64Http: 19,
} as const;

/** iPXE's encapsulated options inside option 175. */
export const IpxeOpt = {
  /** no-pxedhcp: 1 tells iPXE not to wait for a ProxyDHCP offer. */
  NoPxeDhcp: 176,
  /** Feature flag the client sends when it can fetch over HTTP. */
  FeatureHttp: 19,
} as const;

/** PXE vendor options inside option 43 (PXE spec 2.1). */
export const PxeOpt = {
  /** Bit 3 (value 8): boot file name present; skip boot server discovery. */
  DiscoveryControl: 6,
} as const;

export function ipToBuf(ip: string): Buffer {
  const parts = ip.split('.');
  const b = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) b[i] = Number(parts[i]) & 255;
  return b;
}

export function bufToIp(b: Buffer, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function ipsToBuf(ips: readonly string[]): Buffer {
  return Buffer.concat(ips.map(ipToBuf));
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Encodes sub-options as `code, len, value…` (option 43 and 175 use this shape). */
export function encodeSubOptions(subs: readonly (readonly [number, Buffer])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of subs) parts.push(Buffer.from([code, value.length]), value);
  return Buffer.concat(parts);
}

/** Decodes `code, len, value…` sub-options; stops quietly at the first truncated one. */
export function decodeSubOptions(b: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  while (i < b.length) {
    const code = b[i++];
    if (code === Opt.Pad) continue;
    if (code === Opt.End || i >= b.length) break;
    const len = b[i++];
    if (i + len > b.length) break;
    out.set(code, b.subarray(i, i + len));
    i += len;
  }
  return out;
}
