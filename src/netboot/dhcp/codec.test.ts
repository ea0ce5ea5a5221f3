/**
 * DHCP codec and boot decisions. The fixtures are real packets captured from busybox udhcpc
 * (with a PXE vendor class and option 93), ISC dhclient and perfdhcp in relay mode (giaddr
 * set), written as hex with `.N.` for N zero bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootPlan, ClientKind, classify } from './boot.ts';
import { clientPacket } from './client-packet.ts';
import { decodeSubOptions, MessageType, Opt } from './options.ts';
import { DhcpDecodeError, decodeDhcp, encodeDhcp, macOf } from './packet.ts';
import { destination, reply } from './reply.ts';
import type { Subnet } from '../../core/subnet.ts';
import { IPXE_BINARIES, ipxeScriptUrl, uefiHttpBootUrl } from '../urls.ts';

const CAPTURED = {
  udhcpc:
    '010106002833fe62.20.525400123456.202.638253633501013902024037070103060c0f1c2a3c20505845436c69656e743a417263683a30303030303a554e44493a3030323030313d07015254001234565d020000ff',
  dhclient: '010106006fe6815a.20.525400123456.202.638253633501010c02766d370d011c02030f06770c2c2f1a792aff.37.',
  perfdhcp: '01010601.20.0aef0002000c01020304.202.638253633501013707011c02030f060c3d0701000c01020304ff',
};

function unpack(s: string): Buffer {
  return Buffer.from(
    s.replace(/\.(\d+)\./g, (_, n: string) => '00'.repeat(Number(n))),
    'hex',
  );
}

const HTTP = 'http://10.0.0.1:8081';

describe('DHCP codec', () => {
  it('decodes a busybox udhcpc DISCOVER with PXE vendor class and architecture', () => {
    const p = decodeDhcp(unpack(CAPTURED.udhcpc));
    assert.equal(macOf(p), '52:54:00:12:34:56');
    assert.equal(p.xid, 0x2833fe62);
    assert.equal(p.options.get(Opt.MessageType)?.[0], MessageType.Discover);
    assert.equal(p.options.get(Opt.VendorClass)?.toString(), 'PXEClient:Arch:00000:UNDI:002001');
    assert.deepEqual(classify(p), {
      kind: ClientKind.Pxe,
      arch: 0,
      vendorClass: 'PXEClient:Arch:00000:UNDI:002001',
    });
  });

  it('decodes a dhclient DISCOVER as a plain client and a relayed perfdhcp DISCOVER with its giaddr', () => {
    const d = decodeDhcp(unpack(CAPTURED.dhclient));
    assert.equal(d.options.get(Opt.Hostname)?.toString(), 'vm');
    assert.equal(classify(d).kind, ClientKind.Plain);
    const p = decodeDhcp(unpack(CAPTURED.perfdhcp));
    assert.equal(p.giaddr, '10.239.0.2');
    assert.equal(p.hops, 1);
    assert.equal(macOf(p), '00:0c:01:02:03:04');
  });

  it('re-encodes every captured packet byte for byte (after its option area)', () => {
    for (const [name, hex] of Object.entries(CAPTURED)) {
      const raw = unpack(hex);
      const again = encodeDhcp(decodeDhcp(raw));
      // Clients pad differently after End; everything up to End must match exactly.
      const end = raw.indexOf(0xff, 240);
      assert.deepEqual(again.subarray(0, end + 1), raw.subarray(0, end + 1), name);
      assert.ok(again.length >= 300, `${name}: BOOTP minimum size`);
    }
  });

  it('splits options longer than 255 bytes and joins them again (RFC 3396)', () => {
    const p = clientPacket({ mac: '02:00:00:00:00:01', type: MessageType.Discover });
    const long = Buffer.alloc(600, 7);
    p.options.set(Opt.RelayAgentInfo, long);
    const wire = encodeDhcp(p);
    assert.deepEqual(decodeDhcp(wire).options.get(Opt.RelayAgentInfo), long);
  });

  it('reads options overloaded into the file and sname fields', () => {
    const p = clientPacket({ mac: '02:00:00:00:00:02', type: MessageType.Request });
    p.options.set(Opt.Overload, Buffer.from([3]));
    const wire = encodeDhcp(p);
    wire.set([Opt.VendorClass, 3, 0x61, 0x62, 0x63, 0xff], 108); // file
    wire.set([Opt.Hostname, 2, 0x68, 0x69, 0xff], 44); // sname
    const d = decodeDhcp(wire);
    assert.equal(d.options.get(Opt.VendorClass)?.toString(), 'abc');
    assert.equal(d.options.get(Opt.Hostname)?.toString(), 'hi');
    assert.equal(d.file, '');
  });

  it('refuses truncated, oversized and cookie-less packets with a DhcpDecodeError', () => {
    const good = unpack(CAPTURED.udhcpc);
    assert.throws(() => decodeDhcp(good.subarray(0, 200)), DhcpDecodeError);
    assert.throws(() => decodeDhcp(Buffer.concat([good, Buffer.alloc(10_000)])), DhcpDecodeError);
    const noCookie = Buffer.from(good);
    noCookie.writeUInt32BE(0, 236);
    assert.throws(() => decodeDhcp(noCookie), DhcpDecodeError);
    const runaway = Buffer.from(good.subarray(0, 244));
    runaway[240] = Opt.VendorClass;
    runaway[241] = 200; // length past the end
    assert.throws(() => decodeDhcp(runaway), DhcpDecodeError);
  });
});

describe('boot decisions', () => {
  const mac = '52:54:00:aa:bb:cc';
  const plan = (profile: Parameters<typeof clientPacket>[0]['profile'], arch?: number) => {
    const p = clientPacket({ mac, type: MessageType.Discover, profile, arch });
    return bootPlan(p, classify(p), { httpBase: HTTP, mac });
  };

  it('sends BIOS PXE firmware (arch 0) undionly.kpxe with PXE vendor options', () => {
    const b = plan('bios-pxe');
    assert.equal(b.file, IPXE_BINARIES.bios);
    const opts = new Map(b.options);
    assert.equal(opts.get(Opt.VendorClass)?.toString(), 'PXEClient');
    assert.deepEqual(decodeSubOptions(opts.get(Opt.VendorSpecific)!).get(6), Buffer.from([8]));
    assert.ok(opts.has(Opt.ClientUuid), 'echoes the client GUID (option 97)');
  });

  it('sends UEFI x86-64 PXE firmware (arch 7 and 9) snponly.efi', () => {
    assert.equal(plan('uefi-pxe').file, IPXE_BINARIES.uefi);
    assert.equal(plan('uefi-pxe', 9).file, IPXE_BINARIES.uefi);
  });

  it('gives no boot file to an architecture without a Debian iPXE binary (arm64 PXE)', () => {
    const b = plan('uefi-pxe', 11);
    assert.equal(b.file, null);
    assert.match(b.skipped ?? '', /arch 11/);
  });

  it('sends iPXE (option 175) its HTTP script URL with 175.176 = 1 (no-pxedhcp)', () => {
    const b = plan('ipxe');
    assert.equal(b.file, ipxeScriptUrl(HTTP, mac));
    const ipxe = decodeSubOptions(new Map(b.options).get(Opt.Ipxe)!);
    assert.deepEqual(ipxe.get(176), Buffer.from([1]));
  });

  it('sends UEFI HTTP boot (HTTPClient, arch 16) an HTTP URL and echoes HTTPClient', () => {
    const b = plan('uefi-http');
    assert.equal(b.file, uefiHttpBootUrl(HTTP));
    assert.equal(new Map(b.options).get(Opt.VendorClass)?.toString(), 'HTTPClient');
  });

  it('gives a plain DHCP client no boot file', () => {
    assert.equal(plan('plain').file, null);
  });

  it('puts a long boot URL in option 67 when it does not fit the 127-byte file field', () => {
    const long = `http://boot.${'x'.repeat(120)}.example:8081`;
    const req = clientPacket({ mac, type: MessageType.Discover, profile: 'ipxe' });
    const b = bootPlan(req, classify(req), { httpBase: long, mac });
    const r = decodeDhcp(encodeDhcp(reply(req, MessageType.Offer, { serverIp: '10.0.0.1' }, { plan: b })));
    assert.equal(r.file, '');
    assert.equal(r.options.get(Opt.BootfileName)?.toString(), b.file);
  });

  it('encodes a reply from its template the same as from its options map, and honours a changed map', () => {
    const subnet = {
      id: 's1',
      name: 'prov',
      cidr: '10.9.0.0/24',
      gateway: '10.9.0.254',
      dns: ['10.9.0.53', '10.9.0.54'],
    } as unknown as Subnet;
    const relayInfo = Buffer.from([1, 4, 0, 1, 0, 5]);
    for (const profile of ['plain', 'bios-pxe', 'ipxe', 'uefi-http'] as const) {
      for (const type of [MessageType.Offer, MessageType.Ack, MessageType.Nak]) {
        const req = decodeDhcp(
          encodeDhcp(
            clientPacket({ mac, type: MessageType.Request, profile, giaddr: '10.9.0.1', relayInfo }),
          ),
        );
        const b = bootPlan(req, classify(req), { httpBase: HTTP, mac });
        const make = () =>
          reply(
            req,
            type,
            { serverIp: '10.0.0.1', tftpServer: '10.0.0.2' },
            {
              yiaddr: '10.9.0.50',
              subnet,
              lease: { ip: '10.9.0.50', seconds: 600 },
              plan: b,
              message: type === MessageType.Nak ? 'address in use' : undefined,
            },
          );
        const fromTemplate = encodeDhcp(make());
        const r = make();
        const { options, ...fields } = r;
        const fromMap = encodeDhcp({ ...fields, options: new Map(r.options) });
        assert.deepEqual(fromTemplate, fromMap, `${profile} ${type}`);
        assert.deepEqual(encodeDhcp(r), fromMap, `${profile} ${type}: encoded through the map once read`);
        r.options.set(Opt.Hostname, Buffer.from('n1'));
        assert.equal(decodeDhcp(encodeDhcp(r)).options.get(Opt.Hostname)?.toString(), 'n1');
      }
    }
  });

  it('echoes option 82 to relays and addresses replies per RFC 2131 §4.1', () => {
    const relayInfo = Buffer.from([1, 4, 0, 1, 0, 5, 2, 2, 0xaa, 0xbb]);
    const req = clientPacket({ mac, type: MessageType.Discover, giaddr: '10.9.0.1', relayInfo });
    const r = reply(req, MessageType.Offer, { serverIp: '10.0.0.1' }, { yiaddr: '10.9.0.50' });
    assert.deepEqual(r.options.get(Opt.RelayAgentInfo), relayInfo);
    assert.equal([...r.options.keys()].at(-1), Opt.RelayAgentInfo, 'option 82 comes last');
    assert.deepEqual(destination(req, r), { address: '10.9.0.1', port: 67 });
    const ctx = { serverIp: '10.0.0.1' };
    const direct = clientPacket({ mac, type: MessageType.Discover, ciaddr: '10.0.0.99' });
    const offer = reply(direct, MessageType.Offer, ctx, { yiaddr: '10.0.0.7' });
    assert.deepEqual(
      destination(direct, offer),
      { address: '255.255.255.255', port: 68 },
      'a DISCOVER’s ciaddr is not trusted',
    );
    const renew = clientPacket({ mac, type: MessageType.Request, ciaddr: '10.0.0.7' });
    const ack = reply(renew, MessageType.Ack, ctx, { yiaddr: '10.0.0.7', ciaddr: '10.0.0.7' });
    assert.deepEqual(destination(renew, ack), { address: '10.0.0.7', port: 68 });
    assert.deepEqual(destination(renew, reply(renew, MessageType.Nak, ctx, {})), {
      address: '255.255.255.255',
      port: 68,
    });
  });
});
