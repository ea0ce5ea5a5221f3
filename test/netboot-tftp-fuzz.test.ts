/**
 * A short TFTP fuzz run for CI (the 1,000,000-packet run is bench/fuzz-tftp.ts): mutated
 * packets through the decoder, then at a live server while a transfer runs on loopback.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import pino from 'pino';
import { fuzzLiveTftp, fuzzTftp } from '../bench/fuzz-tftp.ts';
import { startTftpServer } from '../src/netboot/tftp/index.ts';

it('survives 20,000 mutated TFTP packets in the decoder: no crash, no hang, bounded memory', () => {
  const r = fuzzTftp(20_000, Date.now() & 0xffff);
  assert.deepEqual(r.crashes, []);
  assert.ok(r.accepted > 1000 && r.rejected > 1000, `accepted ${r.accepted}, rejected ${r.rejected}`);
  assert.ok(r.maxMs < 1000, `slowest packet ${r.maxMs} ms`);
  assert.ok(r.heapGrowthMb < 32, `heap grew ${r.heapGrowthMb} MB`);
});

it('finishes a transfer intact while 5,000 mutated packets hit the live server', async () => {
  const server = await startTftpServer({
    root: '/usr/lib/ipxe',
    bind: { address: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
  });
  try {
    assert.ok(await fuzzLiveTftp({ port: server.port, root: '/usr/lib/ipxe', n: 5000 }));
    assert.ok(server.stats.malformed > 0);
  } finally {
    await server.close();
  }
});
