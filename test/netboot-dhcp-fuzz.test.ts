/**
 * A short fuzz run for CI (the 1,000,000-packet runs are bench/fuzz-dhcp.ts): mutated
 * packets through the decoder and the pure server path, then at a live server on loopback,
 * which must still answer afterwards.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fuzzDhcp, fuzzLiveDhcp, startLoopbackDhcp } from '../bench/fuzz-dhcp.ts';

it('survives 20,000 mutated DHCP packets in the decoder: no crash, no hang, bounded memory', () => {
  const r = fuzzDhcp(20_000, Date.now() & 0xffff);
  assert.deepEqual(r.crashes, []);
  assert.ok(r.accepted > 1000 && r.rejected > 1000, `accepted ${r.accepted}, rejected ${r.rejected}`);
  assert.ok(r.maxMs < 1000, `slowest packet ${r.maxMs} ms`);
  assert.ok(r.heapGrowthMb < 32, `heap grew ${r.heapGrowthMb} MB`);
});

it('keeps answering after 5,000 mutated packets hit the live server', async () => {
  const { server, close } = await startLoopbackDhcp();
  try {
    assert.ok(
      await fuzzLiveDhcp({ port: server.port, serverIp: '127.0.0.1', probeIp: '127.0.0.61', n: 5000 }),
    );
    assert.ok(server.stats.malformed > 0, 'malformed packets reached the server');
  } finally {
    await close();
  }
});
