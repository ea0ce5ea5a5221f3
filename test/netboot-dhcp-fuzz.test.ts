/**
 * A short DHCP fuzz run for CI (the 1,000,000-packet run with timing and memory goals is
 * bench/fuzz-dhcp.ts): mutated packets through the decoder and the pure server path, then at a
 * live server on loopback. Fixed seeds, so a failure replays.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fuzzDhcp, fuzzLiveDhcp, startLoopbackDhcp } from './support/dhcp-fuzz.ts';

it('decodes or refuses each of 20,000 mutated DHCP packets without crashing (seed 1)', () => {
  const r = fuzzDhcp(20_000, 1);
  assert.deepEqual(r.crashes, []);
  assert.ok(r.accepted > 1000 && r.rejected > 1000, `accepted ${r.accepted}, rejected ${r.rejected}`);
});

it('keeps answering after 5,000 mutated packets hit the live server (seed 7)', async () => {
  const { server, close } = await startLoopbackDhcp();
  try {
    assert.ok(
      await fuzzLiveDhcp({
        port: server.port,
        serverIp: '127.0.0.1',
        probeIp: '127.0.0.61',
        n: 5000,
        seed: 7,
      }),
    );
    assert.ok(server.stats.malformed > 0, 'malformed packets reached the server');
  } finally {
    await close();
  }
});
