/**
 * A short TFTP fuzz run for CI (the 1,000,000-packet run with timing and memory goals is
 * bench/fuzz-tftp.ts): mutated packets through the decoder, then at a live server while a
 * transfer runs on loopback. Fixed seeds, so a failure replays.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import pino from 'pino';
import { fuzzLiveTftp, fuzzTftp } from './support/tftp-fuzz.ts';
import { startTftpServer } from '../src/netboot/tftp/index.ts';

it('decodes or refuses each of 20,000 mutated TFTP packets without crashing (seed 1)', () => {
  const r = fuzzTftp(20_000, 1);
  assert.deepEqual(r.crashes, []);
  assert.ok(r.accepted > 1000 && r.rejected > 1000, `accepted ${r.accepted}, rejected ${r.rejected}`);
});

it('finishes a transfer intact while 5,000 mutated packets hit the live server', async () => {
  const server = await startTftpServer({
    root: '/usr/lib/ipxe',
    bind: { address: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
  });
  try {
    assert.ok(await fuzzLiveTftp({ port: server.port, root: '/usr/lib/ipxe', n: 5000, seed: 7 }));
    assert.ok(server.stats.malformed > 0);
  } finally {
    await server.close();
  }
});
