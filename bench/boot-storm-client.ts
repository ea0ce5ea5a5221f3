/**
 * The client side of bench/boot-storm.ts, run inside the client namespace: N simulated iPXE
 * clients at once, each doing DHCP DISCOVER/OFFER/REQUEST/ACK (through a relay address, as a
 * rack of machines behind a DHCP relay would), then GET of its iPXE script and of the kernel
 * and initrd the script names. Prints one JSON line of results.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import { clientPacket } from '../src/netboot/dhcp/client-packet.ts';
import { MessageType, Opt, bufToIp } from '../src/netboot/dhcp/options.ts';
import { decodeDhcp, encodeDhcp } from '../src/netboot/dhcp/packet.ts';

const [relay, server, countArg, macPrefix] = process.argv.slice(2);
const count = Number(countArg);
const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
await new Promise<void>((r) => sock.bind(67, relay, r));
// A relay in front of 500 machines gets 1000 replies in a burst; the default buffer drops some.
sock.setRecvBufferSize(8 * 2 ** 20);
sock.setSendBufferSize(8 * 2 ** 20);
const waiting = new Map<number, (p: ReturnType<typeof decodeDhcp>) => void>();
sock.on('message', (buf) => {
  try {
    const p = decodeDhcp(buf);
    waiting.get(p.xid)?.(p);
  } catch {
    // not for us
  }
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
/** DHCP requests that had to be sent again (no reply within the client's timeout). */
let retransmits = 0;

async function exchange(
  pkt: ReturnType<typeof clientPacket>,
  want: number,
): Promise<ReturnType<typeof decodeDhcp>> {
  for (let attempt = 0; attempt < 6; attempt++) {
    const reply = new Promise<ReturnType<typeof decodeDhcp> | null>((resolve) => {
      const t = setTimeout(() => resolve(null), 2000 * (attempt + 1));
      waiting.set(pkt.xid, (p) => {
        if (p.options.get(Opt.MessageType)?.[0] !== want) return;
        clearTimeout(t);
        resolve(p);
      });
    });
    if (attempt > 0) retransmits++;
    sock.send(encodeDhcp(pkt), 67, server);
    const p = await reply;
    if (p) return p;
  }
  throw new Error(`no reply of type ${want} for xid ${pkt.xid.toString(16)}`);
}

function get(url: string): Promise<{ status: number; body: Buffer | null; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        const keep = (res.headers['content-type'] ?? '').startsWith('text/');
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (keep) chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: keep ? Buffer.concat(chunks) : null, bytes }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function client(i: number): Promise<{ dhcpMs: number; doneMs: number; bytes: number }> {
  const t0 = performance.now();
  const mac = `${macPrefix}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  const xid = (0x5700_0000 + i) >>> 0;
  const offer = await exchange(
    clientPacket({ mac, type: MessageType.Discover, xid, profile: 'ipxe', giaddr: relay }),
    MessageType.Offer,
  );
  const serverId = bufToIp(offer.options.get(Opt.ServerId)!);
  const ack = await exchange(
    clientPacket({
      mac,
      type: MessageType.Request,
      xid,
      profile: 'ipxe',
      giaddr: relay,
      requestedIp: offer.yiaddr,
      serverId,
    }),
    MessageType.Ack,
  );
  const dhcpMs = performance.now() - t0;
  const file = ack.options.get(Opt.BootfileName)?.toString('latin1').replace(/\0.*$/, '') || ack.file;
  const script = await get(file);
  if (script.status !== 200 || !script.body) throw new Error(`script ${file}: ${script.status}`);
  const text = script.body.toString();
  const kernel = /^kernel (\S+)/m.exec(text)?.[1];
  const initrd = /^initrd --name \S+ (\S+)/m.exec(text)?.[1];
  if (!kernel || !initrd) throw new Error(`script without kernel/initrd:\n${text}`);
  let bytes = 0;
  for (const u of [kernel, initrd]) {
    const r = await get(u);
    if (r.status !== 200) throw new Error(`${u}: ${r.status}`);
    bytes += r.bytes;
  }
  return { dhcpMs, doneMs: performance.now() - t0, bytes };
}

const t0 = performance.now();
const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => client(i + 1)));
const wall = performance.now() - t0;
const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
const errors = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason).slice(0, 200));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
console.log(
  JSON.stringify({
    clients: count,
    served: ok.length,
    errors: errors.slice(0, 5),
    lastByteMs: Math.round(wall),
    dhcpP50: Math.round(
      pct(
        ok.map((o) => o.dhcpMs),
        0.5,
      ),
    ),
    dhcpMax: Math.round(
      pct(
        ok.map((o) => o.dhcpMs),
        1,
      ),
    ),
    doneP50: Math.round(
      pct(
        ok.map((o) => o.doneMs),
        0.5,
      ),
    ),
    doneP95: Math.round(
      pct(
        ok.map((o) => o.doneMs),
        0.95,
      ),
    ),
    gib: ok.reduce((s, o) => s + o.bytes, 0) / 2 ** 30,
    retransmits,
  }),
);
sock.close();
agent.destroy();
