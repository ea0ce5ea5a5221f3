/**
 * Fuzzes the TFTP decoder with mutated requests, ACKs, errors and OACKs, then (live) throws
 * mutated packets at a running server while a real transfer runs, and checks the transfer
 * arrives intact and the server still serves (test/support/tftp-fuzz.ts), at length; CI runs a
 * short, fixed-seed version (test/netboot-tftp-fuzz.test.ts). A crash is any exception other than
 * TftpDecodeError; a hang is one packet over 1 s (on a busy machine GC and preemption alone reach 100 ms).
 *   node --expose-gc bench/fuzz-tftp.ts [--n 1000000] [--seed 1] [--live 100000]
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startTftpServer } from '../src/netboot/tftp/index.ts';
import { fuzzLiveTftp, fuzzTftp } from '../test/support/tftp-fuzz.ts';

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      live: { type: 'string', default: '100000' },
    },
  });
  const res = fuzzTftp(Number(values.n), Number(values.seed));
  let live: Record<string, unknown> | null = null;
  if (Number(values.live) > 0) {
    const server = await startTftpServer({
      root: '/usr/lib/ipxe',
      bind: { address: '127.0.0.1', port: 0 },
      logger: pino({ level: 'silent' }),
    });
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const intact = await fuzzLiveTftp({ port: server.port, root: '/usr/lib/ipxe', n: Number(values.live) });
    live = {
      packets: Number(values.live),
      seconds: (performance.now() - t0) / 1000,
      intact,
      rssGrowthMb: (process.memoryUsage().rss - rss0) / 1048576,
      stats: { ...server.stats },
    };
    await server.close();
  }
  const { crashes, ...summary } = res;
  console.log(JSON.stringify({ fuzzer: 'tftp', ...summary, crashes: crashes.length, live }, null, 1));
  for (const c of crashes.slice(0, 3)) console.log(c.error, '\ninput:', c.input);
  process.exit(crashes.length || res.maxMs > 1000 || res.heapGrowthMb > 64 || live?.intact === false ? 1 : 0);
}
