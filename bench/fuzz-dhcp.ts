/**
 * Fuzzes the DHCP decoder and everything that reads a decoded packet with mutated real packets
 * (test/support/dhcp-fuzz.ts), at length: a crash is any exception other than DhcpDecodeError; a
 * hang is one packet taking more than 1 s (GC and preemption on a busy machine reach 100 ms);
 * memory must stay bounded. CI runs a short, fixed-seed version (test/netboot-dhcp-fuzz.test.ts).
 *   node --expose-gc bench/fuzz-dhcp.ts [--n 1000000] [--seed 1] [--live 100000]
 */
import { parseArgs } from 'node:util';
import { fuzzDhcp, fuzzLiveDhcp, startLoopbackDhcp } from '../test/support/dhcp-fuzz.ts';

async function liveRun(n: number) {
  const { server, close } = await startLoopbackDhcp();
  try {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const answering = await fuzzLiveDhcp({
      port: server.port,
      serverIp: '127.0.0.1',
      probeIp: '127.0.0.9',
      n,
    });
    return {
      packets: n,
      seconds: (performance.now() - t0) / 1000,
      answering,
      rssGrowthMb: (process.memoryUsage().rss - rss0) / 1048576,
      stats: server.stats,
    };
  } finally {
    await close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      live: { type: 'string', default: '100000' },
    },
  });
  const res = fuzzDhcp(Number(values.n), Number(values.seed));
  const { crashes, ...summary } = res;
  const live = Number(values.live) > 0 ? await liveRun(Number(values.live)) : null;
  console.log(JSON.stringify({ fuzzer: 'dhcp', ...summary, crashes: crashes.length, live }, null, 1));
  for (const c of crashes.slice(0, 3)) console.log(c.error, '\ninput:', c.input);
  process.exit(
    crashes.length || res.maxMs > 1000 || res.heapGrowthMb > 64 || live?.answering === false ? 1 : 0,
  );
}
