/**
 * Builds client-side DHCP packets the way firmware, iPXE and relays send them: used by the
 * tests, the fuzzer's seed corpus and the lab's checks. Not used by the server itself.
 */
import { ClientArch, encodeSubOptions, ipToBuf, type MessageType, Opt } from './options.ts';
import { BOOTREQUEST, type DhcpPacket } from './packet.ts';

export type ClientProfile = 'bios-pxe' | 'uefi-pxe' | 'ipxe' | 'uefi-http' | 'plain';

export interface ClientPacketInput {
  mac: string;
  type: MessageType;
  xid?: number;
  profile?: ClientProfile;
  giaddr?: string;
  ciaddr?: string;
  requestedIp?: string;
  serverId?: string;
  /** Option 82 bytes a relay would add. */
  relayInfo?: Buffer;
  flags?: number;
  arch?: number;
}

function macBytes(mac: string): Buffer {
  const b = Buffer.alloc(16);
  Buffer.from(mac.replace(/[:-]/g, ''), 'hex').copy(b);
  return b;
}

export function clientPacket(i: ClientPacketInput): DhcpPacket {
  const o = new Map<number, Buffer>();
  o.set(Opt.MessageType, Buffer.from([i.type]));
  if (i.requestedIp) o.set(Opt.RequestedIp, ipToBuf(i.requestedIp));
  if (i.serverId) o.set(Opt.ServerId, ipToBuf(i.serverId));
  o.set(Opt.ParamList, Buffer.from([1, 3, 6, 12, 15, 17, 43, 60, 66, 67, 175]));
  const arch = (n: number) => Buffer.from([(i.arch ?? n) >> 8, (i.arch ?? n) & 255]);
  const guid = Buffer.from('8a3e1f2c5b6d4e7f8091a2b3c4d5e6f7', 'hex');
  switch (i.profile ?? 'plain') {
    case 'bios-pxe':
      o.set(Opt.VendorClass, Buffer.from('PXEClient:Arch:00000:UNDI:002001'));
      o.set(Opt.ClientArch, arch(ClientArch.BiosX86));
      o.set(Opt.ClientNdi, Buffer.from([1, 2, 1]));
      o.set(Opt.ClientUuid, Buffer.concat([Buffer.from([0]), guid]));
      break;
    case 'uefi-pxe':
      o.set(Opt.VendorClass, Buffer.from('PXEClient:Arch:00007:UNDI:003016'));
      o.set(Opt.ClientArch, arch(ClientArch.EfiX64));
      o.set(Opt.ClientUuid, Buffer.concat([Buffer.from([0]), guid]));
      break;
    case 'ipxe':
      // What Debian's undionly.kpxe sends: PXE vendor class, user class and option 175.
      o.set(Opt.VendorClass, Buffer.from('PXEClient:Arch:00000:UNDI:002001'));
      o.set(Opt.ClientArch, arch(ClientArch.BiosX86));
      o.set(Opt.UserClass, Buffer.from('iPXE'));
      o.set(
        Opt.Ipxe,
        encodeSubOptions([
          [177, Buffer.from([1, 0, 0, 0])], // version-ish fields, as iPXE sends a few
          [19, Buffer.from([1])], // HTTP
          [23, Buffer.from([1])], // DNS
        ]),
      );
      break;
    case 'uefi-http':
      o.set(Opt.VendorClass, Buffer.from('HTTPClient:Arch:00016:UNDI:003001'));
      o.set(Opt.ClientArch, arch(ClientArch.EfiX64Http));
      break;
    default:
      break;
  }
  if (i.relayInfo) o.set(Opt.RelayAgentInfo, i.relayInfo);
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: i.giaddr ? 1 : 0,
    xid: i.xid ?? Math.floor(Math.random() * 0xffffffff),
    secs: 0,
    flags: i.flags ?? 0,
    ciaddr: i.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: i.giaddr ?? '0.0.0.0',
    chaddr: macBytes(i.mac),
    sname: '',
    file: '',
    options: o,
  };
}
