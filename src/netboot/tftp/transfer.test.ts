/**
 * One transfer's block and ACK handling, driven packet by packet from a real UDP socket on
 * loopback: a block lost (never ACKed) is sent again after the timeout, a duplicate ACK never
 * makes a block go twice (the Sorcerer's Apprentice bug), out-of-order and not-yet-sent ACKs
 * change nothing, and other senders cannot disturb the transfer, connected socket or not.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { decodeTftp, Op, TftpErr, type TftpPacket } from './packet.ts';
import { runTransfer, type TransferParams } from './transfer.ts';

const sockets: dgram.Socket[] = [];
after(() => {
  for (const s of sockets) s.close();
});

async function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** A client socket with a queue of what it received. */
async function client() {
  const s = await udp();
  const queue: TftpPacket[] = [];
  const waiting: ((p: TftpPacket) => void)[] = [];
  s.on('message', (m) => {
    const p = decodeTftp(m);
    const w = waiting.shift();
    if (w) w(p);
    else queue.push(p);
  });
  return {
    s,
    port: s.address().port,
    next: () => {
      const p = queue.shift();
      return p ? Promise.resolve(p) : new Promise<TftpPacket>((r) => waiting.push(r));
    },
    /** Packets already received and not taken. */
    pending: () => queue.length,
    ack: (to: dgram.Socket, n: number) => {
      const b = Buffer.from([0, Op.Ack, n >> 8, n & 0xff]);
      return new Promise<void>((r) => s.send(b, to.address().port, '127.0.0.1', () => r()));
    },
  };
}

const dataBlock = (p: TftpPacket) => {
  assert.equal(p.op, Op.Data);
  return p as Extract<TftpPacket, { op: typeof Op.Data }>;
};

const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
const params = (o: Partial<TransferParams> = {}): TransferParams => ({
  data,
  blksize: 8,
  windowsize: 1,
  timeoutMs: 5000,
  retries: 3,
  oack: null,
  ...o,
});
// 100 bytes in blocks of 8: twelve full blocks and a short 13th.
const TOTAL = 13;

/** ACKs every block in lock-step from `from` on, counting each block number received. */
async function drain(c: Awaited<ReturnType<typeof client>>, server: dgram.Socket, seen: Map<number, number>) {
  for (;;) {
    const d = dataBlock(await c.next());
    seen.set(d.block, (seen.get(d.block) ?? 0) + 1);
    await c.ack(server, d.block);
    if (d.block === TOTAL) return;
  }
}

describe('TFTP transfer: blocks and ACKs', () => {
  it('sends a block again when its ACK does not come, then finishes', async () => {
    const server = await udp();
    const c = await client();
    const done = runTransfer(server, { address: '127.0.0.1', port: c.port }, params({ timeoutMs: 100 }));
    const first = dataBlock(await c.next());
    assert.equal(first.block, 1);
    // The client "lost" it: no ACK. The server's timeout resends the same block, same bytes.
    const again = dataBlock(await c.next());
    assert.equal(again.block, 1);
    assert.ok(again.data.equals(first.data));
    await c.ack(server, 1);
    await drain(c, server, new Map());
    const r = await done;
    assert.equal(r.ok, true);
    assert.equal(r.ok && r.bytes, 100);
  });

  it('gives up after its retries with an error to the client', async () => {
    const server = await udp();
    const c = await client();
    const r = await runTransfer(
      server,
      { address: '127.0.0.1', port: c.port },
      params({ timeoutMs: 20, retries: 2 }),
    );
    assert.deepEqual(r, { ok: false, reason: 'no ACK after 2 retries' });
    const got: TftpPacket[] = [];
    for (let p = await c.next(); ; p = await c.next()) {
      got.push(p);
      if (p.op === Op.Error) break;
    }
    assert.equal(got.filter((p) => p.op === Op.Data).length, 3, 'the block, then two resends');
    assert.equal(got.length, 4, 'then the error, nothing else');
  });

  it('never sends a block twice for a duplicate ACK (no Sorcerer’s Apprentice)', async () => {
    const server = await udp();
    const c = await client();
    const done = runTransfer(server, { address: '127.0.0.1', port: c.port }, params());
    const seen = new Map<number, number>();
    const one = dataBlock(await c.next());
    seen.set(one.block, 1);
    await c.ack(server, 1);
    await c.ack(server, 1); // duplicated in the network
    await drain(c, server, seen);
    assert.equal((await done).ok, true);
    assert.deepEqual(
      [...seen.values()],
      Array.from({ length: TOTAL }, () => 1),
      'every block exactly once',
    );
  });

  it('ignores out-of-order and not-yet-sent ACKs in a window and tops the window up from the real one', async () => {
    const server = await udp();
    const c = await client();
    const done = runTransfer(server, { address: '127.0.0.1', port: c.port }, params({ windowsize: 4 }));
    const blocks = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(dataBlock(await c.next()).block);
      return out;
    };
    assert.deepEqual(await blocks(4), [1, 2, 3, 4]);
    await c.ack(server, 9); // a block not sent yet: ignored
    await c.ack(server, 2); // the client got 1-2 (3 was lost): the window moves to 3..6
    assert.deepEqual(await blocks(2), [5, 6], 'only the blocks new to the window go out');
    await c.ack(server, 1); // arrives late, out of order: ignored
    await c.ack(server, 6); // window 7..10
    assert.deepEqual(await blocks(4), [7, 8, 9, 10]);
    await c.ack(server, 10);
    assert.deepEqual(await blocks(3), [11, 12, 13]);
    await c.ack(server, 13);
    assert.equal((await done).ok, true);
    assert.equal(c.pending(), 0, 'no block was resent');
  });

  it('answers another sender with "unknown transfer ID" on an unconnected socket, and carries on', async () => {
    const server = await udp();
    const c = await client();
    const stranger = await client();
    const done = runTransfer(server, { address: '127.0.0.1', port: c.port }, params());
    dataBlock(await c.next());
    await stranger.ack(server, 1);
    const err = await stranger.next();
    assert.equal(err.op, Op.Error);
    assert.equal((err as { code: number }).code, TftpErr.UnknownTid);
    await c.ack(server, 1);
    await drain(c, server, new Map());
    assert.equal((await done).ok, true);
  });

  it('on a connected socket (the server’s) another sender never reaches the transfer', async () => {
    const server = await udp();
    const c = await client();
    const stranger = await client();
    await new Promise<void>((r) => server.connect(c.port, '127.0.0.1', () => r()));
    const done = runTransfer(server, { address: '127.0.0.1', port: c.port }, params());
    dataBlock(await c.next());
    await stranger.ack(server, 1);
    await c.ack(server, 1);
    await drain(c, server, new Map());
    assert.equal((await done).ok, true);
    assert.equal(stranger.pending(), 0, 'the kernel dropped it: no TFTP answer, nothing changed');
  });
});
