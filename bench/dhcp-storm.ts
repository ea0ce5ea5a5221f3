/**
 * A DHCP storm from a relay's point of view: N distinct MACs each run DISCOVER → OFFER →
 * REQUEST → ACK through one giaddr, many at once, retrying on timeouts and NAKs (a server
 * restarting mid-storm is the point). Prints one line per ACK, `ack MAC IP`, and a final
 * `done ACKED/N` line. Used by test/netboot-dhcp-netns.test.ts (kill -9 mid-storm).
 *   node bench/dhcp-storm.ts --server 10.0.0.1 --giaddr 10.0.0.2 --clients 2000 [--window 64]
 *     [--timeout-ms 400] [--deadline-s 40] [--mac-prefix 02:5e] [--rate NEW_CLIENTS_PER_S]
 */
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { clientPacket } from '../src/netboot/dhcp/client-packet.ts';
import { MessageType, Opt } from '../src/netboot/dhcp/options.ts';
import { decodeDhcp, encodeDhcp, macOf } from '../src/netboot/dhcp/packet.ts';

const { values: a } = parseArgs({
  options: {
    server: { type: 'string' },
    giaddr: { type: 'string' },
    clients: { type: 'string', default: '1000' },
    window: { type: 'string', default: '64' },
    'timeout-ms': { type: 'string', default: '400' },
    'deadline-s': { type: 'string', default: '40' },
    'mac-prefix': { type: 'string', default: '02:5e' },
    rate: { type: 'string', default: '0' },
  },
});
const server = a.server!;
const giaddr = a.giaddr!;
const n = Number(a.clients);
const windowSize = Number(a.window);
const timeoutMs = Number(a['timeout-ms']);
const macs = Array.from({ length: n }, (_, i) => {
  const h = i.toString(16).padStart(8, '0');
  return `${a['mac-prefix']}:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}`;
});
const index = new Map(macs.map((m, i) => [m, i]));
const done = new Array<boolean>(n).fill(false);
const timers = new Array<NodeJS.Timeout | null>(n).fill(null);
let next = 0;
let acked = 0;

const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
await new Promise<void>((r) => sock.bind(67, giaddr, () => r()));

function send(i: number, type: MessageType, extra: { requestedIp?: string } = {}): void {
  const p = clientPacket({
    mac: macs[i],
    type,
    giaddr,
    xid: i,
    serverId: extra.requestedIp ? server : undefined,
    ...extra,
  });
  sock.send(encodeDhcp(p), 67, server);
  if (timers[i]) clearTimeout(timers[i]!);
  timers[i] = setTimeout(() => send(i, MessageType.Discover), timeoutMs); // lost or server down: start over
}

function finish(i: number): void {
  if (timers[i]) clearTimeout(timers[i]!);
  timers[i] = null;
  if (!done[i]) {
    done[i] = true;
    acked++;
  }
  if (next < n) {
    const i = next++;
    if (pace > 0)
      setTimeout(() => send(i, MessageType.Discover), Math.max(0, started + i * pace - Date.now()));
    else send(i, MessageType.Discover);
  }
  if (acked === n) end();
}
const pace = Number(a.rate) > 0 ? 1000 / Number(a.rate) : 0;
const started = Date.now();

sock.on('message', (msg) => {
  let p: ReturnType<typeof decodeDhcp>;
  try {
    p = decodeDhcp(msg);
  } catch {
    return;
  }
  const mac = macOf(p);
  const i = mac ? index.get(mac) : undefined;
  if (i === undefined || done[i]) return;
  const t = p.options.get(Opt.MessageType)?.[0];
  if (t === MessageType.Offer) send(i, MessageType.Request, { requestedIp: p.yiaddr });
  else if (t === MessageType.Ack) {
    process.stdout.write(`ack ${mac} ${p.yiaddr}\n`);
    finish(i);
  } else if (t === MessageType.Nak) send(i, MessageType.Discover);
});

function end(): void {
  for (const t of timers) if (t) clearTimeout(t);
  process.stdout.write(`done ${acked}/${n}\n`);
  sock.close();
  clearTimeout(deadline);
}
const deadline = setTimeout(end, Number(a['deadline-s']) * 1000);
for (; next < Math.min(windowSize, n); next++) send(next, MessageType.Discover);
